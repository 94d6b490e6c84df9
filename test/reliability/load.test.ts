// Load while faulting (issue 21 item 5), on the reliability stack of its own (global-setup.js):
// N SecretSyncs (SECRETSYNC_LOAD_SYNCS, default 2,000) in four namespaces, each on a KV path of
// its own, synced by two operator processes under leader election. Once every one is Ready, a
// change wave writes a new version of every source; during it OpenBao is restarted (stopped,
// seeded again with the whole history, started) and the leader is SIGKILLed. Then every
// SecretSync must reach Ready at exactly one new version, its Secret holding the new content.
//
// Judged by the invariants of invariants.ts, fed from two watches (every synced Secret and
// every SecretSync of the run's namespaces; a 250 ms list poll of 2,000 Secrets would be load
// of its own): no Secret deleted, emptied or moved to an older version or content, no
// status.version down; and each Secret written exactly once for the wave (counted from the
// watch: one event per write), none after a full refresh cycle past convergence. The figures
// (time to create and become Ready, the wave, convergence after the wave started, ended and
// after the last fault cleared, operator writes, the operators' peak RSS) go to their own
// section of bench/results/reliability.md.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Watch, type V1Secret } from '@kubernetes/client-node';
import { pool } from '../../bench/run.js';
import { parseSamples } from '../../bench/prom.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../src/api/annotations.js';
import type { SecretSync } from '../../src/api/types.js';
import { eventually } from '../helpers/eventually.js';
import { apply, createNamespace, createSecret, installCrds, kube } from '../helpers/kube.js';
import { getText, loggedAt, startOperator, type RunningOperator } from '../helpers/operator.js';
import { procStatus } from '../helpers/proc.js';
import { requireEnv, uniqueName } from '../helpers/stack.js';
import { startProxy, type Proxy } from '../helpers/tcp-proxy.js';
import { InvariantWatch, ready } from './invariants.js';
import { KvHistory, vaultHealthy } from './kv-history.js';
import { writeSection } from './report.js';
import { reliabilityDir, start, stop } from './stack-faults.js';

const { kc, core, custom } = kube();
const G = { group: 'secretsync.io', version: 'v1alpha1', plural: 'secretsyncs' };
const N = Number(process.env.SECRETSYNC_LOAD_SYNCS ?? 2000);
/**
 * Each namespace reaches OpenBao through a SecretSource of its own, so the operator's fair
 * share applies: at most --source-concurrency (a quarter of the 20 workers) reconciles per
 * namespace at once; four namespaces together fill the workers.
 */
const NAMESPACES = 4;
/** Refresh interval of every SecretSync: a change is seen at the next refresh, so within this after it is written. */
const REFRESH_S = 30;
/** Concurrent KV writes of the test (seeding, the wave, a reseed): as fast as this stack takes them. */
const KV_WRITERS = 20;
/**
 * The bound on convergence after the last fault cleared (OpenBao back and seeded, a new
 * leader elected): one refresh interval for the last change to be seen, the retry backoff of
 * the reads that failed while OpenBao was down (at most about the outage), and the writes of
 * the wave at the operator's --qps 50 (two a SecretSync: Secret and status).
 */
const boundMs = (outageMs: number) => REFRESH_S * 1000 + outageMs + Math.ceil((2 * N) / 50) * 1000 + 30_000;

const id = uniqueName('load');
const opNs = `${id}-system`;
const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `${id}-${i}`);
const syncs = Array.from({ length: N }, (_, i) => ({ ns: namespaces[i % NAMESPACES] as string, name: `s-${String(i).padStart(5, '0')}` }));
const keyOf = (s: { ns: string; name: string }) => `${s.ns}/${s.name}`;
const kvPath = (s: { ns: string; name: string }) => `${id}/${s.ns}/${s.name}`;
const value = () => ({ password: randomBytes(12).toString('hex') });
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const MiB = 1024 * 1024;

const kv = new KvHistory();
const inv = new InvariantWatch({ core, custom }, '', () => []);
let proxy: Proxy;
const operators: RunningOperator[] = [];

