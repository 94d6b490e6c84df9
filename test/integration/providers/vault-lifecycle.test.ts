// The token lifecycle against the real OpenBao (AppRole logins): one login per client
// however many reads, renewal before the TTL runs out, a new login when the token hit its
// max TTL or was revoked behind our back, revocation on close(), and the registry's
// client cache retiring a client (token revoked, renewal stopped) when its source is
// edited, recreated or evicted.
import { setTimeout as sleep } from 'node:timers/promises';
import type { SecretSource } from '../../../src/api/types.js';
import { SourceUnavailableError } from '../../../src/errors.js';
import type { SecretProvider } from '../../../src/providers/provider.js';
import { ProviderRegistry } from '../../../src/providers/registry.js';
import { createVaultProviderFactory } from '../../../src/providers/vault/index.js';
import { eventually } from '../../helpers/eventually.js';
import { uniqueName } from '../../helpers/stack.js';
import {
  callLog,
  canary,
  createNamespace,
  createSecret,
  deleteNamespace,
  deps,
  ensureAuth,
  readPolicy,
  rejection,
  root,
  tokenIsLive,
  tokenRecorder,
  vaultSource,
  type CallLog,
} from './vault-fixtures.js';

const prefix = uniqueName('life');
const path = `${prefix}/app`;
const policy = uniqueName('secretsync-life');
const value = canary();
const roles: string[] = [];
const providers: SecretProvider[] = [];
let namespace: string;

/** An AppRole whose tokens live `ttl` (max `maxTtl`); its secret_id in a Secret of the same name. */
async function appRole(ttl: string, maxTtl: string): Promise<{ roleId: string; secretIdRef: { name: string; key: string } }> {
  const role = uniqueName('life');
  roles.push(role);
  await root.write(`auth/approle/role/${role}`, { token_policies: [policy], token_ttl: ttl, token_max_ttl: maxTtl });
  const roleId = ((await root.read(`auth/approle/role/${role}/role-id`)) as { data: { role_id: string } }).data.role_id;
  const secretId = ((await root.write(`auth/approle/role/${role}/secret-id`, {})) as { data: { secret_id: string } }).data.secret_id;
  await createSecret(namespace, role, { 'secret-id': secretId });
  return { roleId, secretIdRef: { name: role, key: 'secret-id' } };
}

function source(appRoleAuth: { roleId: string; secretIdRef: { name: string; key: string } }, meta = {}): SecretSource {
  return vaultSource(namespace, { auth: { appRole: appRoleAuth } }, meta);
}

function make(src: SecretSource, log: CallLog, rec = tokenRecorder()): SecretProvider {
  const p = createVaultProviderFactory({ allowInsecureHttp: true, wrapHttp: rec.wrapHttp }).create(src, deps(namespace, log));
  providers.push(p);
  return p;
}

/** notBefore no read can meet: every call is its own HTTP read, none shared (ReadOptions). */
const UNSHARED = { notBefore: Number.POSITIVE_INFINITY };

async function readValue(p: SecretProvider): Promise<string> {
  return (await p.getSecret({ path, property: 'password' }, UNSHARED)).value.toString();
}

beforeAll(async () => {
  await ensureAuth('approle');
  await readPolicy(policy, [`secret/data/${prefix}/*`]);
  await root.write(`secret/data/${path}`, { data: { password: value } });
  namespace = await createNamespace('vault-life');
});

afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  for (const role of roles) await root.delete(`auth/approle/role/${role}`).catch(() => undefined);
  await root.delete(`secret/metadata/${path}`).catch(() => undefined);
  await root.delete(`sys/policy/${policy}`).catch(() => undefined);
  await deleteNamespace(namespace);
});

test('one login per client across many reads, concurrent first reads included', async () => {
  const log = callLog();
  const p = make(source(await appRole('10m', '1h')), log);
  const first = await Promise.all(Array.from({ length: 10 }, () => readValue(p)));
  expect(new Set(first)).toEqual(new Set([value]));
  for (let i = 0; i < 15; i++) expect(await readValue(p)).toBe(value);
  await p.getSecretMap({ path }, UNSHARED);
  expect(log.count('login')).toBe(1);
  expect(log.count('read', 'success')).toBe(26);
});

