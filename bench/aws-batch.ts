// Benchmark (make bench; not part of make test): how many AWS API calls one full refresh
// of 200 SecretSyncs on one AWS SecretSource costs. Against the local stack (reused when
// `make testenv-up` runs it, else started and stopped here): 200 secrets in moto, an aws
// SecretSource with static keys, 200 SecretSyncs (one key each, distinct secrets) in a
// fresh namespace, and the real operator process with default flags. After the initial
// sync it forces one refresh of all 200 (a new secretsync.io/force-sync value on each)
// and reads secretsync_provider_calls_total from /metrics before and after, then counts
// the calls of the next scheduled 30 s interval (the syncs of one AWS source share their
// refresh moment). Exits 1 when the forced refresh took more than ceil(200 / 20) = 10 read
// calls, or the scheduled one more than 20.
import { randomBytes } from 'node:crypto';
import { setHeaderOptions } from '@kubernetes/client-node';
import { FORCE_SYNC_ANNOTATION } from '../src/api/annotations.js';
import type { SecretSync } from '../src/api/types.js';
import { createSecret, deleteSecrets, keysData, keysRef, secretsAdmin } from '../test/helpers/aws.js';
import { eventually } from '../test/helpers/eventually.js';
import { apply, createNamespace, createSecret as createKubeSecret, deleteNamespace, deleteSyncs, installCrds, kube, readyCondition } from '../test/helpers/kube.js';
import { getText, startOperator, type RunningOperator } from '../test/helpers/operator.js';
import { awsConfig } from '../test/helpers/stack.js';
import { stateDir } from '../test/testenv/config.js';
import { down, exportEnv, isRunning, readState, up } from '../test/testenv/index.js';
import { delta, parseSamples, sumBy } from './prom.js';
import { pool, runBench } from './run.js';

const SYNCS = 200;
const MAX_READS = Math.ceil(SYNCS / 20);
const INTERVAL_S = 30;
const G = { group: 'secretsync.io', version: 'v1alpha1' };