// What the watches saw last, per SecretSync key: Ready at its generation, status.version;
// the Secret's digest, resourceVersion, and the writes counted since `countFrom` (the wave).
const syncState = new Map<string, { ready: boolean; version: number }>();
const secretState = new Map<string, { digest: string; resourceVersion: string; writes: number }>();
const mine = (ns: string | undefined) => !!ns && namespaces.includes(ns);

interface Listed<T> {
  items: T[];
  metadata?: { resourceVersion?: string };
}

/**
 * List, then watch from the list's resourceVersion; when the watch ends, on from the last
 * resourceVersion seen, and after 410 Gone (or a failure to reconnect) list again. `on` sees
 * every object of the list and every event, in order.
 */
function listWatch<T extends { metadata?: { resourceVersion?: string } }>(path: string, query: Record<string, string>, list: () => Promise<Listed<T>>, on: (type: string, obj: T) => void) {
  let stopped = false;
  let ctl: AbortController | undefined;
  let rv: string | undefined;
  let restarts = 0;
  const run = async (): Promise<void> => {
    if (stopped) return;
    try {
      if (rv === undefined) {
        const l = await list();
        for (const o of l.items) on('ADDED', o);
        rv = l.metadata?.resourceVersion;
      }
      ctl = await new Watch(kc).watch(
        path,
        { ...query, allowWatchBookmarks: true, resourceVersion: rv },
        (type: string, obj: T) => {
          if (type === 'ERROR') {
            rv = undefined;
            return;
          }
          rv = obj.metadata?.resourceVersion ?? rv;
          if (type !== 'BOOKMARK') on(type, obj);
        },
        () => again(),
      );
    } catch {
      rv = undefined;
      again();
    }
  };
  const again = () => {
    if (stopped) return;
    restarts++;
    setTimeout(() => void run(), 500);
  };
  const started = run();
  return {
    started,
    restarts: () => restarts,
    stop: () => {
      stopped = true;
      ctl?.abort();
    },
  };
}

const watches: ReturnType<typeof listWatch>[] = [];
let countFrom = false;
/** SecretSyncs seen Ready=False since the wave began: the faults reached them. */
const notReadyInWave = new Set<string>();

function watchAll() {
  const selector = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;
  watches.push(
    listWatch<V1Secret>(
      '/api/v1/secrets',
      { labelSelector: selector },
      () => core.listSecretForAllNamespaces({ labelSelector: selector }) as Promise<Listed<V1Secret>>,
      (type, s) => {
        if (!mine(s.metadata?.namespace)) return;
        const key = `${s.metadata?.namespace}/${s.metadata?.name}`;
        const seen = inv.seeSecret(key, type === 'DELETED' ? undefined : s);
        const before = secretState.get(key);
        if (!seen) {
          secretState.delete(key);
          return;
        }
        const wrote = before !== undefined && before.resourceVersion !== seen.resourceVersion;
        secretState.set(key, { ...seen, writes: (before?.writes ?? 0) + (wrote && countFrom ? 1 : 0) });
      },
    ),
    listWatch<SecretSync>(
      `/apis/${G.group}/${G.version}/${G.plural}`,
      {},
      () => custom.listClusterCustomObject(G) as Promise<Listed<SecretSync>>,
      (type, s) => {
        if (!mine(s.metadata.namespace) || type === 'DELETED') return;
        const key = `${s.metadata.namespace}/${s.metadata.name}`;
        syncState.set(key, { ready: ready(s), version: inv.seeSync(key, s.status?.version ?? 0) });
        if (countFrom && s.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'False')) notReadyInWave.add(key);
      },
    ),
  );
  return Promise.all(watches.map((w) => w.started));
}

/** The operator's counter `name` summed by `label` (0 when it no longer answers). */
async function metricBy(op: RunningOperator, name: string, labels: string[]): Promise<Record<string, number>> {
  const body = await getText(`http://127.0.0.1:${op.metricsPort}/metrics`)
    .then((r) => r.body)
    .catch(() => '');
  const out: Record<string, number> = {};
  for (const s of parseSamples(body)) {
    if (s.name !== name) continue;
    const k = labels.map((l) => s.labels[l] ?? '').join(' ');
    out[k] = (out[k] ?? 0) + s.value;
  }
  return out;
}
const minus = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]));
const plus = (a: Record<string, number>, b: Record<string, number>) =>
  Object.fromEntries([...new Set([...Object.keys(a), ...Object.keys(b)])].map((k) => [k, (a[k] ?? 0) + (b[k] ?? 0)]));
