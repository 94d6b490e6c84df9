// Benchmark (make bench-scale; not part of make test): N SecretSyncs against the floor.
//
//   npm run bench -- scale --syncs N --source vault|aws [--envelope] [--inject] [--qps Q --burst B]
//                          [--workers W] [--paths P] [--interval-seconds 30] [--quiet-seconds 120]
//                          [--no-floor] [--no-restart]
//
// Against the real local stack (reused when `make testenv-up` runs it, else started and
// stopped here), in one run:
// 1. the floor: a bare script with the same Kubernetes client and the same QPS/burst doing
//    only the unavoidable work for N new SecretSyncs (one provider read per remote path, a
//    data key per object in envelope mode, create N Secrets, patch N statuses);
// 2. the operator (built, `node <the Dockerfile's node flags> dist/src/cli.js operator`, as the image runs it) with those
//    flags: time from creating N SecretSyncs to all Ready (total, p50/p95 per object), its
//    RSS (steady and the kernel's peak), V8 heap and event-loop lag (bench/probe.mjs, loaded
//    into it), API requests by resource and verb, provider calls by operation, and the CPU
//    seconds of the operator, kube-apiserver and etcd meanwhile;
// 3. a quiet window with nothing changed: writes (must be 0), provider calls per refresh cycle;
// 4. a change wave: 10% of the remote secrets changed at once, the time until every
//    affected SecretSync holds a new version (with --inject, new ReplicaSets per Deployment);
// 5. a restart: the operator SIGKILLed and started again with N objects in place: time to
//    caches synced, provider calls and writes in the first refresh interval.
// Prints a table and saves the JSON record under bench/results/. Remote secrets: P paths
// (default N/10), SecretSync i reads path i mod P, so syncs share secrets as teams' do.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, Watch, setHeaderOptions } from '@kubernetes/client-node';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, OWNER_LABEL } from '../src/api/annotations.js';
import type { AnySource, SecretSync } from '../src/api/types.js';
import { encodeEnvelope, seal, type KekCoordinates } from '../src/crypto/envelope.js';
import { shareConnections } from '../src/kube/connections.js';
import { providerKube } from '../src/kube/provider-kube.js';
import { createAwsProviderFactory } from '../src/providers/aws/index.js';
import type { RemoteValue, SecretProvider } from '../src/providers/provider.js';
import { createVaultProviderFactory } from '../src/providers/vault/index.js';
import { ClientRateLimiter } from '../src/runtime/client-rate-limiter.js';
import { createSecret as createAwsSecret, keysData, keysRef, putSecret, secretsAdmin } from '../test/helpers/aws.js';
import { eventually } from '../test/helpers/eventually.js';
import { apply, createNamespace, createSecret, deleteNamespace, installCrds, kube } from '../test/helpers/kube.js';
import { getText, imageNodeFlags, startOperator, type RunningOperator } from '../test/helpers/operator.js';
import { procStatus } from '../test/helpers/proc.js';
import { awsConfig, requireEnv } from '../test/helpers/stack.js';
import { kvPut, vaultRoot } from '../test/helpers/vault.js';
import { repoRoot, stateDir } from '../test/testenv/config.js';
import { down, exportEnv, isRunning, readState, up } from '../test/testenv/index.js';
import { delta, parseSamples, type Sample } from './prom.js';
import { pool } from './run.js';

const G = { group: 'secretsync.io', version: 'v1alpha1' };
const say = (msg: string) => process.stdout.write(`${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const MiB = 1024 * 1024;
const DEFAULTS = { qps: 50, burst: 100, workers: 20 };

export interface ScaleArgs {
  syncs: number;
  source: 'vault' | 'aws';
  envelope: boolean;
  inject: boolean;
  qps?: number;
  burst?: number;
  workers?: number;
  paths: number;
  intervalS: number;
  quietS: number;
  floor: boolean;
  restart: boolean;
}

function parse(argv: string[]): ScaleArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      syncs: { type: 'string', default: '1000' },
      source: { type: 'string', default: 'vault' },
      envelope: { type: 'boolean', default: false },
      inject: { type: 'boolean', default: false },
      qps: { type: 'string' },
      burst: { type: 'string' },
      workers: { type: 'string' },
      paths: { type: 'string' },
      'interval-seconds': { type: 'string', default: '30' },
      'quiet-seconds': { type: 'string', default: '120' },
      'no-floor': { type: 'boolean', default: false },
      'no-restart': { type: 'boolean', default: false },
    },
  });
  const int = (name: string, v: string | undefined, min: number) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got "${v}"`);
    return n;
  };
  const syncs = int('syncs', values.syncs, 1) as number;
  if (values.source !== 'vault' && values.source !== 'aws') throw new Error(`--source must be vault or aws, got "${values.source}"`);
  return {
    syncs,
    source: values.source,
    envelope: !!values.envelope,
    inject: !!values.inject,
    qps: int('qps', values.qps, 1),
    burst: int('burst', values.burst, 1),
    workers: int('workers', values.workers, 1),
    paths: int('paths', values.paths, 1) ?? Math.max(1, Math.ceil(syncs / 10)),
    intervalS: int('interval-seconds', values['interval-seconds'], 10) as number,
    quietS: int('quiet-seconds', values['quiet-seconds'], 10) as number,
    floor: !values['no-floor'],
    restart: !values['no-restart'],
  };
}

// ---------------------------------------------------------------------------------------
// Processes: RSS and CPU from /proc.

const CLK_TCK = 100;

