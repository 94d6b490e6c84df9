// Informer on a fake ListWatch and the fake clock: cache and handlers, watch restarts with
// backoff, 410 Gone, the watchdog on a silent watch, and the periodic relist that repairs
// what a watch gap missed.
import { Informer } from '../../../src/runtime/informer.js';
import type { InformerEvent, ListWatch, WatchEventType } from '../../../src/runtime/informer.js';
import { FakeClock } from '../../../src/runtime/testing/fake-clock.js';

interface Obj {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  data?: string;
}

interface FakeWatch {
  rv: string;
  startedAt: number;
  onEvent: (type: WatchEventType, obj: unknown) => void;
  onDone: (err?: unknown) => void;
  aborted: boolean;
}

/** An API server in memory: objects, a resourceVersion counter, and the open watches. */
class FakeListWatch implements ListWatch<Obj> {
  readonly objects = new Map<string, Obj>();
  readonly watches: FakeWatch[] = [];
  rv = 100;
  lists = 0;
  listError: unknown;
  /** Runs on every new watch, e.g. to fail it at once. */
  onWatch: ((w: FakeWatch) => void) | undefined;

  constructor(private readonly clock: FakeClock) {}

  async list(): Promise<{ items: Obj[]; resourceVersion: string }> {
    this.lists++;
    if (this.listError !== undefined) throw this.listError;
    return { items: [...this.objects.values()].map((o) => structuredClone(o)), resourceVersion: String(this.rv) };
  }

  async watch(rv: string, onEvent: FakeWatch['onEvent'], onDone: FakeWatch['onDone']) {
    const w: FakeWatch = { rv, startedAt: this.clock.now(), onEvent, onDone, aborted: false };
    this.watches.push(w);
    this.onWatch?.(w);
    return { abort: () => void (w.aborted = true) };
  }

  current(): FakeWatch | undefined {
    const w = this.watches.at(-1);
    return w && !w.aborted ? w : undefined;
  }

  /** Writes an object; `silent` skips the watch event (a watch gap). */
  put(name: string, data: string, { silent = false } = {}): Obj {
    const existed = this.objects.has(`default/${name}`);
    const o: Obj = { metadata: { name, namespace: 'default', resourceVersion: String(++this.rv) }, data };
    this.objects.set(`default/${name}`, o);
    if (!silent) this.current()?.onEvent(existed ? 'MODIFIED' : 'ADDED', structuredClone(o));
    return o;
  }

  remove(name: string, { silent = false } = {}): void {
    const o = this.objects.get(`default/${name}`);
    if (!o) return;
    this.objects.delete(`default/${name}`);
    const gone = { ...o, metadata: { ...o.metadata, resourceVersion: String(++this.rv) } };
    if (!silent) this.current()?.onEvent('DELETED', gone);
  }
}

let clock: FakeClock;
let lw: FakeListWatch;
let informer: Informer<Obj>;
let events: InformerEvent[];
let calls: string[];

