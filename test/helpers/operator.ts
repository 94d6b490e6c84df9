// Runs `secretsync operator` as a real child process (the way users run it), collecting
// its JSON log lines so tests can wait for them and assert that no secret was logged.
// By default it runs as service account `secretsync` of its --operator-namespace, under
// exactly the RBAC of config/rbac/ (test/helpers/rbac.ts), not as cluster admin.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../testenv/ports.js';
import { repoRoot } from '../testenv/config.js';
import { parseSamples } from '../../bench/prom.js';
import { eventually } from './eventually.js';
import { recordFile, recordPlace, recordStream } from './leak-record.js';
import { operatorIdentity, type OperatorIdentity } from './rbac.js';

export interface RunningOperator {
  proc: ChildProcess;
  logs: string[];
  metricsPort: number;
  healthPort: number;
  /** The webhook's port (0 when it runs without one). */
  webhookPort: number;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  /**
   * Run with the stack's admin kubeconfig instead of the operator's RBAC. Say why: a
   * test that needs it tests something other than the operator's permissions.
   */
  asClusterAdmin?: { why: string };
  /** Pass --insecure-allow-http (default: yes, the local stack's OpenBao and moto are plain http). */
  insecureAllowHttp?: boolean;
  /**
   * Serve the injection webhook on a free loopback port, registered under this
   * MutatingWebhookConfiguration name (unique per test file: one stack, many tests). Without
   * it the operator runs with --webhook-addr=0, so test operators never compete for one
   * registration.
   */
  webhook?: {
    configName: string;
    /**
     * Require the API server's client certificate (--webhook-client-ca with the stack's
     * SECRETSYNC_WEBHOOK_CLIENT_CA): anything else is refused in the TLS handshake.
     */
    clientAuth?: boolean;
  };
  /**
   * Run the built operator (dist/src/cli.js, `npm run build` first) with plain node, as the
   * image does, instead of the sources through tsx; `nodeArgs` go before the script.
   */
  built?: { nodeArgs?: string[] };
}

function operatorNamespaceArg(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a.startsWith('--operator-namespace=')) return a.slice('--operator-namespace='.length);
    if (a === '--operator-namespace') return args[i + 1];
  }
  return undefined;
}

/**
 * Starts the operator with `args` after the test defaults (metrics/health ports, debug
 * logs, and --insecure-allow-http because the local stack's OpenBao and moto are plain
 * http; `{ insecureAllowHttp: false }` leaves that flag out), as the operator's service account.
 */
export async function startOperator(args: string[], env: NodeJS.ProcessEnv = {}, opts: StartOptions = {}): Promise<RunningOperator> {
  let identity: OperatorIdentity | undefined;
  if (!opts.asClusterAdmin && !args.some((a) => a === '--kubeconfig' || a.startsWith('--kubeconfig='))) {
    const opNs = operatorNamespaceArg(args);
    if (!opNs) throw new Error('startOperator: pass --operator-namespace (its service account runs the operator), or asClusterAdmin with a reason');
    identity = await operatorIdentity(opNs, opts.webhook ? { webhookConfigName: opts.webhook.configName } : {});
    // KUBECONFIG too, so nothing in the process can fall back to the admin's credentials.
    env = { ...env, KUBECONFIG: identity.kubeconfig };
    args = [`--kubeconfig=${identity.kubeconfig}`, ...args];
  }
  const metricsPort = await freePort();
  const healthPort = await freePort();
  const webhookPort = opts.webhook ? await freePort() : 0;
  const webhookArgs = opts.webhook ? [`--webhook-addr=127.0.0.1:${webhookPort}`, `--webhook-config-name=${opts.webhook.configName}`] : ['--webhook-addr=0'];
  if (opts.webhook?.clientAuth) {
    const ca = process.env.SECRETSYNC_WEBHOOK_CLIENT_CA;
    if (!ca) throw new Error('startOperator: webhook.clientAuth needs SECRETSYNC_WEBHOOK_CLIENT_CA (the local stack sets it; an existing cluster cannot)');
    webhookArgs.push(`--webhook-client-ca=${ca}`);
  }
  // Every AdmissionReview answer its webhook sends, as sent, for the suite-wide leak scan.
  const admissionRecord = opts.webhook ? recordFile('admission', `webhook-${webhookPort}`) : undefined;
  if (admissionRecord) env = { ...env, SECRETSYNC_TEST_ADMISSION_RECORD: admissionRecord };
  const proc = spawn(
    process.execPath,
    [
      ...(opts.built ? [...(opts.built.nodeArgs ?? []), join(repoRoot, 'dist', 'src', 'cli.js')] : ['--import', 'tsx', join(repoRoot, 'src', 'cli.ts')]),
      'operator',
      `--metrics-addr=127.0.0.1:${metricsPort}`,
      `--health-addr=127.0.0.1:${healthPort}`,
      '--log-level=debug',
      ...(opts.insecureAllowHttp === false ? [] : ['--insecure-allow-http']),
      ...webhookArgs,
      ...args,
    ],
    { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: string[] = [];
  // Every byte it writes is also kept for the suite-wide leak scan, shutdown lines included.
  const record = recordStream('operator');
  // Whole lines only: a chunk may end inside a line, whose rest comes with the next chunk.
  const collector = () => {
    let partial = '';
    return {
      data: (chunk: Buffer) => {
        record(chunk);
        const parts = (partial + chunk.toString('utf8')).split('\n');
        partial = parts.pop() ?? '';
        logs.push(...parts.filter(Boolean));
      },
      end: () => {
        if (partial) logs.push(partial);
        partial = '';
      },
    };
  };
  for (const stream of [proc.stdout, proc.stderr]) {
    const c = collector();
    stream?.on('data', c.data);
    stream?.on('end', c.end);
  }
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  // Released once the process is gone, whoever ends it.
  void exited.then(() => identity?.release());
  running.add(metricsPort);
  void exited.then(() => running.delete(metricsPort));
  return {
    proc,
    logs,
    metricsPort,
    healthPort,
    webhookPort,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        await identity?.release();
        return proc.exitCode;
      }
      await recordMetrics(metricsPort);
      proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(t);
      await identity?.release();
      return code;
    },
  };
}