const show = (r: Record<string, number>) =>
  Object.entries(r)
    .filter(([, v]) => v !== 0)
    .sort()
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
const writesOf = (op: RunningOperator) => metricBy(op, 'secretsync_kube_writes_total', ['verb', 'resource']);
/** The operator's reconciles of the run's SecretSyncs by result (synced, unchanged, error); an operator over all namespaces also serves other files' leftovers. */
async function resultsOf(op: RunningOperator): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(await metricBy(op, 'secretsync_syncs_total', ['namespace', 'result']))) {
    const [ns, result] = k.split(' ');
    if (mine(ns) && result) out[result] = (out[result] ?? 0) + v;
  }
  return out;
}
const readsOf = async (op: RunningOperator) => (await metricBy(op, 'secretsync_provider_calls_total', ['operation'])).read ?? 0;

/** SecretSyncs not yet Ready at a version above `base`'s with the Secret holding their source's last version. */
function notConverged(base: Map<string, number>): string[] {
  return syncs
    .filter((s) => {
      const k = keyOf(s);
      const st = syncState.get(k);
      return !st?.ready || st.version <= (base.get(k) ?? 0) || secretState.get(k)?.digest !== kv.digest(kvPath(s));
    })
    .map(keyOf);
}

beforeAll(async () => {
  const u = new URL(requireEnv('VAULT_ADDR'));
  proxy = await startProxy(u.hostname, Number(u.port));
  await installCrds(kc);
  await createNamespace(core, opNs);
  for (const ns of namespaces) {
    await createNamespace(core, ns);
    await createSecret(core, ns, 'vault-token', { token: requireEnv('VAULT_TOKEN') });
    await apply(custom, {
      kind: 'SecretSource',
      metadata: { name: 'vault', namespace: ns },
      spec: { vault: { address: `http://127.0.0.1:${proxy.port}`, auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } } } },
    });
  }
  await watchAll();
}, 120_000);

afterAll(async () => {
  for (const w of watches) w.stop();
  await Promise.all(operators.map((o) => o.stop('SIGKILL')));
  // Their lines, for a post-mortem (at info level; no secret value in them).
  operators.forEach((o, i) => writeFileSync(join(reliabilityDir(), 'logs', `operator-load-${i}.log`), o.logs.join('\n')));
  await proxy?.down();
});

