// Rotation writes to the real OpenBao through the Vault provider, with token auth (tokens
// kept in a Kubernetes Secret): a check-and-set write of the new properties that keeps the
// others byte for byte, `moved` when the secret is past basedOn, a repeated call that
// writes nothing, and the refusals (KV v1, a whole value, a read-only policy, no secret).
import { randomUUID } from 'node:crypto';
import { InvalidSpecError, SourceAuthError, SourceNotFoundError } from '../../../src/errors.js';
import type { RemoteMap, SecretProvider } from '../../../src/providers/provider.js';
import { failureLog } from '../../helpers/rejection.js';
import { uniqueName } from '../../helpers/stack.js';
import { createVaultProviderFactory } from '../../../src/providers/vault/index.js';
import {
  callLog,
  canary,
  createNamespace,
  createSecret,
  deleteNamespace,
  deps,
  root,
  vaultOverHttp,
  vaultSource,
  type CallLog,
} from './vault-fixtures.js';

const prefix = uniqueName('rot-prov-vault');
const writer = uniqueName('rot-prov-rw');
const reader = uniqueName('rot-prov-ro');
const kv1 = uniqueName('rot-prov-kv1');
const canaries: string[] = [];
const tokens: string[] = [];
const paths: string[] = [];
const { messages, failure } = failureLog();
const providers: SecretProvider[] = [];
let namespace: string;

function secretValue(): string {
  const c = canary();
  canaries.push(c);
  return c;
}

function path(name: string): string {
  const p = `${prefix}/${name}`;
  paths.push(p);
  return p;
}

function provider(opts: { token?: string; kv?: { mount?: string; version?: 1 | 2 }; log?: CallLog } = {}): SecretProvider {
  const source = vaultSource(namespace, { kv: opts.kv, auth: { token: { secretRef: { name: opts.token ?? writer, key: 'token' } } } });
  const p = vaultOverHttp.create(source, deps(namespace, opts.log));
  providers.push(p);
  return p;
}

async function tokenFor(policy: string, rules: string): Promise<void> {
  await root.write(`sys/policy/${policy}`, { policy: rules });
  const created = (await root.write('auth/token/create', { policies: [policy], ttl: '1h' })) as { auth: { client_token: string } };
  tokens.push(created.auth.client_token);
  await createSecret(namespace, policy, { token: created.auth.client_token });
}

/** The secret's current_version and how many versions it has, as the root token sees them. */
async function versions(p: string, mount = 'secret'): Promise<{ current: number; count: number }> {
  const meta = (await root.read(`${mount}/metadata/${p}`)) as { data: { current_version: number; versions: Record<string, unknown> } };
  return { current: meta.data.current_version, count: Object.keys(meta.data.versions).length };
}

function text(map: RemoteMap, key: string): string {
  return map.values[key]?.toString('utf8') ?? '<missing>';
}

beforeAll(async () => {
  namespace = await createNamespace('rot-prov-vault');
  await tokenFor(writer, `path "secret/data/${prefix}/*" { capabilities = ["read", "create", "update"] }`);
  await tokenFor(reader, `path "secret/data/${prefix}/*" { capabilities = ["read"] }`);
  await root.write(`sys/mounts/${kv1}`, { type: 'kv', options: { version: '1' } });
});

afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  // No error message of any test may carry a secret value or a token.
  for (const m of messages) for (const c of [...canaries, ...tokens]) expect(m).not.toContain(c);
  for (const p of paths) await root.delete(`secret/metadata/${p}`).catch(() => undefined);
  for (const t of tokens) await root.write('auth/token/revoke', { token: t }).catch(() => undefined);
  for (const policy of [writer, reader]) await root.delete(`sys/policy/${policy}`).catch(() => undefined);
  await root.delete(`sys/mounts/${kv1}`).catch(() => undefined);
  await deleteNamespace(namespace);
});

test('written: a new version with the set properties changed and every other one kept byte for byte', async () => {
  const p = path('db');
  await root.write(`secret/data/${p}`, {
    data: { username: 'app', password: secretValue(), port: 5432, tls: { mode: 'verify-full', ca: secretValue() }, note: 'ünïcode ✓' },
  });
  const log = callLog();
  const vault = provider({ log });
  const before = await vault.getSecretMap({ path: p });
  expect(before.version).toBe('1');

  const password = secretValue();
  const result = await vault.rotate!({ path: p, id: randomUUID(), basedOn: before.version, set: { password: Buffer.from(password) } });
  expect(result).toEqual({ outcome: 'written', version: '2' });
  expect(log.count('kv-write', 'success')).toBe(1);

  const after = await vault.getSecretMap({ path: p }); // the same provider sees the new version at once
  expect(after.version).toBe('2');
  expect(text(after, 'password')).toBe(password);
  expect(Object.keys(after.values).sort()).toEqual(Object.keys(before.values).sort());
  for (const key of ['username', 'port', 'tls', 'note']) expect(after.values[key]?.equals(before.values[key] as Buffer)).toBe(true);
  expect(await versions(p)).toEqual({ current: 2, count: 2 });
});

