// A path the Vault policy denies, against the real OpenBao with AppRole logins: that read
// fails (SourceAuthFailed naming the path and the policy line to add) while the token
// stays (no revocation, no new login) and the allowed paths keep working; a token whose
// policies leave out `default` (lookup-self refused) falls back to a re-login, as before.
import { SourceAuthError } from '../../../src/errors.js';
import type { SecretProvider } from '../../../src/providers/provider.js';
import { createVaultProviderFactory } from '../../../src/providers/vault/index.js';
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
  root,
  tokenIsLive,
  tokenRecorder,
  vaultSource,
  type CallLog,
} from './vault-fixtures.js';
import { failureLog } from '../../helpers/rejection.js';

const prefix = uniqueName('denied');
const allowed = `${prefix}/allowed/app`;
const denied = `${prefix}/denied/app`;
const policy = uniqueName('secretsync-denied');
const value = canary();
const hidden = canary();
const roles: string[] = [];
const providers: SecretProvider[] = [];
const credentials: string[] = [];
const { messages, failure } = failureLog();
let namespace: string;

/** An AppRole with the policy (reads `${prefix}/allowed/*` only); its secret_id in a Secret. */
async function appRole(extra: Record<string, unknown> = {}) {
  const role = uniqueName('denied');
  roles.push(role);
  await root.write(`auth/approle/role/${role}`, { token_policies: [policy], token_ttl: '10m', token_max_ttl: '1h', ...extra });
  const roleId = ((await root.read(`auth/approle/role/${role}/role-id`)) as { data: { role_id: string } }).data.role_id;
  const secretId = ((await root.write(`auth/approle/role/${role}/secret-id`, {})) as { data: { secret_id: string } }).data.secret_id;
  credentials.push(secretId);
  await createSecret(namespace, role, { 'secret-id': secretId });
  return { roleId, secretIdRef: { name: role, key: 'secret-id' } };
}

function make(auth: Awaited<ReturnType<typeof appRole>>, log: CallLog, rec = tokenRecorder()): SecretProvider {
  const p = createVaultProviderFactory({ allowInsecureHttp: true, wrapHttp: rec.wrapHttp }).create(
    vaultSource(namespace, { auth: { appRole: auth } }),
    deps(namespace, log),
  );
  providers.push(p);
  return p;
}

const read = async (p: SecretProvider) => (await p.getSecret({ path: allowed, property: 'password' })).value.toString();

beforeAll(async () => {
  await ensureAuth('approle');
  await readPolicy(policy, [`secret/data/${prefix}/allowed/*`]);
  await root.write(`secret/data/${allowed}`, { data: { password: value } });
  await root.write(`secret/data/${denied}`, { data: { password: hidden } });
  namespace = await createNamespace('vault-denied');
});

afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  for (const m of messages) {
    expect(m).not.toContain(value);
    expect(m).not.toContain(hidden);
    for (const c of credentials) expect(m).not.toContain(c);
  }
  for (const role of roles) await root.delete(`auth/approle/role/${role}`).catch(() => undefined);
  for (const p of [allowed, denied]) await root.delete(`secret/metadata/${p}`).catch(() => undefined);
  await root.delete(`sys/policy/${policy}`).catch(() => undefined);
  await deleteNamespace(namespace);
});

test('a denied path fails that read only: the allowed one keeps working, no new login, the token is not revoked', async () => {
  const log = callLog();
  const rec = tokenRecorder();
  const p = make(await appRole(), log, rec);
  expect(await read(p)).toBe(value);
  const token = rec.tokens[0] as string;
  credentials.push(token);

  const err = await failure(p.getSecret({ path: denied, property: 'password' }));
  expect(err).toBeInstanceOf(SourceAuthError);
  expect((err as SourceAuthError).reason).toBe('SourceAuthFailed');
  expect(err.message).toContain('SecretSource/');
  expect(err.message).toContain(`"${denied}"`);
  expect(err.message).toContain(`path "secret/data/${denied}" { capabilities = ["read"] }`);
  expect(err.message).toContain('AppRole');

  expect(await read(p)).toBe(value);
  expect(log.count('login')).toBe(1);
  expect(log.count('revoke')).toBe(0);
  expect(rec.tokens).toEqual([token]);
  expect(await tokenIsLive(token)).toBe(true);
});

test('many concurrent denied and allowed reads: one login, one lookup-self, every allowed read succeeds', async () => {
  const log = callLog();
  const p = make(await appRole(), log);
  expect(await read(p)).toBe(value);
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      i % 2 === 0 ? read(p) : p.getSecretMap({ path: denied }).then(() => 'read?', (err: Error) => (messages.push(err.message), err)),
    ),
  );
  expect(results.filter((r) => r === value)).toHaveLength(10);
  for (const r of results.filter((r) => r !== value)) expect(r).toBeInstanceOf(SourceAuthError);
  expect(log.count('login')).toBe(1);
  expect(log.count('lookup')).toBe(1);
  expect(log.count('revoke')).toBe(0);
});

test('a token without the default policy (lookup-self refused): a 403 is treated as a bad token, as before', async () => {
  const log = callLog();
  const rec = tokenRecorder();
  const p = make(await appRole({ token_no_default_policy: true }), log, rec);
  expect(await read(p)).toBe(value);
  const err = await failure(p.getSecret({ path: denied, property: 'password' }));
  expect(err).toBeInstanceOf(SourceAuthError);
  expect(err.message).toContain('was refused (HTTP 403)');
  expect(log.count('lookup', 'error')).toBe(2); // the first token, then its replacement
  expect(log.count('login')).toBe(2);
  credentials.push(...rec.tokens);
  // The old token is given up before the re-login; its revoke-self is refused too (it is a
  // `default` policy path as well), so it runs out at its TTL, as it did before.
  expect(log.count('revoke')).toBe(1);
  expect(await read(p)).toBe(value);
});
