// The provider contract suite (after External Secrets Operator's shared e2e cases): one set
// of cases every SecretProvider passes against its real server. A provider joins by
// writing a harness: how to build a working provider, one with refused credentials and
// one pointed at a closed port, and how to write a secret (a flat JSON map) and a new
// version of it at the server. The cases: whole value, one property, every property, a
// pinned older version, a missing property, a missing secret, refused credentials, an
// unreachable server, and that no error text ever carries a secret value or a credential.
import { KeyNotFoundError, SourceAuthError, SourceNotFoundError, SourceUnavailableError } from '../../../../src/errors.js';
import type { SecretProvider } from '../../../../src/providers/provider.js';
import { canary } from '../../../helpers/canary.js';
import { uniqueName } from '../../../helpers/stack.js';
import { rejection } from '../../../helpers/rejection.js';

export interface WrittenSecret {
  /** remoteRef.path to read it at. */
  path: string;
  /** The provider version id of what was written (as status.sourceVersions reports it). */
  version: string;
}

export interface ProviderHarness {
  /** Arrange the server and Kubernetes (namespace, credential Secrets). */
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A provider whose credentials may read what write() writes. */
  provider(): SecretProvider;
  /** The same, with credentials the server refuses. */
  badCredentialsProvider(): SecretProvider;
  /** The same, pointed at a loopback port nothing listens on. */
  unreachableProvider(): Promise<SecretProvider>;
  /** Writes `data` as a new secret at a fresh path (JSON map). */
  write(data: Record<string, string>): Promise<WrittenSecret>;
  /** Writes a new version of the secret at `path`; returns its version id. */
  update(path: string, data: Record<string, string>): Promise<string>;
  /** A path (under the harness's prefix) where no secret exists. */
  missingPath(): string;
  /** Every credential the harness handed out: none may appear in an error message. */
  credentials(): string[];
}

/** A value nobody writes by accident. */
function canaryValue(): string {
  return canary(uniqueName('c'));
}

export function describeProviderContract(name: string, harness: ProviderHarness): void {
  describe(`${name}: provider contract`, () => {
    const canaries: string[] = [];
    const messages: string[] = [];
    const open: SecretProvider[] = [];
    const track = (p: SecretProvider) => (open.push(p), p);
    const fresh = () => track(harness.provider());
    const failure = async (p: Promise<unknown>) => {
      const err = await rejection(p);
      messages.push(err.message);
      return err;
    };
    const value = () => {
      const c = canaryValue();
      canaries.push(c);
      return c;
    };
    let db: WrittenSecret;
    let data: Record<string, string>;

    beforeAll(async () => {
      await harness.setup();
      data = { username: 'app', password: value(), url: 'postgres://db:5432/app' };
      db = await harness.write(data);
    });

    afterEach(async () => {
      await Promise.all(open.splice(0).map((p) => p.close()));
    });

    afterAll(async () => {
      await harness.teardown();
    });

    test('reads the whole value: the JSON of the map, with its version id', async () => {
      const got = await fresh().getSecret({ path: db.path });
      expect(JSON.parse(got.value.toString('utf8'))).toEqual(data);
      expect(got.version).toBe(db.version);
    });

    test('reads one property as UTF-8', async () => {
      const got = await fresh().getSecret({ path: db.path, property: 'password' });
      expect(got.value.toString('utf8')).toBe(data.password);
      expect(got.version).toBe(db.version);
    });

    test('reads every property (dataFrom)', async () => {
      const got = await fresh().getSecretMap({ path: db.path });
      expect(Object.fromEntries(Object.entries(got.values).map(([k, v]) => [k, v.toString('utf8')]))).toEqual(data);
      expect(got.version).toBe(db.version);
    });

    test('a pinned version reads that version; unpinned reads the newest', async () => {
      const first = { key: value() };
      const secret = await harness.write(first);
      const second = { key: value(), added: 'yes' };
      const v2 = await harness.update(secret.path, second);
      expect(v2).not.toBe(secret.version);
      const p = fresh();
      const pinned = await p.getSecret({ path: secret.path, property: 'key', version: secret.version });
      expect(pinned.value.toString()).toBe(first.key);
      expect(pinned.version).toBe(secret.version);
      const pinnedMap = await p.getSecretMap({ path: secret.path, version: secret.version });
      expect(Object.keys(pinnedMap.values)).toEqual(['key']);
      const latest = await p.getSecret({ path: secret.path, property: 'key' });
      expect(latest.value.toString()).toBe(second.key);
      expect(latest.version).toBe(v2);
    });

    test('a missing property is KeyNotFound naming path and property', async () => {
      const err = await failure(fresh().getSecret({ path: db.path, property: 'nope' }));
      expect(err).toBeInstanceOf(KeyNotFoundError);
      expect(err.message).toContain(db.path);
      expect(err.message).toContain('"nope"');
    });

    test('a secret that does not exist is SourceNotFound', async () => {
      const p = fresh();
      const err = await failure(p.getSecret({ path: harness.missingPath(), property: 'x' }));
      expect(err).toBeInstanceOf(SourceNotFoundError);
      expect((err as SourceNotFoundError).reason).toBe('SourceNotFound');
      expect(err.message).toContain(harness.missingPath());
      expect(await failure(p.getSecretMap({ path: harness.missingPath() }))).toBeInstanceOf(SourceNotFoundError);
    });

    test('refused credentials are SourceAuthFailed', async () => {
      const err = await failure(track(harness.badCredentialsProvider()).getSecret({ path: db.path, property: 'password' }));
      expect(err).toBeInstanceOf(SourceAuthError);
      expect((err as SourceAuthError).reason).toBe('SourceAuthFailed');
    });

    test('an unreachable server is SourceUnavailable', async () => {
      const p = track(await harness.unreachableProvider());
      const err = await failure(p.getSecret({ path: db.path, property: 'password' }));
      expect(err).toBeInstanceOf(SourceUnavailableError);
      expect((err as SourceUnavailableError).reason).toBe('SourceUnavailable');
      expect(await failure(p.getSecretMap({ path: db.path }))).toBeInstanceOf(SourceUnavailableError);
    });

    test('no error text carries a secret value or a credential', async () => {
      const p = fresh();
      // Failures around a secret whose values are canaries, on every path that can fail.
      await failure(p.getSecret({ path: db.path, property: 'password.inner' }));
      await failure(p.getSecret({ path: db.path, property: 'missing', version: db.version }));
      await failure(track(harness.badCredentialsProvider()).getSecretMap({ path: db.path }));
      expect(messages.length).toBeGreaterThanOrEqual(3);
      const forbidden = [...canaries, ...harness.credentials()].filter((s) => s.length >= 4);
      const leaks = messages.flatMap((m, i) => forbidden.filter((s) => m.includes(s)).map(() => `message ${i}`));
      expect(leaks).toEqual([]); // names the message, never the value
    });
  });
}
