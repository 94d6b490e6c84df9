// LeaderElector on an in-memory Lease (compare-and-swap on resourceVersion, like the API
// server) and the fake clock: acquire and renew, takeover only after expiry, losing at
// once when renewals fail past the deadline, release on stop, and never two leaders.
import { LeaderElector, LeaseConflictError, toMicroTime } from '../../../src/runtime/leader-election.js';
import type { LeaderElectorOptions, LeaseRecord, LeaseStore } from '../../../src/runtime/leader-election.js';
import type { Clock } from '../../../src/runtime/clock.js';
import { FakeClock } from '../../../src/runtime/testing/fake-clock.js';

/** The Lease as the API server keeps it. */
class FakeLeaseServer {
  record: LeaseRecord | undefined;
  private rv = 0;

  get(): LeaseRecord | undefined {
    return this.record && { ...this.record };
  }

  create(r: LeaseRecord): LeaseRecord {
    if (this.record) throw new LeaseConflictError();
    this.record = { ...r, resourceVersion: String(++this.rv) };
    return { ...this.record };
  }

  update(r: LeaseRecord): LeaseRecord {
    if (!this.record || r.resourceVersion !== this.record.resourceVersion) throw new LeaseConflictError();
    this.record = { ...r, resourceVersion: String(++this.rv) };
    return { ...this.record };
  }
}

/** One replica's connection to the Lease, which a test can break or hang. */
class FakeLeaseClient implements LeaseStore {
  mode: 'ok' | 'failing' | 'hanging' = 'ok';
  constructor(private readonly server: FakeLeaseServer) {}