test('called twice with the same arguments: written once, then moved to that version', async () => {
  const p = path('twice');
  await root.write(`secret/data/${p}`, { data: { password: secretValue(), user: 'app' } });
  const w = { path: p, id: randomUUID(), basedOn: '1', set: { password: Buffer.from(secretValue()) } };
  const vault = provider();
  expect(await vault.rotate!(w)).toEqual({ outcome: 'written', version: '2' });
  // As after a crash between the write and recording it: a fresh provider, the same call.
  expect(await provider().rotate!(w)).toEqual({ outcome: 'moved', version: '2' });
  expect(await versions(p)).toEqual({ current: 2, count: 2 });
});

test('moved: the secret is no longer at basedOn, and nothing is written', async () => {
  const p = path('moved');
  await root.write(`secret/data/${p}`, { data: { password: secretValue() } });
  await root.write(`secret/data/${p}`, { data: { password: secretValue() } }); // another writer
  const result = await provider().rotate!({ path: p, id: randomUUID(), basedOn: '1', set: { password: Buffer.from(secretValue()) } });
  expect(result).toEqual({ outcome: 'moved', version: '2' });
  expect(await versions(p)).toEqual({ current: 2, count: 2 });
});

test("a write between our read and our write: OpenBao refuses the check-and-set, moved, the other writer's version stays", async () => {
  const p = path('race');
  await root.write(`secret/data/${p}`, { data: { password: secretValue() } });
  const theirs = secretValue();
  const racing = createVaultProviderFactory({
    allowInsecureHttp: true,
    wrapHttp: (http) => ({
      read: (apiPath, token) => http.read(apiPath, token),
      write: async (apiPath, body, token) => {
        if (apiPath === `secret/data/${p}`) await root.write(apiPath, { data: { password: theirs } });
        return http.write(apiPath, body, token);
      },
    }),
  });
  const log = callLog();
  const vault = racing.create(vaultSource(namespace, { auth: { token: { secretRef: { name: writer, key: 'token' } } } }), deps(namespace, log));
  providers.push(vault);
  const result = await vault.rotate!({ path: p, id: randomUUID(), basedOn: '1', set: { password: Buffer.from(secretValue()) } });
  expect(result).toEqual({ outcome: 'moved', version: '2' });
  expect(log.count('kv-write', 'error')).toBe(1);
  expect(await versions(p)).toEqual({ current: 2, count: 2 });
  expect((await vault.getSecret({ path: p, property: 'password' })).value.toString()).toBe(theirs);
});

test('a token whose policy only reads: denied with the policy line to add, nothing written', async () => {
  const p = path('read-only');
  await root.write(`secret/data/${p}`, { data: { password: secretValue() } });
  const vault = provider({ token: reader });
  const err = await failure(vault.rotate!({ path: p, id: randomUUID(), basedOn: '1', set: { password: Buffer.from(secretValue()) } }));
  expect(err).toBeInstanceOf(SourceAuthError);
  expect(err.message).toContain(`"${p}"`);
  expect(err.message).toContain(`path "secret/data/${p}" { capabilities = ["read", "create", "update"] }`);
  expect(await versions(p)).toEqual({ current: 1, count: 1 });
  expect((await vault.getSecretMap({ path: p })).version).toBe('1'); // reading still works
});

test('a KV v1 mount is refused: rotation needs versions and check-and-set', async () => {
  const p = path('v1');
  const value = secretValue();
  await root.write(`${kv1}/${p}`, { password: value });
  const err = await failure(
    provider({ kv: { mount: kv1, version: 1 } }).rotate!({ path: p, id: randomUUID(), basedOn: '1', set: { password: Buffer.from(secretValue()) } }),
  );
  expect(err).toBeInstanceOf(InvalidSpecError);
  expect(err.message).toContain('rotation needs a KV v2 mount (versions and check-and-set)');
  expect(((await root.read(`${kv1}/${p}`)) as { data: { password: string } }).data.password).toBe(value);
});

test('a whole value is refused (a KV secret is a map); a missing secret is SourceNotFound', async () => {
  const vault = provider();
  const whole = await failure(vault.rotate!({ path: path('whole'), id: randomUUID(), basedOn: '1', set: {}, whole: Buffer.from(secretValue()) }));
  expect(whole).toBeInstanceOf(InvalidSpecError);
  expect(whole.message).toContain('name a property');
  const missing = await failure(vault.rotate!({ path: path('missing'), id: randomUUID(), basedOn: '1', set: { a: Buffer.from('b') } }));
  expect(missing).toBeInstanceOf(SourceNotFoundError);
});
