// The watch loop on the fake clock, with a fake deliverer and ListWatch: the interval
// re-reads, watch events wake it at once, no watch permission means polling only, a broken
// watch restarts while the interval keeps working, failures are retried with backoff
// (capped at the interval) and logged once, and abort stops it all.
import type { Prepared } from '../../../src/agent/deliver.js';
import { AgentCode, AgentError } from '../../../src/agent/errors.js';
import type { SyncTarget } from '../../../src/agent/flags.js';
import { follow } from '../../../src/agent/watch.js';
import { KubeReadError } from '../../../src/kube/agent-kube.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { ListWatch, WatchEventType } from '../../../src/runtime/informer-types.js';
import { FakeClock } from '../../../src/runtime/testing/fake-clock.js';
import type { KubeSecret } from '../../../src/secretsync/ports.js';
import { LogSink } from '../../helpers/log-sink.js';

const SYNC: SyncTarget = { name: 'db', secret: 'db' };
const INTERVAL = 30_000;

/** The Secret as the fake API server holds it: its version, or a refusal. */
class FakeDeliverer {
  version = 1;
  failing: AgentError | undefined;
  reads = 0;
  commits: string[] = [];

  async prepare(sync: SyncTarget, unchanged?: string): Promise<Prepared | undefined> {
    this.reads++;
    if (this.failing) throw this.failing;
    const fingerprint = `v${this.version}`;
    if (fingerprint === unchanged) return undefined;
    return { sync, version: this.version, mode: 'envelope', fingerprint, files: { k: Buffer.from('x') }, ownership: { mode: 0o400 } };
  }

  async commit(p: Prepared): Promise<void> {
    this.commits.push(p.fingerprint);
  }
}

class FakeListWatch implements ListWatch<KubeSecret> {
  mayWatch = true;
  listError: unknown;
  watches: { onEvent: (t: WatchEventType, o: unknown) => void; aborted: boolean }[] = [];
  rv = 1;
  async list() {
    if (this.listError) throw this.listError;
    return { items: [this.secret()], resourceVersion: String(this.rv) };
  }
  async watch(_rv: string, onEvent: (t: WatchEventType, o: unknown) => void) {
    const w = { onEvent, aborted: false };
    this.watches.push(w);
    return { abort: () => void (w.aborted = true) };
  }
  secret(): KubeSecret {
    return { metadata: { name: 'db', namespace: 'ns', resourceVersion: String(this.rv) } };
  }
  modify(): void {
    this.rv++;
    this.watches.at(-1)?.onEvent('MODIFIED', this.secret());
  }
}

let clock: FakeClock;
let d: FakeDeliverer;
let sink: LogSink;
let stop: AbortController;

beforeEach(() => {
  clock = new FakeClock(0);
  d = new FakeDeliverer();
  sink = new LogSink();
  stop = new AbortController();
});

function run(listWatch?: FakeListWatch) {
  return follow({
    syncs: [SYNC],
    deliverer: d,
    ...(listWatch ? { watch: { listWatch: () => listWatch, mayWatch: async () => listWatch.mayWatch } } : {}),
    intervalMs: INTERVAL,
    delivered: new Map([['db', 'v1']]), // what the first delivery wrote
    signal: stop.signal,
    log: createLogger({ destination: sink, level: 'debug' }),
    clock,
  });
}

const messages = () => sink.lines.map((l) => (JSON.parse(l) as { msg: string }).msg);

test('without a watch: an unchanged Secret costs one read per interval and no write; a new version is delivered at the next interval', async () => {
  const done = run();
  await clock.flush();
  expect([d.reads, d.commits]).toEqual([1, []]);
  await clock.advance(INTERVAL);
  expect([d.reads, d.commits]).toEqual([2, []]);
  d.version = 2;
  await clock.advance(INTERVAL - 1);
  expect(d.commits).toEqual([]);
  await clock.advance(1);
  expect(d.commits).toEqual(['v2']);
  await clock.advance(INTERVAL);
  expect(d.commits).toEqual(['v2']); // delivered once
  stop.abort();
  await done;
});

test('with a watch: an event re-delivers at once, long before the interval', async () => {
  const lw = new FakeListWatch();
  const done = run(lw);
  await clock.advance(10);
  expect(lw.watches).toHaveLength(1);
  d.version = 2;
  lw.modify();
  await clock.advance(10);
  expect(d.commits).toEqual(['v2']);
  stop.abort();
  await done;
  expect(lw.watches[0]?.aborted).toBe(true);
});

test('without watch permission (get only): no watch at all, the interval follows the Secret', async () => {
  const lw = new FakeListWatch();
  lw.mayWatch = false;
  const done = run(lw);
  await clock.advance(10);
  expect(lw.watches).toHaveLength(0);
  expect(messages().some((m) => m.startsWith('no watch permission on Secret db'))).toBe(true);
  d.version = 2;
  await clock.advance(INTERVAL);
  expect(d.commits).toEqual(['v2']);
  stop.abort();
  await done;
});

test('a watch that fails is restarted with backoff; the interval keeps delivering meanwhile', async () => {
  const lw = new FakeListWatch();
  lw.listError = new KubeReadError(undefined, 'the API server at https://k could not be reached: ECONNREFUSED');
  const done = run(lw);
  await clock.advance(10);
  expect(lw.watches).toHaveLength(0);
  expect(sink.text()).toContain('watch of the Secret interrupted; restarting');
  d.version = 2;
  await clock.advance(INTERVAL);
  expect(d.commits).toEqual(['v2']);
  lw.listError = undefined;
  await clock.advance(INTERVAL);
  expect(lw.watches.length).toBeGreaterThan(0);
  d.version = 3;
  lw.modify();
  await clock.advance(10);
  expect(d.commits).toEqual(['v2', 'v3']);
  stop.abort();
  await done;
});

test('a failure keeps it running: retried with backoff capped at the interval, logged once, then recovered', async () => {
  const done = run();
  await clock.flush();
  d.version = 2;
  d.failing = new AgentError(AgentCode.VaultUnavailable, 'Vault at v:8200 could not be reached (ECONNREFUSED); will retry');
  await clock.advance(INTERVAL); // the interval read fails
  const readsAt = (ms: number) => clock.advance(ms).then(() => d.reads);
  expect(d.reads).toBe(2);
  // Backoff 1 s, 2 s, 4 s ... (jitter only shortens it), never longer than the interval.
  expect(await readsAt(1000)).toBe(3);
  expect(await readsAt(2000)).toBe(4);
  expect(await readsAt(4000)).toBe(5);
  await clock.advance(5 * INTERVAL);
  expect(d.reads).toBeGreaterThanOrEqual(9);
  const warned = sink.lines.filter((l) => l.includes('"level":"warn"'));
  expect(warned).toHaveLength(1);
  expect(warned[0]).toContain('ESS_AGENT_VAULT_UNAVAILABLE');
  expect(warned[0]).toContain('keeping the files already there');

  d.failing = undefined;
  await clock.advance(INTERVAL);
  expect(d.commits).toEqual(['v2']);
  expect(messages()).toContain('delivering works again');
  // Back to the interval.
  const reads = d.reads;
  await clock.advance(INTERVAL);
  expect(d.reads).toBe(reads + 1);
  stop.abort();
  await done;
});

test('abort while waiting ends follow() at once, with no timers left', async () => {
  const lw = new FakeListWatch();
  const done = run(lw);
  await clock.advance(10);
  stop.abort();
  await done;
  expect(clock.pendingTimers()).toBe(0);
});