test('a renewable token is renewed before its TTL ends, so no second login is needed', async () => {
  const log = callLog();
  const rec = tokenRecorder();
  const p = make(source(await appRole('3s', '1h')), log, rec);
  const loginAt = Date.now();
  expect(await readValue(p)).toBe(value);
  // The point: renewals at ~2 s and ~4 s keep the 3 s token alive past its TTL. Both seen,
  // and the TTL over, rather than a sleep that hopes they happened.
  await eventually(async () => (log.count('renew', 'success') >= 2 && Date.now() > loginAt + 3_500 ? true : undefined), {
    timeoutMs: 15_000,
    intervalMs: 100,
    what: 'two renewals, past the first TTL',
  });
  expect(await readValue(p)).toBe(value);
  expect(log.count('login')).toBe(1);
  expect(log.count('renew', 'success')).toBeGreaterThanOrEqual(1);
  expect(await tokenIsLive(rec.tokens[0] as string)).toBe(true);
});

test('a token at its max TTL is replaced by a new login when it runs out', async () => {
  const log = callLog();
  const p = make(source(await appRole('2s', '3s')), log);
  expect(await readValue(p)).toBe(value);
  // The point: past the max TTL. Vault reports TTLs in whole seconds, so our view of the
  // expiry can be up to ~1 s late.
  await sleep(5_000);
  expect(await readValue(p)).toBe(value);
  expect(log.count('login')).toBe(2);
  expect(log.count('read', 'error')).toBe(0); // expiry was seen before the read, not as a 403
});

test('a token revoked behind our back: the 403 read logs in again once and succeeds', async () => {
  const log = callLog();
  const rec = tokenRecorder();
  const p = make(source(await appRole('10m', '1h')), log, rec);
  expect(await readValue(p)).toBe(value);
  await root.write('auth/token/revoke', { token: rec.tokens[0] });
  expect(await readValue(p)).toBe(value);
  expect(log.count('login')).toBe(2);
  expect(log.count('read', 'error')).toBe(1);
  expect(rec.tokens).toHaveLength(2);
});

test('close() revokes the login token once, is idempotent, and a closed client refuses reads', async () => {
  const log = callLog();
  const rec = tokenRecorder();
  const p = make(source(await appRole('10m', '1h')), log, rec);
  expect(await readValue(p)).toBe(value);
  const token = rec.tokens[0] as string;
  expect(await tokenIsLive(token)).toBe(true);
  await Promise.all([p.close(), p.close()]);
  await p.close();
  expect(await tokenIsLive(token)).toBe(false);
  expect(log.count('revoke')).toBe(1);
  const err = await rejection(p.getSecret({ path }));
  expect(err).toBeInstanceOf(SourceUnavailableError);
  expect(err.message).not.toContain(value);
  expect(log.count('login')).toBe(1);
});

test('close() during a login revokes the token that login obtains', async () => {
  const log = callLog();
  const rec = tokenRecorder();
  const p = make(source(await appRole('10m', '1h')), log, rec);
  const read = p.getSecret({ path }).catch((err: unknown) => err);
  await p.close();
  expect(await read).toBeInstanceOf(SourceUnavailableError);
  expect(rec.tokens).toHaveLength(1);
  expect(await tokenIsLive(rec.tokens[0] as string)).toBe(false);
});

