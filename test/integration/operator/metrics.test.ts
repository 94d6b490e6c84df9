// The metrics users alert on, scraped from /metrics of real operator processes (two, on one
// Lease): a SecretSync's Ready condition (1, then 0 with the reason when its source breaks),
// its last successful sync, its series gone once it is deleted, the rotation and rollout
// counters moved by a real rotation at OpenBao and the Deployment it rolls; only the leader
// exports per-SecretSync series, and the replica that takes over exports them from its own
// reconciles.
import { AppsV1Api } from '@kubernetes/client-node';
import { parseSamples } from '../../../bench/prom.js';
import { canary } from '../../helpers/canary.js';
import { eventually } from '../../helpers/eventually.js';
import { apply, deleteNamespace, deleteSyncs, getSync, kube, patchSync, vaultTestNamespaces, waitReady } from '../../helpers/kube.js';
import { registerValue } from '../../helpers/leak-record.js';
import { expectNoLeak } from '../../helpers/leaks.js';
import { getText, startOperator, type RunningOperator } from '../../helpers/operator.js';
import { NO_NODE } from '../../helpers/pods.js';
import { uniqueName } from '../../helpers/stack.js';
import { kvPut, vaultRoot } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const apps = kc.makeApiClient(AppsV1Api);
const root = vaultRoot();
const id = uniqueName('met');
const ns = `${id}-apps`;
const opNs = `${id}-system`;
const CANARY = canary(id);
let ops: RunningOperator[] = [];

type Sample = ReturnType<typeof parseSamples>[number];
const scrape = async (op: RunningOperator) => parseSamples((await getText(`http://127.0.0.1:${op.metricsPort}/metrics`)).body);
const of = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
/** The per-SecretSync series of `name` in `samples`, as `metric{labels} value` lines (sorted). */
const seriesOf = (samples: Sample[], name: string) =>
  samples
    .filter((s) => /^secretsync_(status_condition|condition_reason|last_sync_timestamp_seconds)$/.test(s.name) && s.labels.name === name)
    .map((s) => `${s.name}{${Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(',')}} ${s.name.endsWith('_seconds') ? '<time>' : s.value}`)
    .sort();
const perSync = (samples: Sample[]) => samples.filter((s) => /^secretsync_(status_condition|condition_reason|last_sync_timestamp_seconds)$/.test(s.name));
const leading = async (op: RunningOperator) => of(await scrape(op), 'secretsync_leader')[0]?.value === 1;
const counter = async (op: RunningOperator, name: string, labels: Record<string, string>) => of(await scrape(op), name, labels).reduce((n, s) => n + s.value, 0);

/** The leader and the follower, once one leads. */
async function roles(): Promise<{ leader: RunningOperator; follower: RunningOperator }> {
  return eventually(async () => {
    const [a, b] = ops as [RunningOperator, RunningOperator];
    const [la, lb] = [await leading(a), await leading(b)];
    if (la === lb) return undefined;
    return la ? { leader: a, follower: b } : { leader: b, follower: a };
  }, { what: 'one leader' });
}

const sync = (name: string, spec: Record<string, unknown> = {}) => ({
  kind: 'SecretSync',
  metadata: { name, namespace: ns },
  spec: { sourceRef: { name: 'vault' }, data: [{ key: 'password', remoteRef: { path: `${id}/${name}`, property: 'password' } }], refresh: { interval: '1h' }, ...spec },
});

beforeAll(async () => {
  await vaultTestNamespaces({ kc, core, custom }, ns, opNs);
  const args = [`--namespace=${ns}`, `--operator-namespace=${opNs}`, '--leader-elect', `--leader-election-id=${id}-leader`];
  ops = [await startOperator(args), await startOperator(args)];
}, 60_000);

afterAll(async () => {
  await deleteSyncs(custom, ns).catch(() => undefined);
  await Promise.all(ops.map((o) => o.stop()));
  await deleteNamespace(core, ns);
  await deleteNamespace(core, opNs);
});

