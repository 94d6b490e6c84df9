// A Vault path the policy denies, end to end: a real `secretsync operator` process, the
// real apiserver and OpenBao, one SecretSource with AppRole auth and two SecretSyncs, one
// reading a path its policy denies. The denied one is Ready=False (SourceAuthFailed, the
// message names the path); the other stays Ready=True; across several refresh intervals
// the source logs in once and revokes nothing (secretsync_provider_calls_total).
import { eventually } from '../../helpers/eventually.js';
import {
  apply,
  createNamespace,
  createSecret,
  deleteNamespace,
  deleteSyncs,
  getSync,
  installCrds,
  kube,
  readyCondition,
  waitReady,
} from '../../helpers/kube.js';
import { expectNoLeak } from '../../helpers/leaks.js';
import { getText, refreshRead, startOperator, waitForLogLines, waitIdle, type RunningOperator } from '../../helpers/operator.js';
import { canary } from '../../helpers/canary.js';
import { uniqueName } from '../../helpers/stack.js';
import { kvPut, vaultRoot } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const root = vaultRoot();
const CANARY = canary();
const HIDDEN = canary('hidden');
const id = uniqueName('denied');
const ns = `${id}-apps`;
const opNs = `${id}-system`;
const policy = `${id}-reader`;
const role = `${id}-role`;
const allowedPath = `${id}/allowed/db`;
const deniedPath = `${id}/denied/db`;
let op: RunningOperator;

const sync = (name: string, path: string) => ({
  kind: 'SecretSync',
  metadata: { name, namespace: ns },
  spec: { sourceRef: { name: 'vault' }, data: [{ key: 'password', remoteRef: { path, property: 'password' } }], refresh: { interval: '10s' } },
});

/** Calls of `operation` to this test's source, summed over results, from the operator's /metrics. */
async function providerCalls(operation: string): Promise<number> {
  const body = (await getText(`http://127.0.0.1:${op.metricsPort}/metrics`)).body;
  return body
    .split('\n')
    .filter((l) => l.startsWith('secretsync_provider_calls_total{') && l.includes(`operation="${operation}"`) && l.includes(ns))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

beforeAll(async () => {
  await installCrds(kc);
  await createNamespace(core, opNs);
  await createNamespace(core, ns);
  const auths = (await root.read('sys/auth')) as { data?: Record<string, unknown> };
  if (!('approle/' in (auths.data ?? {}))) await root.write('sys/auth/approle', { type: 'approle' }).catch(() => undefined);
  await root.write(`sys/policy/${policy}`, { policy: `path "secret/data/${id}/allowed/*" { capabilities = ["read"] }` });
  await root.write(`auth/approle/role/${role}`, { token_policies: [policy], token_ttl: '10m', token_max_ttl: '1h' });
  const roleId = ((await root.read(`auth/approle/role/${role}/role-id`)) as { data: { role_id: string } }).data.role_id;
  const secretId = ((await root.write(`auth/approle/role/${role}/secret-id`, {})) as { data: { secret_id: string } }).data.secret_id;
  await createSecret(core, ns, 'approle', { 'secret-id': secretId });
  await kvPut(allowedPath, { password: CANARY });
  await kvPut(deniedPath, { password: HIDDEN });
  await apply(custom, {
    kind: 'SecretSource',
    metadata: { name: 'vault', namespace: ns },
    spec: { vault: { address: process.env.VAULT_ADDR, auth: { appRole: { roleId, secretIdRef: { name: 'approle', key: 'secret-id' } } } } },
  });
  op = await startOperator([`--namespace=${ns}`, `--operator-namespace=${opNs}`]);
});

afterAll(async () => {
  await deleteSyncs(custom, ns);
  expect(await op?.stop()).toBe(0);
  await root.delete(`auth/approle/role/${role}`).catch(() => undefined);
  await root.delete(`sys/policy/${policy}`).catch(() => undefined);
  for (const p of [allowedPath, deniedPath]) await root.delete(`secret/metadata/${p}`).catch(() => undefined);
  await deleteNamespace(core, ns);
  await deleteNamespace(core, opNs);
});

test('the denied sync fails alone; the other stays Ready and the source neither logs in again nor revokes', async () => {
  await apply(custom, sync('allowed', allowedPath));
  await apply(custom, sync('denied', deniedPath));
  await waitReady(custom, ns, 'allowed', 'True', 'Synced');
  const denied = await waitReady(custom, ns, 'denied', 'False', 'SourceAuthFailed');
  expect(readyCondition(denied)?.message).toContain(deniedPath);
  expect(readyCondition(denied)?.message).toContain(`secret/data/${deniedPath}`);

  const from = op.logs.length;
  const since = Date.now(); // lines of earlier ticks may still be on their way
  const loginsBefore = await providerCalls('login');
  const readsBefore = await providerCalls('read');
  expect(loginsBefore).toBe(1);
  // Two refresh intervals and a retry of the denied sync, each finished.
  await Promise.all([
    waitForLogLines(op, refreshRead(ns, 'allowed'), { from, since, count: 2, timeoutMs: 40_000 }),
    waitForLogLines(op, ['"reading the source"', `"secretsync":"${ns}/denied"`], { from, timeoutMs: 40_000 }),
  ]);
  await waitIdle(op);
  expect(await providerCalls('read')).toBeGreaterThan(readsBefore + 1); // both kept reading...
  expect(await providerCalls('login')).toBe(loginsBefore); // ...on the one token
  expect(await providerCalls('revoke')).toBe(0);

  const allowed = await getSync(custom, ns, 'allowed');
  expect(readyCondition(allowed)).toMatchObject({ status: 'True', reason: 'Synced' });
  const stillDenied = await eventually(async () => readyCondition(await getSync(custom, ns, 'denied')), { what: 'denied condition' });
  expect(stillDenied).toMatchObject({ status: 'False', reason: 'SourceAuthFailed' });
}, 90_000);

test('neither value reaches logs, events, status or metrics', async () => {
  await expectNoLeak({ core, custom }, ns, op, CANARY);
  await expectNoLeak({ core, custom }, ns, op, HIDDEN);
});