function make(opts: Partial<ConstructorParameters<typeof Informer<Obj>>[0]> = {}): Informer<Obj> {
  informer = new Informer<Obj>({
    listWatch: lw,
    clock,
    random: () => 0,
    onEvent: (e) => events.push(e),
    ...opts,
  });
  informer.addHandlers({
    onAdd: (o) => calls.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}`),
    onUpdate: (a, b) => calls.push(`update ${b.metadata.name}@${a.metadata.resourceVersion}->${b.metadata.resourceVersion}`),
    onDelete: (o) => calls.push(`delete ${o.metadata.name}`),
  });
  return informer;
}

const types = () => events.map((e) => e.type);

beforeEach(() => {
  clock = new FakeClock(0);
  lw = new FakeListWatch(clock);
  events = [];
  calls = [];
});

afterEach(async () => {
  await informer?.stop();
});

describe('cache and handlers', () => {
  test('lists, fills the store, emits adds, syncs, then watches from the list resourceVersion', async () => {
    lw.put('a', '1');
    lw.put('b', '1');
    const inf = make();
    expect(inf.hasSynced()).toBe(false);
    const synced = inf.waitForSync();
    inf.start();
    await synced;
    await clock.flush();
    expect(inf.hasSynced()).toBe(true);
    expect(calls).toEqual(['add a@101', 'add b@102']);
    expect(inf.get('default/a')?.data).toBe('1');
    expect(inf.list().map((o) => o.metadata.name).sort()).toEqual(['a', 'b']);
    expect(lw.watches).toHaveLength(1);
    expect(lw.watches[0]?.rv).toBe('102');
    expect(types()).toEqual(['listed', 'watch-started']);
    expect(events[0]?.count).toBe(2);
  });

  test('watch events add, update and delete; cluster-scoped objects are keyed by name', async () => {
    const inf = make();
    inf.start();
    await clock.flush();
    lw.put('a', '1');
    lw.put('a', '2');
    lw.remove('a');
    lw.current()?.onEvent('ADDED', { metadata: { name: 'node-1', resourceVersion: '500' } });
    expect(calls).toEqual(['add a@101', 'update a@101->102', 'delete a', 'add node-1@500']);
    expect(inf.get('default/a')).toBeUndefined();
    expect(inf.get('node-1')).toBeDefined();
  });

  test('an update with an unchanged resourceVersion does not fire onUpdate', async () => {
    const o = lw.put('a', '1');
    const inf = make();
    inf.start();
    await clock.flush();
    lw.current()?.onEvent('MODIFIED', structuredClone(o));
    lw.current()?.onEvent('ADDED', structuredClone(o));
    expect(calls).toEqual(['add a@101']);
  });

  test('several handlers; a late handler is replayed the cache; a throwing handler harms no one', async () => {
    lw.put('a', '1');
    const errors: unknown[] = [];
    const inf = make({ onHandlerError: (e) => errors.push(e) });
    inf.onAdd(() => {
      throw new Error('boom');
    });
    inf.start();
    await clock.flush();
    const late: string[] = [];
    const remove = inf.onAdd((o) => late.push(o.metadata.name));
    expect(late).toEqual(['a']);
    lw.put('b', '1');
    remove();
    lw.put('c', '1');
    expect(late).toEqual(['a', 'b']);
    expect(calls).toEqual(['add a@101', 'add b@102', 'add c@103']);
    expect(errors).toHaveLength(3);
  });

  test('bookmarks move the resourceVersion the next watch starts from', async () => {
    const inf = make();
    inf.start();
    await clock.flush();
    lw.current()?.onEvent('BOOKMARK', { metadata: { resourceVersion: '777' } });
    lw.current()?.onDone();
    await clock.advance(200);
    expect(lw.watches.map((w) => w.rv)).toEqual(['100', '777']);
    expect(lw.lists).toBe(1);
    expect(calls).toEqual([]);
  });
});

describe('restarts', () => {
  test('after an error the watch restarts from the last resourceVersion with exponential backoff', async () => {
    lw.onWatch = (w) => w.onDone(new Error('connection reset'));
    const inf = make({ backoff: { initialMs: 200, maxMs: 1000 } });
    inf.start();
    await clock.advance(5000);
    const starts = lw.watches.map((w) => w.startedAt);
    // 200, 400, 800, then capped at 1000
    expect(starts.slice(0, 7)).toEqual([0, 200, 600, 1400, 2400, 3400, 4400]);
    expect(lw.watches.every((w) => w.rv === '100')).toBe(true);
    expect(lw.lists).toBe(1);
    expect(events.find((e) => e.type === 'watch-error')?.error).toBe('connection reset');
  });

  test('a normal end restarts too, and a healthy watch resets the backoff', async () => {
    lw.onWatch = (w) => w.onDone(new Error('refused'));
    const inf = make({ healthyWatchMs: 10_000 });
    inf.start();
    await clock.advance(600); // watches at 0, 200, 600
    expect(lw.watches).toHaveLength(3);
    lw.onWatch = undefined; // from now on watches stay up: the next one (at 1400) does
    await clock.advance(800);
    expect(lw.watches).toHaveLength(4);
    await clock.advance(20_000);
    lw.current()?.onDone(); // normal end after a healthy life: 200 ms again, not 1600
    await clock.advance(199);
    expect(lw.watches).toHaveLength(4);
    await clock.advance(1);
    expect(lw.watches).toHaveLength(5);
    expect(types()).toContain('watch-ended');
  });

  test('jitter shortens the delay by up to the jitter fraction, never beyond the cap', async () => {
    lw.onWatch = (w) => w.onDone(new Error('x'));
    const inf = make({ random: () => 0.5, backoff: { initialMs: 1000, maxMs: 1000, jitter: 0.2 } });
    inf.start();
    await clock.advance(2700);
    expect(lw.watches.map((w) => w.startedAt)).toEqual([0, 900, 1800, 2700]);
  });

  test('a failing list is retried with backoff and waitForSync waits for it', async () => {
    lw.listError = new Error('apiserver down');
    const inf = make();
    inf.start();
    let synced = false;
    void inf.waitForSync().then(() => (synced = true));
    await clock.advance(200 + 400);
    expect(lw.lists).toBe(3);
    expect(types()).toEqual(['list-error', 'list-error', 'list-error']);
    lw.listError = undefined;
    await clock.advance(800);
    expect(lw.lists).toBe(4);
    expect(synced).toBe(true);
  });

  test('a list that never answers times out and is retried', async () => {
    const never = new Promise<never>(() => undefined);
    const list = lw.list.bind(lw);
    let first = true;
    lw.list = () => {
      if (first) {
        first = false;
        return never;
      }
      return list();
    };
    const inf = make({ listTimeoutMs: 5000 });
    inf.start();
    await clock.advance(5000);
    expect(events[0]).toEqual({ type: 'list-error', error: 'list did not answer within 5000 ms' });
    await clock.advance(200);
    expect(inf.hasSynced()).toBe(true);
  });
});

describe('410 Gone', () => {
  test('an ERROR event with code 410 relists and watches from the new resourceVersion', async () => {
    lw.put('a', '1');
    const inf = make();
    inf.start();
    await clock.flush();
    lw.put('b', '1', { silent: true });
    lw.current()?.onEvent('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
    expect(lw.watches[0]?.aborted).toBe(true);
    await clock.advance(200);
    expect(lw.lists).toBe(2);
    expect(types()).toEqual(['listed', 'watch-started', 'gone', 'relist', 'listed', 'watch-started']);
    expect(events.find((e) => e.type === 'relist')?.reason).toBe('gone');
    expect(lw.watches[1]?.rv).toBe('102');
    expect(calls).toEqual(['add a@101', 'add b@102']);
  });

  test('a 410 after failures relists after the first delay, not the backoff they grew', async () => {
    const inf = make({ backoff: { initialMs: 200, maxMs: 30_000 } });
    lw.onWatch = (w) => w.onDone(new Error('connection refused'));
    inf.start();
    await clock.advance(200 + 400 + 800 + 1600); // watches at 0, 200, 600, 1400, 3000: the next delay is 3200
    expect(lw.watches).toHaveLength(5);
    lw.onWatch = (w) => w.onEvent('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
    await clock.advance(3200); // the sixth watch: 410
    expect(lw.watches).toHaveLength(6);
    lw.onWatch = undefined;
    await clock.advance(200);
    expect(lw.lists).toBe(2);
    expect(types().slice(-4)).toEqual(['gone', 'relist', 'listed', 'watch-started']);
  });

  test('a watch that fails with statusCode 410 relists too', async () => {
    const inf = make();
    inf.start();
    await clock.flush();
    lw.current()?.onDone(Object.assign(new Error('Gone'), { statusCode: 410 }));
    await clock.advance(200);
    expect(lw.lists).toBe(2);
    expect(types()).toContain('gone');
  });

  test('other ERROR events restart the watch without a relist', async () => {
    const inf = make();
    inf.start();
    await clock.flush();
    lw.current()?.onEvent('ERROR', { kind: 'Status', code: 500, reason: 'InternalError', message: 'etcd timeout' });
    await clock.advance(200);
    expect(lw.lists).toBe(1);
    expect(lw.watches).toHaveLength(2);
    expect(events.find((e) => e.type === 'watch-error')?.error).toBe('500 InternalError etcd timeout');
  });
});

describe('watchdog', () => {
  test('a silent watch is aborted and the informer relists', async () => {
    lw.put('a', '1');
    const inf = make({ watchdogMs: 60_000, resyncMs: 3_600_000 });
    inf.start();
    await clock.flush();
    lw.put('b', '1', { silent: true }); // the silent watch missed it
    await clock.advance(59_999);
    expect(types()).not.toContain('watchdog-fired');
    await clock.advance(1);
    expect(types()).toContain('watchdog-fired');
    expect(lw.watches[0]?.aborted).toBe(true);
    await clock.advance(200);
    expect(lw.lists).toBe(2);
    expect(events.find((e) => e.type === 'relist')?.reason).toBe('watchdog');
    expect(calls).toEqual(['add a@101', 'add b@102']);
    expect(lw.current()?.rv).toBe('102');
  });

  test('bookmarks keep a quiet watch alive', async () => {
    const inf = make({ watchdogMs: 90_000, resyncMs: 3_600_000 });
    inf.start();
    await clock.flush();
    for (let i = 0; i < 10; i++) {
      await clock.advance(60_000);
      lw.current()?.onEvent('BOOKMARK', { metadata: { resourceVersion: String(200 + i) } });
    }
    expect(types()).not.toContain('watchdog-fired');
    expect(lw.watches).toHaveLength(1);
    expect(lw.lists).toBe(1);
  });

  test('a watch that never even answers is caught by the watchdog', async () => {
    lw.watch = () => new Promise(() => undefined);
    const inf = make({ watchdogMs: 10_000 });
    inf.start();
    await clock.advance(10_000);
    expect(types()).toEqual(['listed', 'watchdog-fired']);
  });
});

describe('periodic relist', () => {
  test('emits delete, add and update for what the watch missed', async () => {
    lw.put('a', '1');
    lw.put('b', '1');
    lw.put('c', '1');
    const inf = make({ resyncMs: 600_000, watchdogMs: 10_000_000 });
    inf.start();
    await clock.flush();
    calls.length = 0;
    lw.remove('a', { silent: true });
    lw.put('b', '2', { silent: true });
    lw.put('d', '1', { silent: true });
    await clock.advance(599_999);
    expect(calls).toEqual([]);
    await clock.advance(1);
    expect(calls.sort()).toEqual(['add d@106', 'delete a', 'update b@102->105']);
    expect(inf.get('default/a')).toBeUndefined();
    expect(events.find((e) => e.type === 'relist')?.reason).toBe('resync');
    expect(lw.watches[0]?.aborted).toBe(true);
    expect(lw.current()?.rv).toBe('106');
    // And again ten minutes later, with nothing to report.
    await clock.advance(600_000);
    expect(lw.lists).toBe(3);
    expect(calls).toHaveLength(3);
  });
});

describe('indexes', () => {
  const byData = { data: (o: Obj) => (o.data ? [o.data] : []) };
  const at = (inf: Informer<Obj>, v: string) => inf.byIndex('data', v).map((o) => o.metadata.name).sort();

  test('follow watch adds, updates and deletes, and are current when handlers run', async () => {
    lw.put('a', 'x');
    const inf = make();
    inf.addIndexers(byData);
    const seen: string[][] = [];
    inf.addHandlers({ onUpdate: () => seen.push(at(inf, 'y')), onDelete: () => seen.push(at(inf, 'y')) });
    inf.start();
    await clock.flush();
    expect(at(inf, 'x')).toEqual(['a']);
    lw.put('b', 'x');
    lw.put('a', 'y'); // moves from x to y
    expect(at(inf, 'x')).toEqual(['b']);
    expect(at(inf, 'y')).toEqual(['a']);
    lw.remove('a');
    expect(at(inf, 'y')).toEqual([]);
    expect(seen).toEqual([['a'], []]);
  });

  test('a periodic relist rebuilds them from what the server has', async () => {
    lw.put('a', 'x');
    lw.put('b', 'x');
    const inf = make({ resyncMs: 600_000, watchdogMs: 10_000_000 });
    inf.start();
    await clock.flush();
    inf.addIndexers(byData); // added after the first list: built from the cache
    expect(at(inf, 'x')).toEqual(['a', 'b']);
    lw.remove('a', { silent: true });
    lw.put('b', 'y', { silent: true });
    lw.put('c', 'x', { silent: true });
    expect(at(inf, 'x')).toEqual(['a', 'b']); // the watch missed it all
    await clock.advance(600_000);
    expect(at(inf, 'x')).toEqual(['c']);
    expect(at(inf, 'y')).toEqual(['b']);
    expect(inf.indexKeys('data', 'y')).toEqual(['default/b']);
  });
});

describe('stop', () => {
  test('aborts the watch and leaves no timer behind', async () => {
    const inf = make();
    inf.start();
    await clock.flush();
    await inf.stop();
    expect(lw.watches[0]?.aborted).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
    lw.watches[0]?.onEvent('ADDED', { metadata: { name: 'late', namespace: 'default', resourceVersion: '1' } });
    expect(calls).toEqual([]);
  });

  test('during a backoff pause, and rejects waitForSync when not synced', async () => {
    lw.listError = new Error('down');
    const inf = make();
    inf.start();
    const wait = inf.waitForSync();
    await clock.advance(100);
    await inf.stop();
    await expect(wait).rejects.toThrow('informer stopped before it synced');
    expect(clock.pendingTimers()).toBe(0);
  });

  test('waitForSync honours its abort signal', async () => {
    lw.listError = new Error('down');
    const inf = make();
    inf.start();
    const ctl = new AbortController();
    const wait = inf.waitForSync(ctl.signal);
    ctl.abort(new Error('gave up'));
    await expect(wait).rejects.toThrow('gave up');
  });
});