test(`${N} SecretSyncs: a change wave while OpenBao restarts and the leader is killed; nothing lost, every one converges`, async () => {
  const t0 = Date.now();
  await pool(syncs, KV_WRITERS, (s) => kv.write(kvPath(s), value()));
  const seededMs = Date.now() - t0;

  // Two operator processes over all namespaces (the run's are the ones that matter).
  const lease = `${id}-leader`;
  const args = [`--operator-namespace=${opNs}`, '--leader-elect', `--leader-election-id=${lease}`, '--log-level=info'];
  operators.push(await startOperator(args), await startOperator(args));
  const leader = await eventually(async () => operators.find((o) => o.logs.some((l) => l.includes('"became leader"'))), { timeoutMs: 60_000, what: 'a leader' });
  const follower = operators.find((o) => o !== leader) as RunningOperator;

  const c0 = Date.now();
  await pool(syncs, 50, (s) =>
    custom.createNamespacedCustomObject({
      ...G,
      namespace: s.ns,
      body: {
        apiVersion: `${G.group}/${G.version}`,
        kind: 'SecretSync',
        metadata: { name: s.name, namespace: s.ns },
        spec: { sourceRef: { name: 'vault' }, data: [{ key: 'password', remoteRef: { path: kvPath(s), property: 'password' } }], refresh: { interval: `${REFRESH_S}s` } },
      },
    }),
  );
  const createdMs = Date.now() - c0;
  const none = new Map<string, number>();
  await eventually(async () => (notConverged(none).length === 0 ? true : undefined), {
    timeoutMs: 120_000 + N * 300,
    intervalMs: 500,
    what: `all ${N} SecretSyncs Ready with their Secrets`,
  });
  const readyMs = Date.now() - c0;
  process.stdout.write(`load: ${N} created in ${secs(createdMs)}, all Ready in ${secs(readyMs)}\n`);

  // The wave: a new version of every source, in three slices; OpenBao restarted after the
  // first, the leader killed as the last begins.
  const base = new Map([...syncState].map(([k, v]) => [k, v.version]));
  countFrom = true;
  const writes0 = await Promise.all(operators.map(writesOf));
  const results0 = await Promise.all(operators.map(resultsOf));
  const order = [...syncs].sort(() => Math.random() - 0.5);
  const third = Math.ceil(N / 3);
  const waveAt = Date.now();
  await pool(order.slice(0, third), KV_WRITERS, (s) => kv.write(kvPath(s), value()));

  const bao0 = Date.now();
  await proxy.down();
  const stopped = await stop('openbao', 0);
  await start(stopped, vaultHealthy);
  await kv.reseed(KV_WRITERS);
  await proxy.up();
  const baoBackAt = Date.now();

  await pool(order.slice(third, 2 * third), KV_WRITERS, (s) => kv.write(kvPath(s), value()));
  const lastSlice = pool(order.slice(2 * third), KV_WRITERS, (s) => kv.write(kvPath(s), value()));
  const leaderWrites = minus(await writesOf(leader), writes0[operators.indexOf(leader)] ?? {});
  const leaderResults = minus(await resultsOf(leader), results0[operators.indexOf(leader)] ?? {});
  const leaderMem = procStatus(leader.proc.pid as number);
  const killedAt = Date.now();
  leader.proc.kill('SIGKILL');
  await lastSlice;
  const waveEndAt = Date.now();
  const newLeader = await eventually(async () => follower.logs.find((l) => l.includes('"became leader"')), { timeoutMs: 60_000, what: 'the follower leading' });
  const leadingAt = loggedAt(newLeader);
  const clearedAt = Math.max(baoBackAt, leadingAt);
  const bound = boundMs(baoBackAt - bao0);

  let convergedAt: number | undefined;
  const broken: string[] = [];
  try {
    await eventually(async () => (notConverged(base).length === 0 ? true : undefined), {
      timeoutMs: bound + 60_000,
      intervalMs: 250,
      what: `all ${N} SecretSyncs at a new version with the new content`,
    });
    convergedAt = Date.now();
  } catch (err) {
    const left = notConverged(base);
    broken.push(`${left.length} not converged (e.g. ${left.slice(0, 5).join(', ')}): ${(err as Error).message}`);
  }
  // A positive event before judging "written exactly once": a whole refresh cycle (a read
  // of every source) after convergence, so any write still to come would have come.
  const reads0 = await readsOf(follower);
  await eventually(async () => ((await readsOf(follower)) - reads0 >= N ? true : undefined), {
    timeoutMs: (REFRESH_S + 60) * 1000,
    intervalMs: 1000,
    what: `a refresh cycle of all ${N} after convergence`,
  }).catch((e: Error) => broken.push(e.message));
  const followerWrites = minus(await writesOf(follower), writes0[operators.indexOf(follower)] ?? {});
  const followerResults = minus(await resultsOf(follower), results0[operators.indexOf(follower)] ?? {});
  const followerMem = procStatus(follower.proc.pid as number);
  // What one look of InvariantWatch.poll (a list of the Secrets and one of the SecretSyncs) costs at this size.
  const l0 = Date.now();
  await Promise.all(namespaces.map((namespace) => Promise.all([core.listNamespacedSecret({ namespace }), custom.listNamespacedCustomObject({ ...G, namespace })])));
  const listMs = Date.now() - l0;

  const versionsGrown = new Map<number, number>();
  const writeCounts = new Map<number, number>();
  for (const s of syncs) {
    const k = keyOf(s);
    const grew = (syncState.get(k)?.version ?? 0) - (base.get(k) ?? 0);
    versionsGrown.set(grew, (versionsGrown.get(grew) ?? 0) + 1);
    const w = secretState.get(k)?.writes ?? 0;
    writeCounts.set(w, (writeCounts.get(w) ?? 0) + 1);
  }
  const hist = (m: Map<number, number>) =>
    [...m]
      .sort(([a], [b]) => a - b)
      .map(([k, n]) => `${n}×${k}`)
      .join(', ');
  if (versionsGrown.get(1) !== N) broken.push(`new versions per SecretSync: ${hist(versionsGrown)} (each should have exactly 1)`);
  if (writeCounts.get(1) !== N) broken.push(`Secret writes per SecretSync for the wave: ${hist(writeCounts)} (each should be written exactly once)`);
  broken.push(...inv.violations.splice(0));
  const recoveryMs = convergedAt === undefined ? undefined : convergedAt - clearedAt;
  if (recoveryMs !== undefined && recoveryMs > bound) broken.push(`converged ${secs(recoveryMs)} after the last fault cleared, over the bound of ${secs(bound)}`);

  const totalWrites = plus(leaderWrites, followerWrites);
  const conv = (from: number) => (convergedAt === undefined ? 'not converged' : secs(convergedAt - from));
  const body = [
    `\`SECRETSYNC_LOAD_SYNCS=${N}\` [test/reliability/load.test.ts](../../test/reliability/load.test.ts), ${new Date().toISOString().slice(0, 16)}Z, on the reliability stack (2 cores shared).`,
    `${N} SecretSyncs in ${NAMESPACES} namespaces (a SecretSource each: the fair share applies), each on its own KV path, refreshed every ${REFRESH_S} s;`,
    `two operator processes (\`--leader-elect\`, defaults: 20 workers, --qps 50, --burst 100). The wave writes a new KV version of every source,`,
    `${KV_WRITERS} at a time, in three slices: OpenBao restarted after the first (stopped, started, seeded again with all ${2 * N} versions),`,
    `the leader SIGKILLed as the last begins. Invariants fed from watches of the Secrets and SecretSyncs.`,
    '',
    '| figure | value |',
    '|---|---|',
    `| invariants | ${broken.length ? `BROKEN: ${broken.join('; ')}` : 'held (no Secret deleted, emptied or older; no status.version down)'} |`,
    `| KV seeded (${N} paths) | ${secs(seededMs)} |`,
    `| ${N} SecretSyncs created / all Ready | ${secs(createdMs)} / ${secs(readyMs)} after the first create |`,
    `| wave (${N} KV writes, OpenBao restart included) | ${secs(waveEndAt - waveAt)} |`,
    `| OpenBao down (stop, start, reseed) | ${secs(baoBackAt - bao0)} |`,
    `| leader killed → follower leading | ${secs(leadingAt - killedAt)} |`,
    `| converged after the wave started | ${conv(waveAt)} |`,
    `| converged after the wave ended | ${conv(waveEndAt)} |`,
    `| converged after the last fault cleared | ${conv(clearedAt)} (bound ${secs(bound)}) |`,
    `| what proved the faults bit | ${notReadyInWave.size} SecretSyncs seen Ready=False during the wave; the run's reconciles (both operators) ${show(plus(leaderResults, followerResults))} |`,
    `| new versions per SecretSync | ${hist(versionsGrown)} |`,
    `| Secret writes per SecretSync for the wave (watch) | ${hist(writeCounts)} |`,
    `| operator API writes for the wave (metrics, all namespaces: the killed leader's scraped just before the kill, so its writes in flight then are missing; + the new leader's) | ${show(totalWrites)} |`,
    `| peak RSS (VmHWM): killed leader / new leader | ${(leaderMem.hwm / MiB).toFixed(0)} MiB / ${(followerMem.hwm / MiB).toFixed(0)} MiB |`,
    `| the test's watches (Secrets, SecretSyncs): restarts | ${watches.map((w) => w.restarts()).join(', ')} |`,
    `| one list of all ${N} Secrets and SecretSyncs (what a 250 ms poll would repeat) | ${listMs} ms |`,
  ].join('\n');
  writeSection('Load while faulting', body);
  expect(broken).toEqual([]);
}, 3_600_000);
