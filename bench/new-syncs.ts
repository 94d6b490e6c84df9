// Benchmark (make bench-writes; not part of make test): what N new SecretSyncs on one Vault
// source cost the API server, and how long until all are Ready. Against the local stack
// (reused when `make testenv-up` runs it, else started and stopped here): one kv secret in
// OpenBao, a token SecretSource, the real operator process (default flags unless --qps /
// --burst are given), then N SecretSyncs created 50 at a time. Prints the operator's writes
// per new SecretSync by resource and verb (from secretsync_kube_writes_total), the time to
// all Ready, and checks a quiet minute afterwards writes nothing. Exits 1 when a new
// SecretSync costs more than 3 writes or the quiet minute wrote anything.
//
//   npx tsx bench/new-syncs.ts [--syncs 1000] [--qps Q --burst B] [--quiet-seconds 60]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { SecretSync } from '../src/api/types.js';
import { eventually } from '../test/helpers/eventually.js';
import { apply, createNamespace, createSecret, deleteNamespace, installCrds, kube, readyCondition } from '../test/helpers/kube.js';
import { getText, startOperator, type RunningOperator } from '../test/helpers/operator.js';
import { requireEnv } from '../test/helpers/stack.js';
import { kvPut } from '../test/helpers/vault.js';
import { stateDir } from '../test/testenv/config.js';
import { down, exportEnv, isRunning, readState, up } from '../test/testenv/index.js';
import { delta, parseSamples, sumBy } from './prom.js';
import { pool, runBench } from './run.js';

const G = { group: 'secretsync.io', version: 'v1alpha1' };
const MAX_WRITES_PER_SYNC = 3;
const say = (msg: string) => process.stdout.write(`${msg}\n`);