/** The metrics ports of the operators running now, whose /metrics the leak scan keeps. */
const running = new Set<number>();

/** Keeps a /metrics scrape for the suite-wide leak scan (nothing when it does not answer). */
async function recordMetrics(port: number): Promise<void> {
  const r = await getText(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
  if (r) recordPlace('metrics', `port-${port}`, r.body);
}

/** Keeps a /metrics scrape of every operator still running (the shared afterAll of each file). */
export async function recordRunningOperatorsMetrics(): Promise<number> {
  const ports = [...running];
  await Promise.all(ports.map(recordMetrics));
  return ports.length;
}

/**
 * The node flags the image runs the operator with: the Dockerfile's ENTRYPOINT between the
 * node binary and the script (V8 memory settings), so benchmarks run it as shipped.
 */
export function imageNodeFlags(): string[] {
  const text = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
  const line = text.split('\n').find((l) => l.startsWith('ENTRYPOINT '));
  const entry = JSON.parse(line?.slice('ENTRYPOINT '.length) ?? '[]') as string[];
  const script = entry.findIndex((a) => a.endsWith('/cli.js'));
  if (script < 1) throw new Error('Dockerfile: ENTRYPOINT is not [node, flags..., .../cli.js]');
  return entry.slice(1, script);
}

export async function getText(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text() };
}

/** When the operator wrote a JSON log line (epoch ms; NaN for a line without a time). */
export function loggedAt(line: string): number {
  return Date.parse(/"time":"([^"]+)"/.exec(line)?.[1] ?? '');
}

/**
 * The operator's log lines from index `from` of `op.logs` on that contain every one of
 * `parts` (and, with `since`, were logged at or after that epoch ms: a line can reach
 * `op.logs` a moment after it was written).
 */
export function logLines(op: Pick<RunningOperator, 'logs'>, parts: string[], from = 0, since?: number): string[] {
  return op.logs.slice(from).filter((l) => parts.every((p) => l.includes(p)) && (since === undefined || loggedAt(l) >= since));
}

/**
 * Waits until `count` log lines from index `from` of `op.logs` on contain every one of
 * `parts`: proof that something happened (`op.logs.length` before an action marks "after it"),
 * where a fixed sleep would only hope it had, e.g. two refreshes of one SecretSync:
 * `waitForLogLines(op, ['"reading the source"', `"secretsync":"${ns}/${name}"`, '"refresh due"'], { from, count: 2 })`.
 */
export function waitForLogLines(
  op: Pick<RunningOperator, 'logs'>,
  parts: string[],
  { from = 0, since, count = 1, timeoutMs = 60_000 }: { from?: number; since?: number; count?: number; timeoutMs?: number } = {},
): Promise<string[]> {
  return eventually(
    async () => {
      const lines = logLines(op, parts, from, since);
      return lines.length >= count ? lines : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `${count} operator log line(s) with ${parts.join(' ')}` },
  );
}

/** The sum of a metric's samples whose labels match all of `labels`, from the operator's /metrics. */
export async function metricSum(op: Pick<RunningOperator, 'metricsPort'>, name: string, labels: Record<string, string> = {}): Promise<number> {
  const samples = parseSamples((await getText(`http://127.0.0.1:${op.metricsPort}/metrics`)).body);
  return samples.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v)).reduce((sum, x) => sum + x.value, 0);
}

/**
 * Waits until the operator is quiet: its work queues empty, no key being processed and no
 * key added for `quietMs` on end (from /metrics). After `waitForLogLines` saw a reconcile
 * start, this is when it has written all it would write, including what the watch events
 * of its own writes (which reach it a moment later) make it do. With many SecretSyncs on
 * short intervals keys come all the time: `quietMs: 0` then waits for the first moment
 * nothing is queued or processing.
 */
export async function waitIdle(op: Pick<RunningOperator, 'metricsPort'>, { quietMs = 1000, timeoutMs = 30_000 } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quietSince = Date.now();
  let lastAdds = -1;
  for (;;) {
    const samples = parseSamples((await getText(`http://127.0.0.1:${op.metricsPort}/metrics`)).body);
    const total = (name: string) => samples.filter((x) => x.name === name).reduce((sum, x) => sum + x.value, 0);
    const adds = total('secretsync_workqueue_adds_total');
    const busy = total('secretsync_workqueue_depth') + total('secretsync_workqueue_longest_running_processor_seconds') > 0;
    if (busy || adds !== lastAdds) quietSince = Date.now();
    lastAdds = adds;
    if (!busy && Date.now() - quietSince >= quietMs) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for the operator to be quiet for ${quietMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The parts of the log line the operator writes when a refresh of `namespace/name` reads the source. */
export const refreshRead = (namespace: string, name: string) => ['"reading the source"', `"secretsync":"${namespace}/${name}"`, '"due":"refresh due"'];
