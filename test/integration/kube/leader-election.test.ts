// Leader election on a real Lease: two electors in one process with short durations
// (lease 3 s, renew deadline 2 s, retry 0.5 s). Exactly one leads; a released lease is
// taken over within about a retry period; a leader cut off from the API server stops
// leading by itself, and the other replica takes over, never both at once.
import { CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { KubeLeaseStore } from '../../../src/kube/lease-store.js';
import { LeaderElector } from '../../../src/runtime/leader-election.js';
import type { LeaseRecord, LeaseStore } from '../../../src/runtime/leader-election.js';
import { eventually } from '../../helpers/eventually.js';
import { uniqueName } from '../../helpers/stack.js';

const kc = new KubeConfig();
kc.loadFromDefault();
const core = kc.makeApiClient(CoreV1Api);
const coordination = kc.makeApiClient(CoordinationV1Api);

const RETRY_MS = 500;
let namespace: string;
const electors: LeaderElector[] = [];
const timers: NodeJS.Timeout[] = [];

interface Candidate {
  elector: LeaderElector;
  started: number;
  stopped: number;
  signal: AbortSignal | undefined;
  /** Store calls that succeeded: each attempt reads the Lease (get), each renewal writes it (update). */
  calls: { get: number; update: number };
}

function candidate(identity: string, store: LeaseStore): Candidate {
  const c: Candidate = { started: 0, stopped: 0, signal: undefined, calls: { get: 0, update: 0 } } as Candidate;
  const counted: LeaseStore = {
    get: async () => {
      const r = await store.get();
      c.calls.get++;
      return r;
    },
    create: (r) => store.create(r),
    update: async (r) => {
      const out = await store.update(r);
      c.calls.update++;
      return out;
    },
  };
  c.elector = new LeaderElector({
    identity,
    store: counted,
    leaseDurationMs: 3000,
    renewDeadlineMs: 2000,
    retryPeriodMs: RETRY_MS,
    onStartedLeading: (signal) => {
      c.started++;
      c.signal = signal;
    },
    onStoppedLeading: () => {
      c.stopped++;
    },
  });
  electors.push(c.elector);
  void c.elector.run();
  return c;
}

/**
 * Waits until `c` has made `n` more successful store calls of `kind` than it had made so far:
 * "it tried n times" (or "renewed n times"), seen, where a sleep would only hope so.
 */
async function callsMore(c: Candidate, kind: 'get' | 'update', n: number, what: string): Promise<void> {
  const from = c.calls[kind];
  await eventually(async () => (c.calls[kind] >= from + n ? true : undefined), { timeoutMs: 15_000, intervalMs: 20, what });
}

/** Samples both electors every 20 ms; returns the instants (ms since start) with two leaders. */
function watchForTwoLeaders(a: Candidate, b: Candidate): number[] {
  const t0 = Date.now();
  const violations: number[] = [];
  const timer = setInterval(() => {
    if (a.elector.isLeader() && b.elector.isLeader()) violations.push(Date.now() - t0);
  }, 20);
  timers.push(timer);
  return violations;
}

beforeAll(async () => {
  namespace = uniqueName('le');
  await core.createNamespace({ body: { metadata: { name: namespace } } });
});

afterEach(async () => {
  for (const t of timers.splice(0)) clearInterval(t);
  await Promise.all(electors.splice(0).map((e) => e.stop()));
});

afterAll(async () => {
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

test('exactly one of two electors leads; a released lease is taken over within about a retry period', async () => {
  const ref = { namespace, name: uniqueName('lease') };
  const a = candidate('replica-a', new KubeLeaseStore(kc, ref));
  const b = candidate('replica-b', new KubeLeaseStore(kc, ref));
  const twoLeaders = watchForTwoLeaders(a, b);

  const [leader, follower] = await eventually(
    async () => (a.elector.isLeader() ? [a, b] : b.elector.isLeader() ? [b, a] : undefined),
    { timeoutMs: 10_000, intervalMs: 50, what: 'a leader' },
  );
  // The point: several renewals (six retry periods), the follower trying all along, and nothing changes.
  await Promise.all([callsMore(leader, 'update', 6, 'six renewals by the leader'), callsMore(follower, 'get', 6, 'six attempts by the follower')]);
  expect(leader.elector.isLeader()).toBe(true);
  expect(follower.elector.isLeader()).toBe(false);
  expect(leader.started).toBe(1);

  const lease = await coordination.readNamespacedLease(ref);
  expect(lease.spec?.holderIdentity).toBe(leader.elector.identity);
  expect(lease.spec?.leaseDurationSeconds).toBe(3);
  expect(String(lease.spec?.renewTime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

  const releasedAt = Date.now();
  await leader.elector.stop({ release: true });
  expect(leader.stopped).toBe(1);
  expect(leader.signal?.aborted).toBe(true);
  await eventually(async () => (follower.elector.isLeader() ? true : undefined), {
    timeoutMs: 5000,
    intervalMs: 20,
    what: 'the follower to take over',
  });
  // retry period plus its 20 % jitter, plus the round trips
  expect(Date.now() - releasedAt).toBeLessThan(RETRY_MS * 1.2 + 1000);
  const after = await coordination.readNamespacedLease(ref);
  expect(after.spec?.holderIdentity).toBe(follower.elector.identity);
  expect(after.spec?.leaseTransitions).toBe(1);
  expect(twoLeaders).toEqual([]);
});

test('a leader whose API calls start failing stops leading on its own; the other takes over', async () => {
  const ref = { namespace, name: uniqueName('lease') };
  const real = new KubeLeaseStore(kc, ref);
  let broken = false;
  const breakable: LeaseStore = {
    get: () => (broken ? Promise.reject(new Error('injected: apiserver unreachable')) : real.get()),
    create: (r: LeaseRecord) => (broken ? Promise.reject(new Error('injected')) : real.create(r)),
    update: (r: LeaseRecord) => (broken ? Promise.reject(new Error('injected')) : real.update(r)),
  };
  const a = candidate('replica-a', breakable);
  await eventually(async () => (a.elector.isLeader() ? true : undefined), { timeoutMs: 10_000, intervalMs: 50, what: 'a to lead' });
  const b = candidate('replica-b', new KubeLeaseStore(kc, ref));
  const twoLeaders = watchForTwoLeaders(a, b);
  await callsMore(b, 'get', 3, 'three attempts by b'); // the point: b tries for a while (three retry periods) and never leads
  expect(b.elector.isLeader()).toBe(false);

  const brokenAt = Date.now();
  broken = true;
  await eventually(async () => (a.stopped === 1 ? true : undefined), { timeoutMs: 5000, intervalMs: 20, what: 'a to stop leading' });
  // The renew deadline (2 s) counts from the last renewal, at most one retry period before.
  expect(Date.now() - brokenAt).toBeLessThan(2000 + 300);
  expect(a.elector.isLeader()).toBe(false);
  expect(a.signal?.aborted).toBe(true);

  await eventually(async () => (b.elector.isLeader() ? true : undefined), { timeoutMs: 10_000, intervalMs: 20, what: 'b to take over' });
  expect((await real.get())?.holderIdentity).toBe('replica-b');
  broken = false; // a recovers, and stays a follower
  await callsMore(a, 'get', 3, 'three attempts by a after it recovered'); // the point: for a while (three retry periods)
  expect(a.elector.isLeader()).toBe(false);
  expect(b.elector.isLeader()).toBe(true);
  expect(twoLeaders).toEqual([]);
});

test('the store maps a stale resourceVersion and a second create to 409', async () => {
  const store = new KubeLeaseStore(kc, { namespace, name: uniqueName('lease') });
  expect(await store.get()).toBeUndefined();
  const created = await store.create({ holderIdentity: 'x', leaseDurationSeconds: 5, renewTime: '2026-01-01T00:00:00.000000Z' });
  expect(created).toMatchObject({ holderIdentity: 'x', renewTime: '2026-01-01T00:00:00.000000Z' });
  await expect(store.create({ holderIdentity: 'y' })).rejects.toMatchObject({ code: 409 });
  const updated = await store.update({ ...created, holderIdentity: 'y' });
  expect(updated.holderIdentity).toBe('y');
  await expect(store.update({ ...created, holderIdentity: 'z' })).rejects.toMatchObject({ code: 409 });
});
