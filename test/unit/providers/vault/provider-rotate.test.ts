// VaultProvider.rotate over a scripted VaultHttp holding one KV v2 secret with Vault's
// check-and-set rule: which calls it makes, how a cas refusal and a denial come back, and
// that a repeated call writes nothing. Behaviour against the real OpenBao is in
// test/integration/providers/vault-rotate.test.ts.
import { SourceAuthError, SourceNotFoundError } from '../../../../src/errors.js';
import type { RotationWrite } from '../../../../src/providers/provider.js';
import type { Authenticator } from '../../../../src/providers/vault/auth.js';
import type { VaultHttp } from '../../../../src/providers/vault/client.js';
import { VaultProvider } from '../../../../src/providers/vault/provider.js';
import { rejection } from '../../../helpers/rejection.js';

const DATA = 'secret/data/app/db';

function vaultError(status: number, message: string): Error {
  return Object.assign(new Error(message), { response: { statusCode: status } });
}

function setup(o: { deny?: 'read' | 'write'; missing?: boolean; writeBetween?: boolean } = {}) {
  const versions: Record<string, unknown>[] = [{ username: 'app', password: 'old', port: 5432 }];
  const ops: string[] = [];
  const writes: unknown[] = [];
  const auth: Authenticator = {
    method: 'token',
    identity: 'the token in Secret apps/vault-token',
    login: async () => ({ token: 'tok-1', ttlSeconds: 0, renewable: false, owned: false }),
  };
  const http: VaultHttp = {
    read: async (path) => {
      if (path === 'auth/token/lookup-self') return { data: {} };
      if (o.deny === 'read') throw vaultError(403, 'permission denied');
      if (o.missing || path.replace(/\?.*$/, '') !== DATA) throw vaultError(404, 'Status 404');
      return { data: { data: versions.at(-1), metadata: { version: versions.length } } };
    },
    write: async (path, body) => {
      if (o.deny === 'write') throw vaultError(403, 'permission denied');
      if (path !== DATA) throw vaultError(404, 'Status 404');
      if (o.writeBetween) versions.push({ ...versions.at(-1), other: 'writer' });
      const b = body as { options: { cas: number }; data: Record<string, unknown> };
      if (b.options.cas !== versions.length) throw vaultError(400, 'check-and-set parameter did not match the current version');
      writes.push(b);
      versions.push(b.data);
      return { data: { version: versions.length } };
    },
  };
  const provider = new VaultProvider({
    source: 'SecretSource/apps/vault',
    host: 'vault:8200',
    kv: { mount: 'secret', version: 2 },
    http,
    auth,
    onCall: (op, result) => (op === 'login' ? undefined : ops.push(`${op}:${result}`)),
  });
  return { provider, ops, writes, versions };
}

const w: RotationWrite = { path: 'app/db', id: 'id-1', basedOn: '1', set: { password: Buffer.from('new') } };

test('written: one read, one cas write of the merged data; a read after it sees the new version', async () => {
  const s = setup();
  expect(await s.provider.rotate(w)).toEqual({ outcome: 'written', version: '2' });
  expect(s.writes).toEqual([{ options: { cas: 1 }, data: { username: 'app', password: 'new', port: 5432 } }]);
  expect(s.ops).toEqual(['read:success', 'kv-write:success']);
  expect(await s.provider.getSecretMap({ path: 'app/db' })).toMatchObject({ version: '2' });
});

test('a read shared before the rotation is not served after it, whatever notBefore a caller accepts', async () => {
  const s = setup();
  expect(await s.provider.getSecretMap({ path: 'app/db' }, { notBefore: 0 })).toMatchObject({ version: '1' });
  expect(await s.provider.getSecret({ path: 'app/db', property: 'password', version: '1' }, { notBefore: 0 })).toMatchObject({ version: '1' });
  await s.provider.rotate(w);
  expect(await s.provider.getSecretMap({ path: 'app/db' }, { notBefore: 0 })).toMatchObject({ version: '2' });
  expect(s.ops).toEqual(['read:success', 'read:success', 'read:success', 'kv-write:success', 'read:success']);
});

test('a failed rotation also drops the shared reads of its path (a failed write may have landed)', async () => {
  const s = setup({ deny: 'write' });
  await s.provider.getSecretMap({ path: 'app/db' }, { notBefore: 0 });
  await rejection(s.provider.rotate(w));
  await s.provider.getSecretMap({ path: 'app/db' }, { notBefore: 0 });
  expect(s.ops.filter((op) => op.startsWith('read'))).toEqual(['read:success', 'read:success', 'read:success']);
});

test('called again with the same arguments: moved, nothing written', async () => {
  const s = setup();
  await s.provider.rotate(w);
  expect(await s.provider.rotate(w)).toEqual({ outcome: 'moved', version: '2' });
  expect(s.writes).toHaveLength(1);
});

test('a write between our read and our write: Vault refuses the cas, moved with the version now current', async () => {
  const s = setup({ writeBetween: true });
  expect(await s.provider.rotate(w)).toEqual({ outcome: 'moved', version: '2' });
  expect(s.writes).toHaveLength(0);
  expect(s.ops).toEqual(['read:success', 'kv-write:error', 'read:success']);
});

test.each(['read', 'write'] as const)('a policy that denies the %s: SourceAuthError naming the policy line', async (deny) => {
  const s = setup({ deny });
  const err = await rejection(s.provider.rotate(w));
  expect(err).toBeInstanceOf(SourceAuthError);
  expect(err.message).toContain('"app/db"');
  expect(err.message).toContain(`path "${DATA}" { capabilities = ["read", "create", "update"] }`);
  expect(err.message).not.toContain('tok-1');
});

test('a missing secret is SourceNotFound, and nothing is written', async () => {
  const s = setup({ missing: true });
  expect(await rejection(s.provider.rotate(w))).toBeInstanceOf(SourceNotFoundError);
  expect(s.ops).toEqual(['read:error']);
});

test('a whole value is refused before any call', async () => {
  const s = setup();
  await expect(s.provider.rotate({ ...w, set: {}, whole: Buffer.from('x') })).rejects.toThrow(/name a property/);
  expect(s.ops).toEqual([]);
});