test('Ready (1), the source broken (0, with the reason), back, deleted (gone); the follower exports none', async () => {
  await kvPut(`${id}/db`, { password: CANARY });
  const before = Date.now() / 1000;
  await apply(custom, sync('db'));
  await waitReady(custom, ns, 'db', 'True');
  const { leader, follower } = await roles();
  const ready = await eventually(async () => {
    const s = await scrape(leader);
    return seriesOf(s, 'db').length > 0 ? s : undefined;
  }, { what: 'db series' });
  expect(seriesOf(ready, 'db')).toEqual([
    `secretsync_last_sync_timestamp_seconds{namespace=${ns},name=db} <time>`,
    `secretsync_status_condition{namespace=${ns},name=db,condition=Ready,status=False} 0`,
    `secretsync_status_condition{namespace=${ns},name=db,condition=Ready,status=True} 1`,
  ]);
  const synced = of(ready, 'secretsync_last_sync_timestamp_seconds', { name: 'db' })[0]?.value ?? 0;
  expect(synced).toBeGreaterThanOrEqual(Math.floor(before));
  expect(synced).toBeLessThanOrEqual(Date.now() / 1000);
  expect(perSync(await scrape(follower))).toEqual([]);
  console.log(`leader's db series:\n  ${seriesOf(ready, 'db').join('\n  ')}`);

  // The source breaks: the secret is gone from OpenBao; a force-sync reads now.
  await root.delete(`secret/metadata/${id}/db`);
  await patchSync(custom, ns, 'db', { metadata: { annotations: { 'secretsync.io/force-sync': 'broken' } } });
  await waitReady(custom, ns, 'db', 'False', 'SourceNotFound');
  const broken = await eventually(async () => {
    const s = await scrape(leader);
    return of(s, 'secretsync_condition_reason', { name: 'db' }).length > 0 ? s : undefined;
  }, { what: 'db reason series' });
  expect(seriesOf(broken, 'db')).toEqual([
    `secretsync_condition_reason{namespace=${ns},name=db,condition=Ready,reason=SourceNotFound} 1`,
    `secretsync_last_sync_timestamp_seconds{namespace=${ns},name=db} <time>`,
    `secretsync_status_condition{namespace=${ns},name=db,condition=Ready,status=False} 1`,
    `secretsync_status_condition{namespace=${ns},name=db,condition=Ready,status=True} 0`,
  ]);
  // The last successful sync stays where it was.
  expect(of(broken, 'secretsync_last_sync_timestamp_seconds', { name: 'db' })[0]?.value).toBe(synced);
  console.log(`after the source broke:\n  ${seriesOf(broken, 'db').join('\n  ')}`);

  // Back (the second force-sync runs once its 10 s window has passed, by itself).
  await kvPut(`${id}/db`, { password: CANARY });
  await patchSync(custom, ns, 'db', { metadata: { annotations: { 'secretsync.io/force-sync': 'fixed' } } });
  await waitReady(custom, ns, 'db', 'True');
  const back = await eventually(async () => {
    const s = await scrape(leader);
    return of(s, 'secretsync_condition_reason', { name: 'db' }).length === 0 && of(s, 'secretsync_status_condition', { name: 'db', status: 'True' })[0]?.value === 1 ? s : undefined;
  }, { what: 'db Ready again in the metrics' });
  expect(of(back, 'secretsync_last_sync_timestamp_seconds', { name: 'db' })[0]?.value).toBeGreaterThan(synced);

  await custom.deleteNamespacedCustomObject({ group: 'secretsync.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs', name: 'db' });
  await eventually(async () => (seriesOf(await scrape(leader), 'db').length === 0 ? true : undefined), { what: 'db series gone' });
  expect((await getText(`http://127.0.0.1:${leader.metricsPort}/metrics`)).body).not.toContain('name="db"');
  expect(perSync(await scrape(follower))).toEqual([]);
}, 90_000);