const say = (msg: string) => process.stdout.write(`${msg}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<number> {
  const dir = stateDir();
  const running = readState(dir);
  const owned = !isRunning(running);
  exportEnv(owned ? await up(dir) : running);
  const { kc, core, custom } = kube();
  const sm = secretsAdmin();
  const id = `bench-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  const ns = `${id}-apps`;
  const opNs = `${id}-system`;
  const names = Array.from({ length: SYNCS }, (_, i) => `${id}/s${String(i).padStart(3, '0')}`);
  let op: RunningOperator | undefined;
  try {
    await installCrds(kc);
    await createNamespace(core, ns);
    await createNamespace(core, opNs);
    say(`setting up: ${SYNCS} secrets in moto, SecretSource ${ns}/aws, ${SYNCS} SecretSyncs`);
    await pool(names, 20, (n) => createSecret(sm, n, { value: randomBytes(12).toString('hex') }));
    await createKubeSecret(core, ns, 'aws-keys', keysData(awsConfig().credentials));
    const { region, endpoint } = awsConfig();
    await apply(custom, { kind: 'SecretSource', metadata: { name: 'aws', namespace: ns }, spec: { aws: { region, endpoint, auth: keysRef('aws-keys') } } });
    await pool(names.map((n, i) => ({ n, i })), 20, ({ n, i }) =>
      apply(custom, {
        kind: 'SecretSync',
        metadata: { name: `sync-${String(i).padStart(3, '0')}`, namespace: ns },
        spec: { sourceRef: { name: 'aws' }, data: [{ key: 'value', remoteRef: { path: n, property: 'value' } }], refresh: { interval: `${INTERVAL_S}s` } },
      }),
    );

    const calls = async () => {
      const samples = parseSamples((await getText(`http://127.0.0.1:${op?.metricsPort}/metrics`)).body);
      return {
        byOp: sumBy(samples, 'secretsync_provider_calls_total', { provider: 'aws', source: `SecretSource/${ns}/aws` }, 'operation'),
        syncs: sumBy(samples, 'secretsync_syncs_total', { namespace: ns }, 'result'),
        writes: Object.values(sumBy(samples, 'secretsync_kube_writes_total', {}, 'verb')).reduce((a, b) => a + b, 0),
        depth: Object.values(sumBy(samples, 'secretsync_workqueue_depth', {}, 'name')).reduce((a, b) => a + b, 0),
      };
    };
    /** Every sync counted, the queue empty and no Kubernetes write for a second: nothing left in flight. */
    const quiet = async () => {
      const a = await calls();
      await new Promise((r) => setTimeout(r, 1000));
      const b = await calls();
      return (b.syncs.synced ?? 0) >= SYNCS && b.depth === 0 && a.writes === b.writes && JSON.stringify(a.byOp) === JSON.stringify(b.byOp)
        ? b
        : undefined;
    };
    const allReady = async () => {
      const list = (await custom.listNamespacedCustomObject({ ...G, namespace: ns, plural: 'secretsyncs' })) as { items: SecretSync[] };
      const ready = list.items.filter((s) => readyCondition(s)?.status === 'True' && s.status?.observedGeneration === s.metadata.generation);
      return ready.length === SYNCS ? true : undefined;
    };

    // Initial sync: the operator starts with all 200 SecretSyncs already there.
    const t0 = Date.now();
    op = await startOperator([`--namespace=${ns}`, `--operator-namespace=${opNs}`, '--log-level=info']);
    await eventually(allReady, { timeoutMs: 300_000, intervalMs: 250, what: `${SYNCS} SecretSyncs Ready` });
    const initialMs = Date.now() - t0;
    // Ready is written before the sync's event and counter: let the tail of the initial sync finish.
    const afterInitial = await eventually(quiet, { timeoutMs: 120_000, intervalMs: 0, what: 'the operator to settle' });

    // One full refresh: a new force-sync value on every SecretSync, in one go.
    const mergePatch = setHeaderOptions('Content-Type', 'application/merge-patch+json');
    const stamp = `bench-${Date.now()}`;
    const t1 = Date.now();
    await pool(names.map((_, i) => `sync-${String(i).padStart(3, '0')}`), 50, (name) =>
      custom.patchNamespacedCustomObject({ ...G, namespace: ns, plural: 'secretsyncs', name, body: { metadata: { annotations: { [FORCE_SYNC_ANNOTATION]: stamp } } } }, mergePatch),
    );
    const before = afterInitial.syncs;
    await eventually(
      async () => {
        const d = delta((await calls()).syncs, before);
        if ((d.error ?? 0) > 0) throw new Error(`${d.error} refreshes failed`);
        return (d.unchanged ?? 0) + (d.synced ?? 0) >= SYNCS ? true : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 100, what: `${SYNCS} refreshes` },
    );
    const refreshMs = Date.now() - t1;
    const afterRefresh = await calls();
    await new Promise((r) => setTimeout(r, 500)); // nothing more should follow
    const settled = await calls();

    // One scheduled interval: the syncs of one AWS source share their refresh moment, so
    // the batcher serves them together (spread like Vault's, they would take ~200 calls).
    await new Promise((r) => setTimeout(r, (INTERVAL_S + 2) * 1000));
    const scheduled = delta((await calls()).byOp, settled.byOp);
    const scheduledReads = (scheduled.BatchGetSecretValue ?? 0) + (scheduled.GetSecretValue ?? 0);

    const initial = afterInitial.byOp;
    const refresh = delta(settled.byOp, initial);
    const fmt = (c: Record<string, number>) =>
      `${c.BatchGetSecretValue ?? 0} BatchGetSecretValue calls (${c.GetSecretValue ?? 0} GetSecretValue${c.AssumeRole ? `, ${c.AssumeRole} AssumeRole` : ''})`;
    const reads = (refresh.BatchGetSecretValue ?? 0) + (refresh.GetSecretValue ?? 0);
    say('');
    say(`initial sync of ${SYNCS} SecretSyncs: ${fmt(initial)}, ${seconds(initialMs)}`);
    say(`refresh of ${SYNCS} SecretSyncs: ${fmt(refresh)}, ${seconds(refreshMs)}`);
    if (JSON.stringify(settled.byOp) !== JSON.stringify(afterRefresh.byOp)) say('note: calls continued after the refresh completed');
    say(`scheduled refreshes in the next ${INTERVAL_S} s interval: ${fmt(scheduled)}`);
    const ok = reads <= MAX_READS && scheduledReads <= 2 * MAX_READS;
    say(`refresh read calls: ${reads} (limit ${MAX_READS}: ceil(${SYNCS}/20)); one scheduled interval: ${scheduledReads} (limit ${2 * MAX_READS}) -> ${ok ? 'PASS' : 'FAIL'}`);
    return ok ? 0 : 1;
  } finally {
    say('cleaning up');
    if (op) {
      await deleteSyncs(custom, ns, 180_000).catch((e: Error) => say(`cleanup: ${e.message}`));
      await op.stop();
    }
    await deleteSecrets(sm, names);
    sm.destroy();
    await deleteNamespace(core, ns);
    await deleteNamespace(core, opNs);
    if (owned) await down(dir);
  }
}

runBench(main);