describe('the registry client cache', () => {
  test('reuses a client for the same uid and generation; a new generation or uid retires the old client at once', async () => {
    const rec = tokenRecorder();
    const registry = new ProviderRegistry().register(createVaultProviderFactory({ allowInsecureHttp: true, wrapHttp: rec.wrapHttp }));
    const auth = await appRole('3s', '1h'); // renewed every ~2 s while a client lives
    const name = uniqueName('cached');
    const v1 = source(auth, { name, uid: 'u-1', generation: 1 });
    const logs = [callLog(), callLog(), callLog()] as const;
    try {
      const a = registry.client(v1, deps(namespace, logs[0]));
      expect(await readValue(a)).toBe(value);
      const again = registry.client(structuredClone(v1), deps(namespace, logs[0]));
      expect(again).toBe(a);
      expect(await readValue(again)).toBe(value);
      expect(logs[0].count('login')).toBe(1);
      const [tokenA] = rec.tokens as [string];

      // Edited: the old client is closed and its token revoked without waiting for closeAll.
      const b = registry.client(source(auth, { name, uid: 'u-1', generation: 2 }), deps(namespace, logs[1]));
      expect(b).not.toBe(a);
      await eventually(async () => ((await tokenIsLive(tokenA)) ? undefined : true), { what: 'the edited source\'s old token revoked' });
      expect(await rejection(a.getSecret({ path }))).toBeInstanceOf(SourceUnavailableError);
      expect(await readValue(b)).toBe(value);
      const tokenB = rec.tokens[1] as string;

      // Recreated (new uid): likewise.
      const c = registry.client(source(auth, { name, uid: 'u-2', generation: 2 }), deps(namespace, logs[2]));
      expect(c).not.toBe(b);
      await eventually(async () => ((await tokenIsLive(tokenB)) ? undefined : true), { what: 'the recreated source\'s old token revoked' });
      expect(await readValue(c)).toBe(value);
      expect(registry.size()).toBe(1);
      expect(rec.tokens).toHaveLength(3);

      // Only the live client keeps renewing: the retired ones' timers are gone (they would
      // have fired by the live one's first renewal, ~2 s into its 3 s token).
      await eventually(async () => (logs[2].count('renew', 'success') >= 1 ? true : undefined), { timeoutMs: 10_000, intervalMs: 50, what: 'the live client renewing' });
      expect(logs[0].count('renew')).toBe(0);
      expect(logs[1].count('renew')).toBe(0);
      expect(logs[2].count('renew', 'success')).toBeGreaterThanOrEqual(1);
      expect(logs.map((l) => l.count('revoke', 'success'))).toEqual([1, 1, 0]);

      await registry.closeAll();
      expect(registry.size()).toBe(0);
      for (const t of rec.tokens) expect(await tokenIsLive(t)).toBe(false);
      expect(logs[2].count('revoke', 'success')).toBe(1);
    } finally {
      await registry.closeAll();
    }
  });

  test('evict() of a deleted source revokes its token and stops its renewal; other sources keep theirs', async () => {
    const rec = tokenRecorder();
    const registry = new ProviderRegistry().register(createVaultProviderFactory({ allowInsecureHttp: true, wrapHttp: rec.wrapHttp }));
    const auth = await appRole('3s', '1h');
    const gone = source(auth);
    const kept = source(auth);
    const goneLog = callLog();
    const keptLog = callLog();
    try {
      expect(await readValue(registry.client(gone, deps(namespace, goneLog)))).toBe(value); // first read logs in
      expect(await readValue(registry.client(kept, deps(namespace, keptLog)))).toBe(value);
      expect(goneLog.count('login', 'success')).toBe(1);
      const [goneToken, keptToken] = rec.tokens as [string, string];
      expect(await tokenIsLive(goneToken)).toBe(true);

      await registry.evict(gone);
      expect(registry.size()).toBe(1);
      expect(await tokenIsLive(goneToken)).toBe(false); // a root lookup of the token fails
      expect(goneLog.count('revoke', 'success')).toBe(1);

      // Past the ~2 s renewal point of both tokens: the kept one renewed.
      await eventually(async () => (keptLog.count('renew', 'success') >= 1 ? true : undefined), { timeoutMs: 10_000, intervalMs: 50, what: 'the kept source renewing' });
      expect(goneLog.count('renew')).toBe(0);
      expect(keptLog.count('renew', 'success')).toBeGreaterThanOrEqual(1);
      expect(await tokenIsLive(keptToken)).toBe(true);
      expect(goneLog.count('login')).toBe(1); // and nothing logged in again behind our back
    } finally {
      await registry.closeAll();
    }
    expect(await tokenIsLive(rec.tokens[1] as string)).toBe(false);
  });
});
