// The cheap floods, as the attacking namespace would try them with nothing but its own
// SecretSyncs: a refresh schedule that ticks every few seconds, and force-sync / rotate-now
// annotations changed again and again. Against the real operator process, OpenBao and the
// API server: the schedule is refused with the minimum and an example, and each flood
// costs one source call per window, shown as reason Throttled, and runs by itself after.
import { setHeaderOptions } from '@kubernetes/client-node';
import { parseSamples, sumBy } from '../../../bench/prom.js';
import type { SecretSync } from '../../../src/api/types.js';
import { canary, leaksIn } from '../../helpers/canary.js';
import { eventually } from '../../helpers/eventually.js';
import { apply, createNamespace, createSecret, deleteNamespace, deleteSyncs, getSync, installCrds, kube, waitReady } from '../../helpers/kube.js';
import { getText, startOperator, type RunningOperator } from '../../helpers/operator.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';
import { tenant, type Tenant } from '../../helpers/tenant.js';
import { kvPut, vaultRoot } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const root = vaultRoot();
const id = uniqueName('thr');
const ns = `${id}-evil`;
const opNs = `${id}-system`;
const CANARY = canary();
let op: RunningOperator;
let evil: Tenant;

const G = { group: 'secretsync.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs' };
const mergePatch = setHeaderOptions('Content-Type', 'application/merge-patch+json');
const annotate = (name: string, key: string, value: string) =>
  evil.custom.patchNamespacedCustomObject({ ...G, name, body: { metadata: { annotations: { [key]: value } } } }, mergePatch);