  private call<T>(fn: () => T): Promise<T> {
    if (this.mode === 'failing') return Promise.reject(new Error('apiserver unreachable'));
    if (this.mode === 'hanging') return new Promise<T>(() => undefined);
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  get() {
    return this.call(() => this.server.get());
  }
  create(r: LeaseRecord) {
    return this.call(() => this.server.create(r));
  }
  update(r: LeaseRecord) {
    return this.call(() => this.server.update(r));
  }
}

interface Replica {
  elector: LeaderElector;
  client: FakeLeaseClient;
  log: string[];
  signals: AbortSignal[];
  leading: boolean;
  done: Promise<void> | undefined;
}

let clock: FakeClock;
let server: FakeLeaseServer;
let replicas: Replica[];

function replica(identity: string, extra: Partial<LeaderElectorOptions> = {}, clk: Clock = clock): Replica {
  const client = new FakeLeaseClient(server);
  const r: Replica = { client, log: [], signals: [], leading: false, done: undefined } as unknown as Replica;
  r.elector = new LeaderElector({
    identity,
    store: client,
    clock: clk,
    random: () => 0,
    onStartedLeading: (signal) => {
      r.leading = true;
      r.signals.push(signal);
      r.log.push(`started@${clock.now()}`);
    },
    onStoppedLeading: () => {
      r.leading = false;
      r.log.push(`stopped@${clock.now()}`);
    },
    onNewLeader: (id) => r.log.push(`leader ${id}@${clock.now()}`),
    ...extra,
  });
  replicas.push(r);
  return r;
}

function run(r: Replica): Replica {
  r.done = r.elector.run();
  return r;
}

beforeEach(() => {
  clock = new FakeClock(Date.UTC(2026, 0, 1));
  server = new FakeLeaseServer();
  replicas = [];
});

afterEach(async () => {
  for (const r of replicas) r.client.mode = 'ok';
  const stops = replicas.map((r) => r.elector.stop());
  await clock.advance(10_000); // lets a stop waiting on a hung call give up
  await Promise.all(stops);
});

const t0 = Date.UTC(2026, 0, 1);

describe('acquire and renew', () => {
  test('takes an absent lease, writes MicroTime timestamps, starts leading', async () => {
    const a = run(replica('a'));
    await clock.flush();
    expect(a.elector.isLeader()).toBe(true);
    expect(a.log).toEqual([`leader a@${t0}`, `started@${t0}`]);
    expect(a.signals[0]?.aborted).toBe(false);
    expect(server.record).toMatchObject({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: '2026-01-01T00:00:00.000000Z',
      renewTime: '2026-01-01T00:00:00.000000Z',
      leaseTransitions: 0,
    });
    expect(a.elector.getLeader()).toBe('a');
  });

  test('renews every retry period, keeping acquireTime and transitions', async () => {
    const a = run(replica('a'));
    await clock.advance(2000);
    expect(server.record?.renewTime).toBe(toMicroTime(t0 + 2000));
    await clock.advance(2000);
    expect(server.record?.renewTime).toBe(toMicroTime(t0 + 4000));
    expect(server.record?.acquireTime).toBe(toMicroTime(t0));
    expect(server.record?.leaseTransitions).toBe(0);
    await clock.advance(60_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.log.filter((l) => l.startsWith('started'))).toHaveLength(1);
  });

  test('a lease held by another replica is taken only after it expired by our own clock', async () => {
    const a = run(replica('a'));
    await clock.advance(1000);
    await a.elector.stop(); // a crashes: no release, no more renewals (last one at t0)
    const b = run(replica('b'));
    await clock.flush(); // b first sees the record at t0+1000 and waits a full lease from then
    expect(b.log).toEqual([`leader a@${t0 + 1000}`]);
    await clock.advance(15_000); // t0+16000: b's attempt at t0+15000 still saw a valid lease
    expect(b.elector.isLeader()).toBe(false);
    await clock.advance(999);
    expect(b.elector.isLeader()).toBe(false);
    await clock.advance(1); // t0+17000, the first attempt after expiry
    expect(b.elector.isLeader()).toBe(true);
    expect(server.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1, acquireTime: toMicroTime(t0 + 17_000) });
    expect(b.log).toContain(`leader b@${t0 + 17_000}`);
  });

  test('a lease renewed by its holder is never taken', async () => {
    run(replica('a'));
    await clock.flush();
    const b = run(replica('b'));
    await clock.advance(120_000);
    expect(b.elector.isLeader()).toBe(false);
    expect(server.record?.holderIdentity).toBe('a');
  });

  test('two candidates racing for an absent lease: one wins, the other gets a conflict', async () => {
    const errors: unknown[] = [];
    const a = run(replica('a', { onError: (e) => errors.push(e) }));
    const b = run(replica('b', { onError: (e) => errors.push(e) }));
    await clock.advance(10_000);
    expect([a.elector.isLeader(), b.elector.isLeader()].filter(Boolean)).toHaveLength(1);
    expect(errors.some((e) => (e as { code?: number }).code === 409)).toBe(true);
  });
});

describe('losing the lease', () => {
  test('renewals failing past renewDeadline stop leading at once, then it campaigns again', async () => {
    const a = run(replica('a'));
    await clock.advance(1000);
    a.client.mode = 'failing';
    await clock.advance(8999); // t0+9999: renewals at 2000..8000 failed
    expect(a.elector.isLeader()).toBe(true);
    expect(a.leading).toBe(true);
    await clock.advance(1); // t0+10000: renewDeadline since the last renewal (t0)
    expect(a.elector.isLeader()).toBe(false);
    expect(a.log.at(-1)).toBe(`stopped@${t0 + 10_000}`);
    expect(a.signals[0]?.aborted).toBe(true);
    a.client.mode = 'ok';
    await clock.advance(2000); // the lease is still ours and untouched: taken again
    expect(a.elector.isLeader()).toBe(true);
    expect(a.signals).toHaveLength(2);
    expect(a.signals[1]?.aborted).toBe(false);
  });

  test('a renewal that hangs does not delay the loss', async () => {
    const a = run(replica('a'));
    await clock.advance(1000);
    a.client.mode = 'hanging';
    await clock.advance(9000);
    expect(a.log.at(-1)).toBe(`stopped@${t0 + 10_000}`);
    expect(a.elector.isLeader()).toBe(false);
  });

  test('isLeader() is false past renewDeadline even before the loop notices', async () => {
    let skew = 0;
    const skewed: Clock = {
      now: () => clock.now() + skew,
      sleep: (ms, signal) => clock.sleep(ms, signal),
      setTimer: (ms, fn) => clock.setTimer(ms, fn),
    };
    const a = run(replica('a', {}, skewed));
    await clock.flush();
    expect(a.elector.isLeader()).toBe(true);
    skew = 9_999;
    expect(a.elector.isLeader()).toBe(true);
    skew = 10_000; // no timer has fired: only the time moved
    expect(a.elector.isLeader()).toBe(false);
    expect(a.leading).toBe(true);
  });

  test('a leader that finds another valid holder in the lease stops at once', async () => {
    const a = run(replica('a'));
    await clock.advance(500);
    server.update({ ...server.get(), holderIdentity: 'intruder' });
    await clock.advance(1500);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.log).toContain(`stopped@${t0 + 2000}`);
    expect(a.log).toContain(`leader intruder@${t0 + 2000}`);
  });
});

