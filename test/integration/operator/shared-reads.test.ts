// Many SecretSyncs of one remote secret share its refresh tick and one read of it per tick
// (issue 12): a real operator, 20 SecretSyncs of one OpenBao KV path and 20 of one moto
// secret, all refreshed every 10 s. Reads are counted in the operator's own metric
// (secretsync_provider_calls_total) over two ticks: at most one per tick, plus one for a
// tick on the edge of the window. A changed value still reaches every one of them at the
// first tick after the change.
import type { SecretSync } from '../../../src/api/types.js';
import { parseSamples, sumBy } from '../../../bench/prom.js';
import { createSecret as createAwsSecret, deleteSecrets, keysData, keysRef, putSecret, secretsAdmin } from '../../helpers/aws.js';
import { canary, digestsOf } from '../../helpers/canary.js';
import { eventually } from '../../helpers/eventually.js';
import { apply, createSecret, deleteNamespace, deleteSyncs, kube, secretData, vaultTestNamespaces } from '../../helpers/kube.js';
import { gridPointsIn, nextOnGrid } from '../../helpers/grid.js';
import { getText, loggedAt, refreshRead, startOperator, waitForLogLines, waitIdle, type RunningOperator } from '../../helpers/operator.js';
import { awsConfig, uniqueName } from '../../helpers/stack.js';
import { kvPut } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const sm = secretsAdmin();
const id = uniqueName('shr');
const ns = `${id}-apps`;
const opNs = `${id}-system`;
const N = 20;
const INTERVAL = { interval: '10s' };
const INTERVAL_MS = 10_000;
const vaultPath = `${id}/shared`;
const awsName = `${id}/shared`;
// The shared value, then its change (canary(): the suite-wide leak scan looks for them).
const ONE = canary('one');
const TWO = canary('two');
const G = { group: 'secretsync.io', version: 'v1alpha1' };
let op: RunningOperator;

const syncs = (source: string, path: string) =>
  Array.from({ length: N }, (_, i) => ({
    kind: 'SecretSync',
    metadata: { name: `${source}-${i}`, namespace: ns },
    spec: { sourceRef: { name: source }, data: [{ key: 'v', remoteRef: { path, property: 'v' } }], refresh: INTERVAL },
  }));
const listSyncs = async (source: string) =>
  ((await custom.listNamespacedCustomObject({ ...G, namespace: ns, plural: 'secretsyncs' })) as { items: SecretSync[] }).items.filter(
    (s) => s.spec.sourceRef.name === source,
  );
const allAt = (source: string, version: number) =>
  eventually(
    async () => {
      const items = await listSyncs(source);
      return items.length === N && items.every((s) => s.status?.version === version && s.status.conditions?.[0]?.status === 'True') ? items : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500, what: `${N} ${source} SecretSyncs Ready at version ${version}` },
  );
/** Provider calls of `source` by operation, from the operator's /metrics. */
const callsOf = async (source: string): Promise<Record<string, number>> =>
  sumBy(parseSamples((await getText(`http://127.0.0.1:${op.metricsPort}/metrics`)).body), 'secretsync_provider_calls_total', { source: `SecretSource/${ns}/${source}` }, 'operation');
/**
 * When the operator logged a refresh tick of `source`'s SecretSyncs (all of them share one:
 * one remote secret). Expected ticks are counted on that tick's 10 s grid, never with the
 * scheduling code under test, which would agree with whatever that code does.
 */
const tickOf = (lines: string[]) => {
  const t = loggedAt(lines[0] as string);
  expect(t).not.toBeNaN();
  return t;
};

beforeAll(async () => {
  await kvPut(vaultPath, { v: ONE });
  await createAwsSecret(sm, awsName, { v: ONE });
  await vaultTestNamespaces({ kc, core, custom }, ns, opNs);
  await createSecret(core, ns, 'aws-keys', keysData(awsConfig().credentials));
  const { region, endpoint } = awsConfig();
  await apply(custom, { kind: 'SecretSource', metadata: { name: 'aws', namespace: ns }, spec: { aws: { region, endpoint, auth: keysRef('aws-keys') } } });
  op = await startOperator([`--namespace=${ns}`, `--operator-namespace=${opNs}`]);
  await Promise.all([...syncs('vault', vaultPath), ...syncs('aws', awsName)].map((s) => apply(custom, s)));
  await Promise.all([allAt('vault', 1), allAt('aws', 1)]);
}, 120_000);

afterAll(async () => {
  await deleteSyncs(custom, ns);
  expect(await op?.stop()).toBe(0);
  await deleteSecrets(sm, [awsName]);
  sm.destroy();
  await deleteNamespace(core, ns);
  await deleteNamespace(core, opNs);
});

/** Reads of `source` over two refresh ticks (each finished), and the ticks in that window. */
async function readsOverTicks(source: 'vault' | 'aws', readOps: string[]) {
  await waitIdle(op); // the first syncs' own watch events settle
  const mark = op.logs.length;
  const from = Date.now();
  const before = await callsOf(source);
  const lines = await waitForLogLines(op, refreshRead(ns, `${source}-0`), { from: mark, since: from, count: 2, timeoutMs: 40_000 });
  await waitIdle(op);
  const to = Date.now();
  const after = await callsOf(source);
  const reads = readOps.reduce((n, o) => n + (after[o] ?? 0) - (before[o] ?? 0), 0);
  const ticks = gridPointsIn(tickOf(lines), INTERVAL_MS, from, to);
  process.stdout.write(`${source}: ${N} SecretSyncs of one secret, ${ticks} ticks: ${reads} read calls\n`);
  return { reads, ticks };
}

test(`vault: ${N} SecretSyncs of one path cost at most one read per refresh tick`, async () => {
  const { reads, ticks } = await readsOverTicks('vault', ['read']);
  expect(ticks).toBeGreaterThanOrEqual(2);
  expect(reads).toBeGreaterThanOrEqual(1); // it did refresh...
  expect(reads).toBeLessThanOrEqual(ticks + 1); // ...once per tick, not once per SecretSync
}, 60_000);

test(`aws: ${N} SecretSyncs of one secret cost at most one call per refresh tick`, async () => {
  const { reads, ticks } = await readsOverTicks('aws', ['BatchGetSecretValue', 'GetSecretValue']);
  expect(ticks).toBeGreaterThanOrEqual(2);
  expect(reads).toBeGreaterThanOrEqual(1);
  expect(reads).toBeLessThanOrEqual(ticks + 1);
}, 60_000);

test.each(['vault', 'aws'] as const)('%s: a changed value reaches every SecretSync at the first tick after the change', async (source) => {
  // Changed just after a tick seen now, so the next one is the first after the change.
  const tick = tickOf(await waitForLogLines(op, refreshRead(ns, `${source}-0`), { from: op.logs.length, timeoutMs: 30_000 }));
  const changedAt = Date.now();
  if (source === 'vault') await kvPut(vaultPath, { v: TWO });
  else await putSecret(sm, awsName, { v: TWO });
  const items = await allAt(source, 2);
  const due = nextOnGrid(tick, INTERVAL_MS, changedAt);
  for (const s of items) expect(new Date(s.status?.lastSyncTime ?? 0).getTime()).toBeLessThanOrEqual(due + 5_000);
  expect(digestsOf(await secretData(core, ns, `${source}-${N - 1}`))).toEqual(digestsOf({ v: TWO }));
}, 60_000);