async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { syncs: { type: 'string', default: '1000' }, qps: { type: 'string' }, burst: { type: 'string' }, 'quiet-seconds': { type: 'string', default: '60' } },
  });
  const n = Number(values.syncs);
  const quietS = Number(values['quiet-seconds']);
  const dir = stateDir();
  const running = readState(dir);
  const owned = !isRunning(running);
  exportEnv(owned ? await up(dir) : running);
  const { kc, core, custom } = kube();
  const id = `bench-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  const ns = `${id}-apps`;
  const opNs = `${id}-system`;
  let op: RunningOperator | undefined;
  try {
    await installCrds(kc);
    await createNamespace(core, ns);
    await createNamespace(core, opNs);
    await createSecret(core, ns, 'vault-token', { token: requireEnv('VAULT_TOKEN') });
    await kvPut(`${id}/db`, { password: randomBytes(12).toString('hex') });
    await apply(custom, {
      kind: 'SecretSource',
      metadata: { name: 'vault', namespace: ns },
      spec: { vault: { address: requireEnv('VAULT_ADDR'), auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } } } },
    });
    const flags = [
      `--namespace=${ns}`,
      `--operator-namespace=${opNs}`,
      '--log-level=info',
      ...(values.qps ? [`--qps=${values.qps}`] : []),
      ...(values.burst ? [`--burst=${values.burst}`] : []),
    ];
    op = await startOperator(flags);
    const metrics = async () => parseSamples((await getText(`http://127.0.0.1:${op?.metricsPort}/metrics`)).body);
    const writes = async () => {
      const s = await metrics();
      const out: Record<string, number> = {};
      for (const x of s.filter((x) => x.name === 'secretsync_kube_writes_total')) {
        const k = `${x.labels.resource} ${x.labels.verb}`;
        out[k] = (out[k] ?? 0) + x.value;
      }
      return out;
    };
    await eventually(async () => (op?.logs.some((l) => l.includes('"caches synced"')) ? true : undefined), { what: 'operator started' });
    const before = await writes();

    say(`creating ${n} SecretSyncs on SecretSource ${ns}/vault (operator flags: ${flags.slice(3).join(' ') || 'defaults'})`);
    const names = Array.from({ length: n }, (_, i) => `sync-${String(i).padStart(5, '0')}`);
    const t0 = Date.now();
    await pool(names, 50, (name) =>
      apply(custom, {
        kind: 'SecretSync',
        metadata: { name, namespace: ns },
        spec: { sourceRef: { name: 'vault' }, data: [{ key: 'password', remoteRef: { path: `${id}/db`, property: 'password' } }], refresh: { interval: '30s' } },
      }),
    );
    const createdMs = Date.now() - t0;
    const readyAt = new Map<string, number>();
    await eventually(
      async () => {
        const list = (await custom.listNamespacedCustomObject({ ...G, namespace: ns, plural: 'secretsyncs' })) as { items: SecretSync[] };
        for (const s of list.items) {
          if (!readyAt.has(s.metadata.name) && readyCondition(s)?.status === 'True') readyAt.set(s.metadata.name, Date.now() - t0);
        }
        return readyAt.size === n ? true : undefined;
      },
      { timeoutMs: 1_800_000, intervalMs: 500, what: `${n} SecretSyncs Ready` },
    );
    const allReadyMs = Date.now() - t0;
    // Let the last events and counters land, then take the figures.
    await eventually(async () => {
      const a = await writes();
      await new Promise((r) => setTimeout(r, 1000));
      return JSON.stringify(a) === JSON.stringify(await writes()) ? true : undefined;
    }, { timeoutMs: 120_000, intervalMs: 0, what: 'writes to settle' });
    // ClusterSecretSources are cluster-wide: on a shared stack other operators' ones may be
    // touched meanwhile; they are no cost of these SecretSyncs.
    const perSync = (w: Record<string, number>) => Object.fromEntries(Object.entries(w).filter(([k, v]) => v > 0 && !k.startsWith('clustersecretsources')));
    const initial = perSync(delta(await writes(), before));
    const total = Object.values(initial).reduce((a, b) => a + b, 0);

    say(`quiet window: ${quietS} s with nothing changed (refresh interval 30 s)`);
    const q0 = await writes();
    const reads0 = sumBy(await metrics(), 'secretsync_provider_calls_total', { operation: 'read' }, 'result');
    await new Promise((r) => setTimeout(r, quietS * 1000));
    const quiet = perSync(delta(await writes(), q0));
    const quietWrites = Object.values(quiet).reduce((a, b) => a + b, 0);
    const quietReads = Object.values(delta(sumBy(await metrics(), 'secretsync_provider_calls_total', { operation: 'read' }, 'result'), reads0)).reduce((a, b) => a + b, 0);

    const sorted = [...readyAt.values()].sort((a, b) => a - b);
    const pct = (p: number) => (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0) / 1000;
    say('');
    say(`new SecretSyncs:            ${n} (created by the bench in ${(createdMs / 1000).toFixed(1)} s, 50 at a time)`);
    say(`time to all Ready:          ${(allReadyMs / 1000).toFixed(1)} s (per object p50 ${pct(50).toFixed(1)} s, p95 ${pct(95).toFixed(1)} s)`);
    say(`API writes:                 ${total} = ${(total / n).toFixed(2)} per new SecretSync`);
    for (const [k, v] of Object.entries(initial).sort()) say(`  ${k.padEnd(28)} ${v} (${(v / n).toFixed(2)} each)`);
    say(`quiet ${quietS} s:                ${quietWrites} writes, ${quietReads} provider reads`);
    const ok = total / n <= MAX_WRITES_PER_SYNC && quietWrites === 0;
    say(`writes per new SecretSync <= ${MAX_WRITES_PER_SYNC} and a quiet window without writes -> ${ok ? 'PASS' : 'FAIL'}`);
    return ok ? 0 : 1;
  } finally {
    say('cleaning up');
    await op?.stop();
    await deleteNamespace(core, ns);
    await deleteNamespace(core, opNs);
    if (owned) await down(dir);
  }
}

runBench(main);