/** CPU seconds (user + system) `pid` has used so far; 0 when it is gone. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

type CpuMark = Record<string, number>;

function cpuMark(pids: Record<string, number>): CpuMark {
  return Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
}

function cpuSince(pids: Record<string, number>, from: CpuMark): CpuMark {
  const now = cpuMark(pids);
  return Object.fromEntries(Object.keys(pids).map((k) => [k, round1((now[k] ?? 0) - (from[k] ?? 0))]));
}

const round1 = (x: number) => Math.round(x * 10) / 10;

// ---------------------------------------------------------------------------------------
// The operator under test: metrics, probe lines, RSS samples.

interface ProbeLine {
  t: number;
  phase: number;
  lagP50: number;
  lagP99: number;
  lagMax: number;
  samples: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
}

class Observed {
  readonly rss: { t: number; rss: number }[] = [];
  private timer?: NodeJS.Timeout;
  private phase = 0;

  constructor(
    readonly op: RunningOperator,
    private readonly probeFile: string,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      try {
        this.rss.push({ t: Date.now(), rss: procStatus(this.op.proc.pid as number).rss });
      } catch {
        // the process is gone
      }
    }, 1000);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Starts a new probe phase (the event-loop histogram resets); returns its number. */
  newPhase(): number {
    this.op.proc.kill('SIGUSR2');
    return ++this.phase;
  }

  probe(phase: number): ProbeLine[] {
    let text = '';
    try {
      text = readFileSync(this.probeFile, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ProbeLine)
      .filter((l) => l.phase === phase);
  }

  /** Event-loop delay of a phase: the histogram is cumulative within it, so its last line says it all. */
  lag(phase: number): { p50: number; p99: number; max: number } {
    const lines = this.probe(phase);
    const last = lines[lines.length - 1];
    return { p50: last?.lagP50 ?? 0, p99: last?.lagP99 ?? 0, max: last?.lagMax ?? 0 };
  }

  heap(phase: number): { max: number; last: number } {
    const lines = this.probe(phase);
    return { max: Math.max(0, ...lines.map((l) => l.heapUsed)), last: lines[lines.length - 1]?.heapUsed ?? 0 };
  }

  rssBetween(from: number, to: number): number[] {
    return this.rss.filter((s) => s.t >= from && s.t <= to).map((s) => s.rss);
  }

  peak(): number {
    return procStatus(this.op.proc.pid as number).hwm;
  }

  async metrics(): Promise<Sample[]> {
    return parseSamples((await getText(`http://127.0.0.1:${this.op.metricsPort}/metrics`)).body);
  }
}

function byLabels(samples: Sample[], name: string, labels: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== name) continue;
    const k = labels.map((l) => s.labels[l] ?? '').join(' ');
    out[k] = (out[k] ?? 0) + s.value;
  }
  return out;
}

const requests = (s: Sample[]) => byLabels(s, 'secretsync_kube_requests_total', ['verb', 'resource']);
const writes = (s: Sample[]) => byLabels(s, 'secretsync_kube_writes_total', ['verb', 'resource']);
const calls = (s: Sample[]) => byLabels(s, 'secretsync_provider_calls_total', ['operation']);
const nonZero = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== 0));
const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
const READ_OPS = new Set(['read', 'BatchGetSecretValue', 'GetSecretValue']);
const DATA_KEY_OPS = new Set(['transit-datakey', 'kms-generate-data-key']);
const readsOf = (c: Record<string, number>) => sum(Object.fromEntries(Object.entries(c).filter(([k]) => READ_OPS.has(k))));
const dataKeysOf = (c: Record<string, number>) => sum(Object.fromEntries(Object.entries(c).filter(([k]) => DATA_KEY_OPS.has(k))));
const keyCallsOf = (c: Record<string, number>) => sum(Object.fromEntries(Object.entries(c).filter(([k]) => k.startsWith('transit-') || k.startsWith('kms-'))));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function median(xs: number[]): number {
  return percentile([...xs].sort((a, b) => a - b), 50);
}

// ---------------------------------------------------------------------------------------
// Watching SecretSyncs: Ready and status.version per name, from one watch (no polling lists).

interface SyncState {
  readyAt?: number;
  version?: number;
}

class SyncWatch {
  readonly state = new Map<string, SyncState>();
  private abort?: () => void;
  private stopped = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly ns: string,
  ) {}

  async start(): Promise<void> {
    const custom = this.kc.makeApiClient(CustomObjectsApi);
    const list = (await custom.listNamespacedCustomObject({ ...G, namespace: this.ns, plural: 'secretsyncs' })) as {
      items: SecretSync[];
      metadata: { resourceVersion: string };
    };
    for (const s of list.items) this.observe(s);
    await this.watch(list.metadata.resourceVersion);
  }

  private async watch(rv: string): Promise<void> {
    if (this.stopped) return;
    let last = rv;
    const ctl = await new Watch(this.kc).watch(
      `/apis/${G.group}/${G.version}/namespaces/${this.ns}/secretsyncs`,
      { resourceVersion: rv, allowWatchBookmarks: true },
      (type: string, obj: SecretSync) => {
        last = obj.metadata?.resourceVersion ?? last;
        if (type === 'ADDED' || type === 'MODIFIED') this.observe(obj);
      },
      () => {
        if (this.stopped) return;
        // The watch ended (timeout, 410): list again and go on.
        void sleep(200).then(() => this.start().catch(() => this.watch(last)));
      },
    );
    this.abort = () => ctl.abort();
  }

  private observe(s: SecretSync): void {
    const name = s.metadata.name;
    const st = this.state.get(name) ?? {};
    const ready = s.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    if (ready && st.readyAt === undefined) st.readyAt = Date.now();
    if (s.status?.version !== undefined) st.version = s.status.version;
    this.state.set(name, st);
  }

  stop(): void {
    this.stopped = true;
    this.abort?.();
  }
}