const sync = (name: string, spec: Record<string, unknown> = {}) => ({
  kind: 'SecretSync',
  metadata: { name, namespace: ns },
  spec: { sourceRef: { name: 'vault' }, data: [{ key: 'password', remoteRef: { path: `${id}/${name}`, property: 'password' } }], ...spec },
});
const condition = (s: SecretSync, type: string) => s.status?.conditions?.find((c) => c.type === type);
/** Vault calls of `operation` the operator made so far (its metrics). */
async function calls(operation: string): Promise<number> {
  const samples = parseSamples((await getText(`http://127.0.0.1:${op.metricsPort}/metrics`)).body);
  return Object.values(sumBy(samples, 'secretsync_provider_calls_total', { operation }, 'result')).reduce((a, b) => a + b, 0);
}
async function events(name: string): Promise<{ reason?: string; message?: string }[]> {
  const list = await core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name}` });
  return list.items;
}

beforeAll(async () => {
  await installCrds(kc);
  await createNamespace(core, opNs);
  await createNamespace(core, ns);
  await createSecret(core, ns, 'vault-token', { token: requireEnv('VAULT_TOKEN') });
  evil = await tenant(kc, ns);
  await apply(evil.custom, {
    kind: 'SecretSource',
    metadata: { name: 'vault', namespace: ns },
    spec: { vault: { address: requireEnv('VAULT_ADDR'), auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } } } },
  });
  for (const n of ['flood', 'rot', 'fast']) await kvPut(`${id}/${n}`, { password: CANARY });
  op = await startOperator([`--namespace=${ns}`, `--operator-namespace=${opNs}`]);
}, 120_000);

afterAll(async () => {
  await deleteSyncs(custom, ns).catch(() => undefined);
  await op?.stop();
  evil?.release();
  await deleteNamespace(core, ns);
  await deleteNamespace(core, opNs);
  await root.delete(`secret/metadata/${id}/rot`).catch(() => undefined);
});

test('a refresh schedule ticking every 5s is refused, saying the minimum and a schedule that works; nothing is read or written', async () => {
  await apply(evil.custom, sync('fast', { refresh: { schedule: '*/5 * * * * *' } }));
  const ss = await waitReady(custom, ns, 'fast', 'False', 'InvalidSpec');
  expect(condition(ss, 'Ready')?.message).toMatch(/spec\.refresh\.schedule "\*\/5 \* \* \* \* \*" has ticks 5s apart, closer than the minimum of 10s/);
  expect(condition(ss, 'Ready')?.message).toMatch(/e\.g\. "\*\/10 \* \* \* \* \*"/);
  await expect(core.readNamespacedSecret({ namespace: ns, name: 'fast' })).rejects.toMatchObject({ code: 404 });
});

test('a force-sync flood: one read per 10s, the rest shown as Synced reason Throttled, the last value synced by itself', async () => {
  await apply(evil.custom, sync('flood'));
  await waitReady(custom, ns, 'flood', 'True');
  await annotate('flood', 'secretsync.io/force-sync', 'v0');
  await eventually(async () => ((await getSync(custom, ns, 'flood')).status?.forceSyncHandled === 'v0' ? true : undefined), { what: 'v0 acted on' });
  const readsBefore = await calls('read');
  for (let i = 1; i <= 20; i++) await annotate('flood', 'secretsync.io/force-sync', `v${i}`);
  const shown = await eventually(
    async () => {
      const s = await getSync(custom, ns, 'flood');
      return condition(s, 'Synced')?.reason === 'Throttled' ? s : undefined;
    },
    { what: 'Synced reason Throttled' },
  );
  expect(condition(shown, 'Synced')).toMatchObject({ status: 'True' });
  expect(condition(shown, 'Synced')?.message).toMatch(/runs by itself at .*At most one force-sync per SecretSync every 10s/);
  expect(condition(shown, 'Ready')).toMatchObject({ status: 'True', reason: 'Synced' });
  // The last value is acted on when the window has passed, without another edit.
  const done = await eventually(
    async () => {
      const s = await getSync(custom, ns, 'flood');
      return s.status?.forceSyncHandled === 'v20' && condition(s, 'Synced')?.reason === 'Synced' ? s : undefined;
    },
    { timeoutMs: 30_000, what: 'v20 acted on after the window' },
  );
  const reads = (await calls('read')) - readsBefore;
  console.log(`force-sync flood: 20 values in ${id}, ${reads} Vault read(s) for them; lastForceSyncTime ${done.status?.lastForceSyncTime}`);
  expect(reads).toBeLessThanOrEqual(2);
  expect((await events('flood')).filter((e) => e.reason === 'Throttled').length).toBeGreaterThanOrEqual(1);
  expect(leaksIn(JSON.stringify(done), CANARY)).toEqual([]);
});

test('a rotate-now flood: one new version at the source per minute, shown as Rotated reason Throttled, then rotated by itself', async () => {
  await apply(evil.custom, sync('rot', { rotation: { schedule: '0 3 1 1 *', keys: ['password'] } }));
  await waitReady(custom, ns, 'rot', 'True');
  const version = async () => ((await root.read(`secret/metadata/${id}/rot`)).data as { current_version: number }).current_version;
  const v0 = await version();
  await annotate('rot', 'secretsync.io/rotate-now', 'r0');
  await eventually(async () => (condition(await getSync(custom, ns, 'rot'), 'Rotated')?.reason === 'Rotated' ? true : undefined), { what: 'r0 rotated' });
  expect(await version()).toBe(v0 + 1);
  for (let i = 1; i <= 10; i++) await annotate('rot', 'secretsync.io/rotate-now', `r${i}`);
  const shown = await eventually(
    async () => {
      const s = await getSync(custom, ns, 'rot');
      return condition(s, 'Rotated')?.reason === 'Throttled' ? s : undefined;
    },
    { what: 'Rotated reason Throttled' },
  );
  expect(condition(shown, 'Rotated')?.message).toMatch(/rotate-now waits: a rotation started at .*At most one rotation per SecretSync a minute/);
  expect(await version()).toBe(v0 + 1); // nothing more written during the window
  const done = await eventually(
    async () => {
      const s = await getSync(custom, ns, 'rot');
      return s.status?.rotateNowHandled === 'r10' && condition(s, 'Rotated')?.reason === 'Rotated' ? s : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 500, what: 'r10 rotated after the minute' },
  );
  console.log(`rotate-now flood: 11 values, ${(await version()) - v0} new version(s) at the source; rotations at ${done.status?.lastRotationTime}`);
  expect(await version()).toBe(v0 + 2);
  expect((await events('rot')).some((e) => e.reason === 'Throttled')).toBe(true);
}, 150_000);
