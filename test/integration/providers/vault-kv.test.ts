// Reading KV v2 and KV v1 secrets from the real OpenBao through the Vault provider, with
// token auth (a policy-limited token kept in a Kubernetes Secret): properties, whole
// secrets, every property, pinned and deleted versions, and the not-found errors.
import { InvalidSpecError, KeyNotFoundError, SourceAuthError, SourceNotFoundError } from '../../../src/errors.js';
import type { SecretProvider } from '../../../src/providers/provider.js';
import { uniqueName } from '../../helpers/stack.js';
import {
  KV1_MOUNT,
  callLog,
  canary,
  createNamespace,
  createSecret,
  deleteNamespace,
  deps,
  ensureKvV1,
  readPolicy,
  root,
  vaultOverHttp,
  vaultSource,
  type CallLog,
} from './vault-fixtures.js';
import { failureLog } from '../../helpers/rejection.js';

const prefix = uniqueName('kv');
const policy = uniqueName('secretsync-kv');
const canaries: string[] = [];
const { messages, failure } = failureLog();
const providers: SecretProvider[] = [];
let namespace: string;
let token: string;

function secretValue(): string {
  const c = canary();
  canaries.push(c);
  return c;
}

function provider(opts: { kv?: { mount?: string; version?: 1 | 2 }; log?: CallLog } = {}): SecretProvider {
  const source = vaultSource(namespace, { kv: opts.kv, auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } } });
  const p = vaultOverHttp.create(source, deps(namespace, opts.log));
  providers.push(p);
  return p;
}

beforeAll(async () => {
  await ensureKvV1();
  await readPolicy(policy, [`secret/data/${prefix}/*`, `${KV1_MOUNT}/${prefix}/*`]);
  const created = (await root.write('auth/token/create', { policies: [policy], ttl: '1h', no_default_policy: false })) as {
    auth: { client_token: string };
  };
  token = created.auth.client_token;
  namespace = await createNamespace('vault-kv');
  await createSecret(namespace, 'vault-token', { token });
});

afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  // No error message of any test may carry a secret value or the token.
  for (const m of messages) {
    for (const c of [...canaries, token]) expect(m).not.toContain(c);
  }
  await root.write('auth/token/revoke', { token }).catch(() => undefined);
  await root.delete(`sys/policy/${policy}`).catch(() => undefined);
  await deleteNamespace(namespace);
});

describe('KV v2', () => {
  const path = `${prefix}/db`;
  let v1: { password: string; username: string };
  let v2: { password: string; username: string; port: number; tls: { mode: string; ca: string }; 'tls.mode': string };

  beforeAll(async () => {
    v1 = { username: 'app', password: secretValue() };
    v2 = {
      username: 'app',
      password: secretValue(),
      port: 5432,
      tls: { mode: 'verify-full', ca: secretValue() },
      'tls.mode': 'literal-key-wins',
    };
    await root.write(`secret/data/${path}`, { data: v1 });
    await root.write(`secret/data/${path}`, { data: v2 });
  });

  afterAll(async () => {
    await root.delete(`secret/metadata/${path}`).catch(() => undefined);
  });

  test('a property is its string value as UTF-8, with the latest version id', async () => {
    const got = await provider().getSecret({ path, property: 'password' });
    expect(got.value.toString('utf8')).toBe(v2.password);
    expect(got.version).toBe('2');
  });

  test('without property the whole data map comes back as JSON', async () => {
    const got = await provider().getSecret({ path });
    expect(JSON.parse(got.value.toString('utf8'))).toEqual(v2);
  });

  test('non-string values are JSON-encoded; a dotted path reaches nested keys unless a literal key has that name', async () => {
    const p = provider();
    expect((await p.getSecret({ path, property: 'port' })).value.toString()).toBe('5432');
    expect(JSON.parse((await p.getSecret({ path, property: 'tls' })).value.toString())).toEqual(v2.tls);
    expect((await p.getSecret({ path, property: 'tls.ca' })).value.toString()).toBe(v2.tls.ca);
    expect((await p.getSecret({ path, property: 'tls.mode' })).value.toString()).toBe('literal-key-wins');
  });

  test('getSecretMap returns every top-level property', async () => {
    const got = await provider().getSecretMap({ path });
    expect(Object.keys(got.values).sort()).toEqual(['password', 'port', 'tls', 'tls.mode', 'username']);
    expect(got.values.password?.toString()).toBe(v2.password);
    expect(got.values.port?.toString()).toBe('5432');
    expect(JSON.parse(got.values.tls?.toString() ?? '')).toEqual(v2.tls);
    expect(got.version).toBe('2');
  });

  test('a pinned older version reads that version', async () => {
    const p = provider();
    const got = await p.getSecret({ path, property: 'password', version: '1' });
    expect(got.value.toString()).toBe(v1.password);
    expect(got.version).toBe('1');
    const map = await p.getSecretMap({ path, version: '1' });
    expect(Object.keys(map.values).sort()).toEqual(['password', 'username']);
    expect(map.version).toBe('1');
  });

  test('a missing property is KeyNotFound naming path and property, never a value', async () => {
    const err = await failure(provider().getSecret({ path, property: 'nope' }));
    expect(err).toBeInstanceOf(KeyNotFoundError);
    expect(err.message).toContain(path);
    expect(err.message).toContain('"nope"');
    const nested = await failure(provider().getSecret({ path, property: 'tls.nope' }));
    expect(nested).toBeInstanceOf(KeyNotFoundError);
  });

  test('a version that does not exist is SourceNotFound', async () => {
    const err = await failure(provider().getSecret({ path, property: 'password', version: '99' }));
    expect(err).toBeInstanceOf(SourceNotFoundError);
  });

  test('invalid versions and paths are InvalidSpec, before any call to Vault', async () => {
    const log = callLog();
    const p = provider({ log });
    expect(await failure(p.getSecret({ path, version: 'latest' }))).toBeInstanceOf(InvalidSpecError);
    expect(await failure(p.getSecret({ path: `${prefix}/../../sys/policy` }))).toBeInstanceOf(InvalidSpecError);
    expect(await failure(p.getSecretMap({ path: '' }))).toBeInstanceOf(InvalidSpecError);
    expect(log.count('read') + log.count('login')).toBe(0);
  });
});