// ---------------------------------------------------------------------------------------
// The stack side: remote secrets, sources, SecretSyncs.

interface Fixture {
  id: string;
  kc: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  paths: string[];
  transitMount?: string;
  kmsAlias?: string;
}

function remotePath(f: Fixture, i: number, a: ScaleArgs): string {
  return f.paths[i % a.paths] as string;
}

function syncName(i: number): string {
  return `sync-${String(i).padStart(5, '0')}`;
}

function encryption(f: Fixture, a: ScaleArgs): Record<string, unknown> | undefined {
  if (!a.envelope) return undefined;
  return a.source === 'vault'
    ? { kek: { vaultTransit: { sourceRef: { name: 'source' }, mount: f.transitMount, key: 'secretsync', agentAuth: { kubernetes: { role: 'app' } } } } }
    : { kek: { awsKms: { sourceRef: { name: 'source' }, keyId: f.kmsAlias } } };
}

function syncSpec(f: Fixture, a: ScaleArgs, i: number): Record<string, unknown> {
  const enc = encryption(f, a);
  return {
    sourceRef: { name: 'source' },
    data: [{ key: 'value', remoteRef: { path: remotePath(f, i, a), property: 'value' } }],
    refresh: { interval: `${a.intervalS}s` },
    ...(enc ? { target: { encryption: enc } } : {}),
    ...(a.inject ? { rollout: { auto: true } } : {}),
  };
}

function sourceSpec(a: ScaleArgs): AnySource['spec'] {
  if (a.source === 'vault') {
    return { vault: { address: requireEnv('VAULT_ADDR'), auth: { token: { secretRef: { name: 'credentials', key: 'token' } } } } } as AnySource['spec'];
  }
  const aws = awsConfig();
  return { aws: { region: aws.region, endpoint: aws.endpoint, auth: keysRef('credentials') } } as AnySource['spec'];
}

async function prepareNamespace(f: Fixture, a: ScaleArgs, ns: string): Promise<AnySource> {
  await createNamespace(f.core, ns);
  await createSecret(f.core, ns, 'credentials', a.source === 'vault' ? { token: requireEnv('VAULT_TOKEN') } : keysData(awsConfig().credentials));
  const source = { apiVersion: `${G.group}/${G.version}`, kind: 'SecretSource', metadata: { name: 'source', namespace: ns }, spec: sourceSpec(a) };
  await apply(f.custom, source);
  return source as AnySource;
}

async function createRemote(f: Fixture, a: ScaleArgs): Promise<void> {
  const value = () => ({ value: randomBytes(16).toString('hex') });
  if (a.source === 'vault') {
    await pool(f.paths, 20, (p) => kvPut(p, value()));
    if (a.envelope) {
      const root = vaultRoot();
      f.transitMount = `transit-${f.id}`;
      await root.write(`sys/mounts/${f.transitMount}`, { type: 'transit' });
      await root.write(`${f.transitMount}/keys/secretsync`, { type: 'aes256-gcm96' });
    }
    return;
  }
  const sm = secretsAdmin();
  await pool(f.paths, 10, (p) => createAwsSecret(sm, p, value()));
  sm.destroy();
  if (a.envelope) {
    const aws = awsConfig();
    const kms = new KMSClient({ region: aws.region, endpoint: aws.endpoint, credentials: aws.credentials });
    const key = await kms.send(new CreateKeyCommand({ Description: f.id }));
    f.kmsAlias = `alias/${f.id}`;
    await kms.send(new CreateAliasCommand({ AliasName: f.kmsAlias, TargetKeyId: key.KeyMetadata?.KeyId }));
    kms.destroy();
  }
}

async function changeRemote(f: Fixture, a: ScaleArgs, paths: string[]): Promise<void> {
  const value = () => ({ value: randomBytes(16).toString('hex') });
  if (a.source === 'vault') {
    await pool(paths, 20, (p) => kvPut(p, value()));
    return;
  }
  const sm = secretsAdmin();
  await pool(paths, 10, (p) => putSecret(sm, p, value()));
  sm.destroy();
}

/** Creates the N SecretSyncs, 50 at a time; calls `created` with each one's name and uid as it lands. */
async function createSyncs(f: Fixture, a: ScaleArgs, ns: string, created?: (name: string, uid: string, i: number) => void): Promise<void> {
  const idx = Array.from({ length: a.syncs }, (_, i) => i);
  await pool(idx, 50, async (i) => {
    const body = { apiVersion: `${G.group}/${G.version}`, kind: 'SecretSync', metadata: { name: syncName(i), namespace: ns }, spec: syncSpec(f, a, i) };
    const made = (await f.custom.createNamespacedCustomObject({ ...G, namespace: ns, plural: 'secretsyncs', body })) as SecretSync;
    created?.(made.metadata.name, made.metadata.uid ?? '', i);
  });
}

// ---------------------------------------------------------------------------------------
// The floor.

interface FloorResult {
  allDoneS: number;
  p50S: number;
  p95S: number;
  providerReads: number;
  dataKeys: number;
  requests: number;
}