describe('stop', () => {
  test('with release: stops leading, clears the holder, and another replica takes over within a retry period', async () => {
    const a = run(replica('a'));
    await clock.flush();
    const b = run(replica('b'));
    await clock.advance(5000);
    await a.elector.stop({ release: true });
    expect(a.log.at(-1)).toBe(`stopped@${t0 + 5000}`);
    expect(a.signals[0]?.aborted).toBe(true);
    expect(server.record).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 0 });
    await a.done;
    await clock.advance(2000);
    expect(b.elector.isLeader()).toBe(true);
    expect(server.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  test('without release the lease keeps its holder', async () => {
    const a = run(replica('a'));
    await clock.flush();
    await a.elector.stop();
    await a.done;
    expect(a.elector.isLeader()).toBe(false);
    expect(server.record?.holderIdentity).toBe('a');
    expect(clock.pendingTimers()).toBe(0);
  });

  test('a non-leader releases nothing', async () => {
    run(replica('a'));
    await clock.flush();
    const b = run(replica('b'));
    await clock.flush();
    await b.elector.stop({ release: true });
    expect(server.record?.holderIdentity).toBe('a');
    expect(b.log.filter((l) => l.startsWith('stopped'))).toEqual([]);
  });
});

test('two electors are never both leaders at any instant', async () => {
  const a = run(replica('a'));
  await clock.flush();
  const b = run(replica('b'));
  const check = () => {
    const both = a.elector.isLeader() && b.elector.isLeader();
    const bothCallbacks = a.leading && b.leading;
    if (both || bothCallbacks) throw new Error(`two leaders at t0+${clock.now() - t0}`);
  };
  const step = async (ms: number) => {
    for (let t = 0; t < ms; t += 100) {
      await clock.advance(100);
      check();
    }
  };
  await step(30_000);
  expect(a.elector.isLeader()).toBe(true);
  a.client.mode = 'failing'; // a is cut off from the apiserver: b takes over
  await step(30_000);
  expect(b.elector.isLeader()).toBe(true);
  a.client.mode = 'ok'; // a comes back: b keeps the lease
  await step(30_000);
  expect(b.elector.isLeader()).toBe(true);
  b.client.mode = 'hanging'; // b's calls hang: a takes over after expiry
  await step(30_000);
  expect(a.elector.isLeader()).toBe(true);
  b.client.mode = 'ok';
  await step(10_000);
  expect(a.elector.isLeader()).toBe(true);
  expect(b.elector.isLeader()).toBe(false);
  expect(b.elector.getLeader()).toBe('a'); // b gave up on its hung call and campaigns again
});

test('invalid durations are refused', () => {
  const base = { identity: 'a', store: new FakeLeaseClient(new FakeLeaseServer()), onStartedLeading: () => {}, onStoppedLeading: () => {} };
  expect(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).toThrow(RangeError);
  expect(() => new LeaderElector({ ...base, retryPeriodMs: 0 })).toThrow(RangeError);
  expect(() => new LeaderElector({ ...base, identity: '' })).toThrow(RangeError);
});