test('a rotation and the rollout it causes move their counters; Rotated shows per SecretSync', async () => {
  const { leader } = await roles();
  await kvPut(`${id}/rot`, { password: CANARY });
  await apply(custom, sync('rot', { rotation: { schedule: '0 0 1 1 *', keys: ['password'], generator: { length: 32, charset: 'hex' } }, rollout: { auto: true } }));
  await waitReady(custom, ns, 'rot', 'True');
  await apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name: 'web', namespace: ns },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { ...NO_NODE, containers: [{ name: 'app', image: 'registry.example/app:1' }], volumes: [{ name: 's', secret: { secretName: 'rot' } }] },
        },
      },
    },
  });
  // Taken in at version 1 (recorded, not rolled).
  await eventually(async () => ((await getSync(custom, ns, 'rot')).status?.rollout?.targets?.some((t) => t.name === 'web' && t.version === 1) ? true : undefined), {
    what: 'rot records web',
  });
  const rotationsBefore = await counter(leader, 'secretsync_rotations_total', { namespace: ns, result: 'succeeded' });
  const rolloutsBefore = await counter(leader, 'secretsync_rollouts_total', { namespace: ns, kind: 'Deployment' });
  expect(await counter(leader, 'secretsync_rotations_total', { namespace: ns, result: 'failed' })).toBe(0);

  await patchSync(custom, ns, 'rot', { metadata: { annotations: { 'secretsync.io/rotate-now': 'one' } } });
  await eventually(async () => ((await getSync(custom, ns, 'rot')).status?.version === 2 ? true : undefined), { what: 'rot at version 2' });
  // Generated by the operator: the suite-wide leak scan looks for it too.
  registerValue(((await root.read(`secret/data/${id}/rot`)).data.data as { password: string }).password);
  await eventually(async () => {
    const d = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
    return d.spec?.template.metadata?.annotations?.['secretsync.io/version-rot'] === '2' ? true : undefined;
  }, { what: 'web rolled to version 2' });
  const after = await eventually(async () => {
    const s = await scrape(leader);
    const rot = of(s, 'secretsync_rotations_total', { namespace: ns, result: 'succeeded' }).reduce((n, x) => n + x.value, 0);
    const roll = of(s, 'secretsync_rollouts_total', { namespace: ns, kind: 'Deployment' }).reduce((n, x) => n + x.value, 0);
    return rot > rotationsBefore && roll > rolloutsBefore ? { s, rot, roll } : undefined;
  }, { what: 'the counters moved' });
  expect([after.rot - rotationsBefore, after.roll - rolloutsBefore]).toEqual([1, 1]);
  expect(of(after.s, 'secretsync_status_condition', { name: 'rot', condition: 'Rotated', status: 'True' })[0]?.value).toBe(1);
  console.log(
    `rotate-now: secretsync_rotations_total{result=succeeded} ${rotationsBefore} -> ${after.rot}, secretsync_rollouts_total{kind=Deployment} ${rolloutsBefore} -> ${after.roll}; ` +
      `rot's series:\n  ${seriesOf(after.s, 'rot').join('\n  ')}`,
  );
}, 90_000);

test('the leader stops: the replica that takes over exports the series from its own reconciles', async () => {
  const { leader, follower } = await roles();
  expect(perSync(await scrape(follower))).toEqual([]);
  expect(await leader.stop()).toBe(0); // a graceful stop releases the Lease
  ops = ops.filter((o) => o !== leader);
  await eventually(async () => ((await leading(follower)) ? true : undefined), { timeoutMs: 30_000, what: 'the follower leads' });
  const s = await eventually(async () => {
    const x = await scrape(follower);
    return of(x, 'secretsync_status_condition', { name: 'rot', condition: 'Ready', status: 'True' })[0]?.value === 1 ? x : undefined;
  }, { what: 'rot series on the new leader' });
  expect(seriesOf(s, 'rot')).toEqual(
    expect.arrayContaining([`secretsync_status_condition{namespace=${ns},name=rot,condition=Ready,status=True} 1`, `secretsync_last_sync_timestamp_seconds{namespace=${ns},name=rot} <time>`]),
  );
  // Counters are the process's own: the new leader counted no rotation.
  expect(of(s, 'secretsync_rotations_total', { namespace: ns })).toEqual([]);
}, 60_000);

test('no value in metrics, events, status or logs', async () => {
  for (const op of ops) await expectNoLeak({ core, custom }, ns, op, CANARY);
});