async function runFloor(f: Fixture, a: ScaleArgs, ns: string, source: AnySource, qps: number, burst: number, workers: number): Promise<FloorResult> {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  shareConnections(kc); // the operator's client: one keep-alive pool
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const limiter = new ClientRateLimiter({ qps, burst });
  let requestCount = 0;
  const limited = async <T>(fn: () => Promise<T>) => {
    await limiter.acquire();
    requestCount++;
    return fn();
  };
  let providerReads = 0;
  let dataKeys = 0;
  const factory = a.source === 'vault' ? createVaultProviderFactory({ allowInsecureHttp: true }) : createAwsProviderFactory({ allowInsecureHttp: true });
  const provider: SecretProvider = factory.create(source, {
    kube: providerKube(core),
    secretNamespace: ns,
    onCall: (op) => {
      if (READ_OPS.has(op)) providerReads++;
      if (DATA_KEY_OPS.has(op)) dataKeys++;
    },
  });
  const kek = a.envelope ? provider.keyEncrypter?.(a.source === 'vault' ? { mount: f.transitMount as string, key: 'secretsync' } : { keyId: f.kmsAlias as string }) : undefined;
  // One read per remote path, as the operator's reads within a cycle.
  const reads = new Map<string, Promise<RemoteValue>>();
  const read = (path: string) => {
    let r = reads.get(path);
    if (!r) {
      r = provider.getSecret({ path, property: 'value' });
      reads.set(path, r);
    }
    return r;
  };
  const queue: { name: string; uid: string; i: number }[] = [];
  const idle: (() => void)[] = [];
  const wakeAll = () => idle.splice(0).forEach((w) => w());
  let creating = true;
  const doneAt: number[] = [];
  const t0 = Date.now();
  const work = async () => {
    for (;;) {
      const item = queue.shift();
      if (!item) {
        if (!creating) return;
        await new Promise<void>((r) => idle.push(r));
        continue;
      }
      const { name, uid, i } = item;
      const v = await read(remotePath(f, i, a));
      let data: Record<string, string>;
      let type = 'Opaque';
      if (kek) {
        const dk = await kek.generateDataKey({ namespace: ns, secretsync: name });
        const values = seal(dk.plaintext, { namespace: ns, secretsync: name, uid, version: 1 }, { value: v.value });
        const aws = awsConfig();
        const coords: KekCoordinates =
          a.source === 'vault'
            ? { type: 'vault-transit', address: requireEnv('VAULT_ADDR'), mount: f.transitMount as string, key: 'secretsync', version: dk.kekVersion, agentAuth: { mount: 'kubernetes', role: 'app' } }
            : { type: 'aws-kms', region: aws.region, endpoint: aws.endpoint, keyId: f.kmsAlias as string, version: dk.kekVersion };
        data = encodeEnvelope({ current: { version: 1, wrappedKey: dk.wrapped, kek: coords, values } });
        type = 'secretsync.io/envelope';
      } else {
        data = { value: v.value.toString('base64') };
      }
      await limited(() =>
        core.createNamespacedSecret({
          namespace: ns,
          body: {
            metadata: {
              name,
              labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [OWNER_LABEL]: name },
              ownerReferences: [{ apiVersion: `${G.group}/${G.version}`, kind: 'SecretSync', name, uid, controller: true, blockOwnerDeletion: true }],
            },
            type,
            data,
          },
        }),
      );
      const now = new Date().toISOString();
      await limited(() =>
        custom.patchNamespacedCustomObjectStatus(
          {
            ...G,
            namespace: ns,
            plural: 'secretsyncs',
            name,
            body: {
              status: {
                observedGeneration: 1,
                version: 1,
                sourceVersions: { [remotePath(f, i, a)]: v.version },
                conditions: [{ type: 'Ready', status: 'True', reason: 'Synced', message: 'floor', lastTransitionTime: now, observedGeneration: 1 }],
              },
            },
          },
          mergePatch,
        ),
      );
      doneAt.push(Date.now() - t0);
    }
  };
  const pending = Array.from({ length: workers }, () => work());
  await createSyncs(f, a, ns, (name, uid, i) => {
    queue.push({ name, uid, i });
    idle.shift()?.();
  });
  creating = false;
  wakeAll();
  await Promise.all(pending);
  await provider.close();
  const sorted = doneAt.sort((x, y) => x - y);
  return {
    allDoneS: (sorted[sorted.length - 1] ?? 0) / 1000,
    p50S: percentile(sorted, 50) / 1000,
    p95S: percentile(sorted, 95) / 1000,
    providerReads,
    dataKeys,
    requests: requestCount,
  };
}

// ---------------------------------------------------------------------------------------
// --inject: one Deployment (0 replicas) per remote path, injecting the SecretSyncs of that path.

async function createWorkloads(f: Fixture, a: ScaleArgs, ns: string): Promise<string[]> {
  const apps = f.kc.makeApiClient(AppsV1Api);
  const names = f.paths.map((_, p) => `app-${String(p).padStart(4, '0')}`);
  await pool(
    names.map((n, p) => ({ n, p })),
    20,
    async ({ n, p }) => {
      const syncs: string[] = [];
      for (let i = p; i < a.syncs; i += a.paths) syncs.push(syncName(i));
      await apps.createNamespacedDeployment({
        namespace: ns,
        body: {
          metadata: { name: n },
          spec: {
            replicas: 0,
            selector: { matchLabels: { app: n } },
            template: {
              metadata: { labels: { app: n, 'secretsync.io/inject': 'true' }, annotations: { 'secretsync.io/inject': syncs.join(',') } },
              spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] },
            },
          },
        },
      });
    },
  );
  return names;
}