describe('KV v2 deleted and destroyed versions', () => {
  const path = `${prefix}/rotated`;

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) await root.write(`secret/data/${path}`, { data: { key: secretValue() } });
    await root.write(`secret/delete/${path}`, { versions: [1] });
    await root.write(`secret/destroy/${path}`, { versions: [2] });
  });

  afterAll(async () => {
    await root.delete(`secret/metadata/${path}`).catch(() => undefined);
  });

  test('a soft-deleted version is SourceNotFound', async () => {
    const err = await failure(provider().getSecret({ path, property: 'key', version: '1' }));
    expect(err).toBeInstanceOf(SourceNotFoundError);
    expect(err.message).toContain(path);
  });

  test('a destroyed version is SourceNotFound', async () => {
    expect(await failure(provider().getSecretMap({ path, version: '2' }))).toBeInstanceOf(SourceNotFoundError);
  });

  test('the latest version still reads', async () => {
    expect((await provider().getSecret({ path, property: 'key' })).version).toBe('3');
  });

  test('a soft-deleted latest version is SourceNotFound', async () => {
    await root.delete(`secret/data/${path}`);
    expect(await failure(provider().getSecret({ path, property: 'key' }))).toBeInstanceOf(SourceNotFoundError);
  });
});

describe('KV v1', () => {
  const path = `${prefix}/legacy`;
  let data: Record<string, unknown>;

  beforeAll(async () => {
    data = { apiKey: secretValue(), retries: 3 };
    await root.write(`${KV1_MOUNT}/${path}`, data);
  });

  afterAll(async () => {
    await root.delete(`${KV1_MOUNT}/${path}`).catch(() => undefined);
  });

  const kv = { mount: KV1_MOUNT, version: 1 as const };

  test('reads a property, the whole secret and every property, version "unversioned"', async () => {
    const p = provider({ kv });
    const one = await p.getSecret({ path, property: 'apiKey' });
    expect(one.value.toString()).toBe(data.apiKey);
    expect(one.version).toBe('unversioned');
    expect(JSON.parse((await p.getSecret({ path })).value.toString())).toEqual(data);
    const map = await p.getSecretMap({ path });
    expect(map.values.retries?.toString()).toBe('3');
    expect(map.version).toBe('unversioned');
  });

  test('a version pin on KV v1 is InvalidSpec', async () => {
    const err = await failure(provider({ kv }).getSecret({ path, property: 'apiKey', version: '1' }));
    expect(err).toBeInstanceOf(InvalidSpecError);
    expect(err.message).toMatch(/version 1/);
  });

  test('a missing path is SourceNotFound', async () => {
    expect(await failure(provider({ kv }).getSecret({ path: `${prefix}/absent` }))).toBeInstanceOf(SourceNotFoundError);
  });
});

describe('not found and denied', () => {
  test('a missing KV v2 path is SourceNotFound naming the path', async () => {
    const err = await failure(provider().getSecret({ path: `${prefix}/absent`, property: 'x' }));
    expect(err).toBeInstanceOf(SourceNotFoundError);
    expect(err.message).toContain(`${prefix}/absent`);
    expect((err as SourceNotFoundError).code).toBe('ESS_SOURCE_NOT_FOUND');
  });

  test('a path the policy does not allow is SourceAuthFailed naming the policy line, without a re-login', async () => {
    const outside = uniqueName('outside');
    await root.write(`secret/data/${outside}`, { data: { k: secretValue() } });
    try {
      const log = callLog();
      const err = await failure(provider({ log }).getSecret({ path: outside, property: 'k' }));
      expect(err).toBeInstanceOf(SourceAuthError);
      expect((err as SourceAuthError).reason).toBe('SourceAuthFailed');
      expect(err.message).toContain(`path "secret/data/${outside}" { capabilities = ["read"] }`);
      expect(log.count('login')).toBe(1);
      expect(log.count('lookup', 'success')).toBe(1);
      expect(log.count('read', 'error')).toBe(1);
    } finally {
      await root.delete(`secret/metadata/${outside}`).catch(() => undefined);
    }
  });
});