async function replicaSetsPerDeployment(f: Fixture, ns: string): Promise<Map<string, number>> {
  const apps = f.kc.makeApiClient(AppsV1Api);
  const out = new Map<string, number>();
  const list = await apps.listNamespacedReplicaSet({ namespace: ns });
  for (const rs of list.items) {
    const owner = rs.metadata?.ownerReferences?.find((o) => o.kind === 'Deployment')?.name;
    if (owner) out.set(owner, (out.get(owner) ?? 0) + 1);
  }
  return out;
}

// ---------------------------------------------------------------------------------------

export interface ScaleRecord {
  command: string;
  commit: string;
  date: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string };
  args: ScaleArgs;
  flags: { qps: number; burst: number; workers: number };
  floor?: FloorResult;
  create: {
    allReadyS: number;
    p50S: number;
    p95S: number;
    ratioToFloor?: number;
    requests: Record<string, number>;
    providerCalls: Record<string, number>;
    cpuSeconds: CpuMark;
    lagMs: { p50: number; p99: number; max: number };
    heapMaxMiB: number;
  };
  memory: { idleMiB: number; steadyMiB: number; peakMiB: number; heapSteadyMiB: number };
  quiet: { seconds: number; windowS: number; cycles: number; writes: Record<string, number>; providerCalls: Record<string, number>; readsPerCycle: number; keyCalls: number; lagMs: { p50: number; p99: number; max: number } };
  wave: { changedPaths: number; affectedSyncs: number; allUpdatedS: number; providerCalls: Record<string, number>; writes: Record<string, number>; rolloutsPerWorkload?: Record<string, number> };
  restart?: { cachesSyncedS: number; firstIntervalS: number; providerCalls: Record<string, number>; writes: Record<string, number>; requests: Record<string, number> };
  targets: { name: string; target: string; measured: string; met: boolean }[];
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export async function scale(argv: string[]): Promise<number> {
  const a = parse(argv);
  const qps = a.qps ?? DEFAULTS.qps;
  const burst = a.burst ?? DEFAULTS.burst;
  const workers = a.workers ?? DEFAULTS.workers;
  const mode = `${a.source}${a.envelope ? ' envelope' : ' plain'}${a.inject ? ' + inject' : ''}`;
  say(`scale: ${a.syncs} SecretSyncs, ${mode}, ${a.paths} remote secrets, refresh every ${a.intervalS}s, --qps ${qps} --burst ${burst} --workers ${workers}`);
  say('building the operator (npm run build)');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: repoRoot, stdio: 'inherit' });

  const dir = stateDir();
  const running = readState(dir);
  const owned = !isRunning(running);
  const state = owned ? await up(dir) : running;
  exportEnv(state);
  const pids: Record<string, number> = {};
  for (const p of state?.processes ?? []) if (p.name === 'kube-apiserver' || p.name === 'etcd') pids[p.name] = p.pid;
  const { kc, core, custom } = kube();
  const id = `scale-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  const f: Fixture = {
    id,
    kc,
    core,
    custom,
    paths: Array.from({ length: a.paths }, (_, p) => (a.source === 'vault' ? `${id}/s-${p}` : `${id}-s-${p}`)),
  };
  const ns = `${id}-apps`;
  const floorNs = `${id}-floor`;
  const opNs = `${id}-system`;
  const namespaces = [ns, floorNs, opNs];
  const probeDir = join(repoRoot, '.testenv', 'bench');
  mkdirSync(probeDir, { recursive: true });
  let op: RunningOperator | undefined;
  let observed: Observed | undefined;
  let watch: SyncWatch | undefined;
  const flags = [
    `--namespace=${ns}`,
    `--operator-namespace=${opNs}`,
    '--log-level=info',
    ...(a.qps ? [`--qps=${a.qps}`] : []),
    ...(a.burst ? [`--burst=${a.burst}`] : []),
    ...(a.workers ? [`--workers=${a.workers}`] : []),
  ];
  // e.g. SECRETSYNC_BENCH_NODE_ARGS="--heapsnapshot-signal=SIGUSR1 --max-semi-space-size=8" to profile
  const extraNodeArgs = (process.env.SECRETSYNC_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const launch = async (tag: string) => {
    const probeFile = join(probeDir, `${id}-${tag}.jsonl`);
    const started = Date.now();
    const o = await startOperator(flags, { SECRETSYNC_BENCH_PROBE: probeFile }, { built: { nodeArgs: [...imageNodeFlags(), '--import', join(repoRoot, 'bench', 'probe.mjs'), ...extraNodeArgs] } });
    await eventually(async () => (o.logs.some((l) => l.includes('"caches synced"')) ? true : undefined), { timeoutMs: 600_000, intervalMs: 100, what: 'operator caches synced' });
    const obs = new Observed(o, probeFile);
    obs.start();
    return { op: o, observed: obs, cachesSyncedS: (Date.now() - started) / 1000 };
  };
  try {
    await installCrds(kc);
    await createNamespace(core, opNs);
    say(`creating ${a.paths} remote secrets in ${a.source === 'vault' ? 'OpenBao' : 'moto'}`);
    await createRemote(f, a);
    await prepareNamespace(f, a, ns);

    let floor: FloorResult | undefined;
    if (a.floor) {
      say(`floor: ${a.syncs} SecretSyncs in ${floorNs}, a bare script at --qps ${qps} --burst ${burst} with ${workers} workers`);
      const floorSource = await prepareNamespace(f, a, floorNs);
      floor = await runFloor(f, a, floorNs, floorSource, qps, burst, workers);
      say(`floor: all done in ${floor.allDoneS.toFixed(1)} s (p50 ${floor.p50S.toFixed(1)} s, p95 ${floor.p95S.toFixed(1)} s), ${floor.requests} requests, ${floor.providerReads} reads, ${floor.dataKeys} data keys`);
      say('deleting the floor namespace');
      await deleteNamespace(core, floorNs);
    }

    ({ op, observed } = await launch('run'));
    await sleep(3000);
    const idleRss = procStatus(op.proc.pid as number).rss;
    const workloads = a.inject ? await createWorkloads(f, a, ns) : [];
    watch = new SyncWatch(kc, ns);
    await watch.start();

    // Creation.
    const m0 = await observed.metrics();
    const cpu0 = cpuMark({ ...pids, operator: op.proc.pid as number, bench: process.pid });
    const createPhase = observed.newPhase();
    say(`operator: creating ${a.syncs} SecretSyncs (${flags.slice(3).join(' ') || 'default flags'})`);
    const t0 = Date.now();
    await createSyncs(f, a, ns);
    const w = watch;
    await eventually(async () => ([...w.state.values()].filter((s) => s.readyAt !== undefined).length >= a.syncs ? true : undefined), {
      timeoutMs: 3_600_000,
      intervalMs: 200,
      what: `${a.syncs} SecretSyncs Ready`,
    });
    const readyTimes = [...w.state.values()].map((s) => (s.readyAt as number) - t0).sort((x, y) => x - y);
    const allReadyS = (readyTimes[readyTimes.length - 1] as number) / 1000;
    const cpuCreate = cpuSince({ ...pids, operator: op.proc.pid as number, bench: process.pid }, cpu0);
    const createLag = observed.lag(createPhase);
    const createHeap = observed.heap(createPhase);
    say(`operator: all Ready in ${allReadyS.toFixed(1)} s${floor ? ` (floor ${floor.allDoneS.toFixed(1)} s, ${(allReadyS / floor.allDoneS).toFixed(2)}x)` : ''}`);
    // Let the last events and counters land.
    await eventually(
      async () => {
        const x = sum(writes(await observed?.metrics() ?? []));
        await sleep(2000);
        return x === sum(writes(await observed?.metrics() ?? [])) ? true : undefined;
      },
      { timeoutMs: 600_000, intervalMs: 0, what: 'writes to settle' },
    );
    const quietFrom = Date.now();
    const m1 = await observed.metrics();

    // Quiet window.
    say(`quiet window: ${a.quietS} s, nothing changed`);
    const quietPhase = observed.newPhase();
    const q0 = Date.now();
    await sleep(a.quietS * 1000);
    const m2 = await observed.metrics();
    // The window the counters span, scrapes included: a remote secret is read at most once
    // per tick, and in W seconds a secret has at most W / interval ticks (rounded up over all).
    const windowS = (Date.now() - quietFrom) / 1000;
    const quietLag = observed.lag(quietPhase);
    const quietHeap = observed.heap(quietPhase);
    const steadyRss = median(observed.rssBetween(q0, Date.now()));
    const cycles = a.quietS / a.intervalS;
    const quietCalls = nonZero(delta(calls(m2), calls(m1)));

    // Change wave.
    const changed = f.paths.slice(0, Math.max(1, Math.ceil(a.paths / 10)));
    const affected: string[] = [];
    for (let i = 0; i < a.syncs; i++) if (i % a.paths < changed.length) affected.push(syncName(i));
    const before = new Map(affected.map((n) => [n, w.state.get(n)?.version ?? 0]));
    const rsBefore = a.inject ? await replicaSetsPerDeployment(f, ns) : undefined;
    say(`change wave: ${changed.length} remote secrets changed, ${affected.length} SecretSyncs affected`);
    const c0 = Date.now();
    await changeRemote(f, a, changed);
    await eventually(async () => (affected.every((n) => (w.state.get(n)?.version ?? 0) > (before.get(n) ?? 0)) ? true : undefined), {
      timeoutMs: Math.max(600_000, a.intervalS * 10_000),
      intervalMs: 200,
      what: 'affected SecretSyncs at a new version',
    });
    const waveS = (Date.now() - c0) / 1000;
    let rollouts: Record<string, number> | undefined;
    if (rsBefore) {
      await sleep(5000); // the deployment controller creates the ReplicaSets
      const rsAfter = await replicaSetsPerDeployment(f, ns);
      rollouts = {};
      for (const d of workloads) {
        const n = (rsAfter.get(d) ?? 0) - (rsBefore.get(d) ?? 0);
        rollouts[String(n)] = (rollouts[String(n)] ?? 0) + 1;
      }
    }
    await sleep(3000);
    const m3 = await observed.metrics();
    const peak = observed.peak();
    observed.stop();

    // Restart.
    let restart: ScaleRecord['restart'];
    if (a.restart) {
      say('restart: SIGKILL, then a new operator process with the objects in place');
      await op.stop('SIGKILL');
      const again = await launch('restart');
      ({ op, observed } = again);
      await sleep((a.intervalS + 5) * 1000);
      const mEnd = await observed.metrics();
      restart = {
        cachesSyncedS: again.cachesSyncedS,
        firstIntervalS: a.intervalS + 5,
        providerCalls: nonZero(calls(mEnd)),
        writes: nonZero(writes(mEnd)),
        requests: nonZero(requests(mEnd)),
      };
      observed.stop();
    }

    const createRequests = nonZero(delta(requests(m1), requests(m0)));
    const createCalls = nonZero(delta(calls(m1), calls(m0)));
    const rec: ScaleRecord = {
      command: `npm run bench -- scale ${argv.join(' ')}`.trim(),
      commit: git(['rev-parse', '--short', 'HEAD']) + (git(['status', '--porcelain', '--untracked-files=no']) ? '+dirty' : ''),
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
      args: a,
      flags: { qps, burst, workers },
      floor,
      create: {
        allReadyS,
        p50S: percentile(readyTimes, 50) / 1000,
        p95S: percentile(readyTimes, 95) / 1000,
        ratioToFloor: floor ? allReadyS / floor.allDoneS : undefined,
        requests: createRequests,
        providerCalls: createCalls,
        cpuSeconds: cpuCreate,
        lagMs: createLag,
        heapMaxMiB: createHeap.max / MiB,
      },
      memory: { idleMiB: idleRss / MiB, steadyMiB: steadyRss / MiB, peakMiB: peak / MiB, heapSteadyMiB: quietHeap.last / MiB },
      quiet: {
        seconds: a.quietS,
        windowS,
        cycles,
        writes: nonZero(delta(writes(m2), writes(m1))),
        providerCalls: quietCalls,
        readsPerCycle: readsOf(quietCalls) / cycles,
        keyCalls: keyCallsOf(quietCalls),
        lagMs: quietLag,
      },
      wave: {
        changedPaths: changed.length,
        affectedSyncs: affected.length,
        allUpdatedS: waveS,
        providerCalls: nonZero(delta(calls(m3), calls(m2))),
        writes: nonZero(delta(writes(m3), writes(m2))),
        rolloutsPerWorkload: rollouts,
      },
      restart,
      targets: [],
    };
    rec.targets = targets(rec, a);
    report(rec);
    const out = join(repoRoot, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    const file = join(out, `scale-${a.source}-${a.envelope ? 'envelope' : 'plain'}${a.inject ? '-inject' : ''}-${a.syncs}-q${qps}.json`);
    writeFileSync(file, `${JSON.stringify(rec, null, 2)}\n`);
    say(`saved ${file}`);
    return rec.targets.every((t) => t.met) ? 0 : 1;
  } finally {
    say('cleaning up');
    watch?.stop();
    observed?.stop();
    await op?.stop();
    for (const n of namespaces) await deleteNamespace(core, n).catch(() => undefined);
    if (owned) await down(dir);
  }
}

function targets(r: ScaleRecord, a: ScaleArgs): ScaleRecord['targets'] {
  const t: ScaleRecord['targets'] = [];
  const add = (name: string, target: string, measured: string, met: boolean) => t.push({ name, target, measured, met });
  if (r.create.ratioToFloor !== undefined) add('all Ready vs floor', '<= 1.5x', `${r.create.ratioToFloor.toFixed(2)}x`, r.create.ratioToFloor <= 1.5);
  add('steady RSS', '<= 256 MiB', `${r.memory.steadyMiB.toFixed(0)} MiB`, r.memory.steadyMiB <= 256);
  add('peak RSS', '<= 384 MiB', `${r.memory.peakMiB.toFixed(0)} MiB`, r.memory.peakMiB <= 384);
  const lag = Math.max(r.create.lagMs.p99, r.quiet.lagMs.p99);
  add('event-loop lag p99', '< 100 ms', `${lag.toFixed(1)} ms`, lag < 100);
  const qw = sum(r.quiet.writes);
  add('writes in the quiet window', '0', String(qw), qw === 0);
  if (r.restart) {
    const rw = sum(r.restart.writes);
    add('writes after a restart', '0', String(rw), rw === 0);
  }
  // Allowed in the window: the per-cycle limit times the cycles the window spans (W / interval).
  const spans = r.quiet.windowS / a.intervalS;
  const reads = readsOf(r.quiet.providerCalls);
  if (a.source === 'aws') {
    const limit = Math.ceil(a.syncs / 20);
    add('AWS read calls per cycle', `<= ${limit} (ceil(N/20))`, `${r.quiet.readsPerCycle.toFixed(1)} (${reads} in ${r.quiet.windowS.toFixed(1)} s)`, reads <= Math.ceil(limit * spans));
  } else {
    add('Vault reads per cycle', `<= ${a.paths} (one per path)`, `${r.quiet.readsPerCycle.toFixed(1)} (${reads} in ${r.quiet.windowS.toFixed(1)} s)`, reads <= Math.ceil(a.paths * spans));
  }
  if (a.envelope) {
    const dk = dataKeysOf(r.create.providerCalls);
    add('data keys at creation', `<= ${a.syncs} (one per new version)`, String(dk), dk <= a.syncs);
    add('key-service calls per quiet cycle', '0', String(r.quiet.keyCalls), r.quiet.keyCalls === 0);
  }
  if (r.wave.rolloutsPerWorkload) {
    // One Deployment per remote secret: the changed ones roll once, the others not at all.
    const got = r.wave.rolloutsPerWorkload;
    const ok = (got['1'] ?? 0) === r.wave.changedPaths && (got['0'] ?? 0) === a.paths - r.wave.changedPaths;
    add('rollouts per affected workload', `exactly 1 (${r.wave.changedPaths} of ${a.paths} Deployments)`, `new ReplicaSets: ${JSON.stringify(got)}`, ok);
  }
  return t;
}

function report(r: ScaleRecord): void {
  const fmt = (o: Record<string, number>) => Object.entries(o).sort().map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  say('');
  say(`secretsync scale: ${r.args.syncs} SecretSyncs, ${r.args.source} ${r.args.envelope ? 'envelope' : 'plain'}${r.args.inject ? ' + inject' : ''}, ${r.args.paths} remote secrets, --qps ${r.flags.qps} --burst ${r.flags.burst} --workers ${r.flags.workers}`);
  say(`commit ${r.commit}, ${r.machine.cpus} x ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, node ${r.machine.node}`);
  if (r.floor) say(`floor:          all done ${r.floor.allDoneS.toFixed(1)} s (p50 ${r.floor.p50S.toFixed(1)}, p95 ${r.floor.p95S.toFixed(1)}), ${r.floor.requests} API requests, ${r.floor.providerReads} reads, ${r.floor.dataKeys} data keys`);
  say(`all Ready:      ${r.create.allReadyS.toFixed(1)} s (p50 ${r.create.p50S.toFixed(1)}, p95 ${r.create.p95S.toFixed(1)})${r.create.ratioToFloor !== undefined ? `, ${r.create.ratioToFloor.toFixed(2)}x the floor` : ''}`);
  say(`  API requests: ${fmt(r.create.requests)}`);
  say(`  provider:     ${fmt(r.create.providerCalls)}`);
  say(`  CPU seconds:  ${fmt(r.create.cpuSeconds)}`);
  say(`  event loop:   p50 ${r.create.lagMs.p50} ms, p99 ${r.create.lagMs.p99} ms, max ${r.create.lagMs.max} ms; heap max ${r.create.heapMaxMiB.toFixed(0)} MiB`);
  say(`memory:         idle ${r.memory.idleMiB.toFixed(0)} MiB, steady ${r.memory.steadyMiB.toFixed(0)} MiB (heap ${r.memory.heapSteadyMiB.toFixed(0)}), peak ${r.memory.peakMiB.toFixed(0)} MiB`);
  say(`quiet ${r.quiet.seconds} s:   writes ${fmt(r.quiet.writes)}; provider ${fmt(r.quiet.providerCalls)} = ${r.quiet.readsPerCycle.toFixed(1)} reads per cycle; event loop p99 ${r.quiet.lagMs.p99} ms, max ${r.quiet.lagMs.max} ms`);
  say(`change wave:    ${r.wave.changedPaths} secrets / ${r.wave.affectedSyncs} SecretSyncs updated in ${r.wave.allUpdatedS.toFixed(1)} s; writes ${fmt(r.wave.writes)}${r.wave.rolloutsPerWorkload ? `; new ReplicaSets per Deployment: ${fmt(r.wave.rolloutsPerWorkload)}` : ''}`);
  if (r.restart) say(`restart:        caches synced in ${r.restart.cachesSyncedS.toFixed(1)} s; first ${r.restart.firstIntervalS} s: provider ${fmt(r.restart.providerCalls)}; writes ${fmt(r.restart.writes)}`);
  say('');
  say('target                               wanted                     measured');
  for (const t of r.targets) say(`${t.met ? 'ok  ' : 'MISS'} ${t.name.padEnd(32)} ${t.target.padEnd(26)} ${t.measured}`);
}

/** A markdown table of the saved records (bench/results/scale-*.json), for docs/benchmarks.md. */
export function scaleTable(argv: string[]): Promise<number> {
  const dirPath = argv[0] ?? join(repoRoot, 'bench', 'results');
  const recs = readdirSync(dirPath)
    .filter((n) => n.startsWith('scale-') && n.endsWith('.json'))
    .map((n) => JSON.parse(readFileSync(join(dirPath, n), 'utf8')) as ScaleRecord)
    .sort((x, y) => x.args.syncs - y.args.syncs || x.args.source.localeCompare(y.args.source) || Number(x.args.envelope) - Number(y.args.envelope) || x.flags.qps - y.flags.qps);
  const f1 = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(1));
  say('| N | source | mode | QPS/burst | floor | all Ready (p50/p95) | ratio | RSS steady (peak) | heap | lag p99 (max) | reads/cycle | quiet writes | wave | restart: synced, reads, writes | commit |');
  say('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of recs) {
    const lag = r.create.lagMs.p99 >= r.quiet.lagMs.p99 ? r.create.lagMs : r.quiet.lagMs;
    const restart = r.restart ? `${f1(r.restart.cachesSyncedS)} s, ${readsOf(r.restart.providerCalls)}, ${sum(r.restart.writes)}` : '–';
    say(
      `| ${r.args.syncs} | ${r.args.source} | ${r.args.envelope ? 'envelope' : 'plain'}${r.args.inject ? ' + inject' : ''} | ${r.flags.qps}/${r.flags.burst} | ${f1(r.floor?.allDoneS)} s | ` +
        `${f1(r.create.allReadyS)} s (${f1(r.create.p50S)}/${f1(r.create.p95S)}) | ${r.create.ratioToFloor === undefined ? '–' : `${r.create.ratioToFloor.toFixed(2)}x`} | ` +
        `${r.memory.steadyMiB.toFixed(0)} (${r.memory.peakMiB.toFixed(0)}) MiB | ${r.memory.heapSteadyMiB.toFixed(0)} MiB | ${lag.p99.toFixed(0)} (${lag.max.toFixed(0)}) ms | ` +
        `${r.quiet.readsPerCycle.toFixed(1)} of ${r.args.source === 'aws' ? `≤${Math.ceil(r.args.syncs / 20)}` : `${r.args.paths} paths`} | ${sum(r.quiet.writes)} | ` +
        `${r.wave.affectedSyncs} in ${f1(r.wave.allUpdatedS)} s | ${restart} | ${r.commit} |`,
    );
  }
  return Promise.resolve(0);
}
