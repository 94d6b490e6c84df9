// Table tests of the pure core: observed state in, what is due and the plan out.
import { FINALIZER, FORCE_SYNC_ANNOTATION } from '../../../src/api/annotations.js';
import { SourceUnavailableError, StaleObjectError, TargetConflictError } from '../../../src/errors.js';
import { contentHmac, hmacKey, type HmacKey } from '../../../src/secretsync/content.js';
import { whatIsDue } from '../../../src/secretsync/due.js';
import { planDeletion } from '../../../src/secretsync/finalizer.js';
import type { Observed } from '../../../src/secretsync/observe.js';
import { planSync, planTakenName, planWriteFailure, type Plan, type ReadOutcome } from '../../../src/secretsync/plan.js';
import { aSecretSync, content, KEY, keysFor, observed, planWrites as writes, remembered, syncedStatus, T0, writtenSecret } from './fixtures.js';

const C1 = content({ password: 'p1' });
const C2 = content({ password: 'p2' });
const later = (ms: number) => new Date(T0.getTime() + ms);
const ok = (c = C1, sourceVersions: Record<string, string> = { db: '1' }): ReadOutcome => ({ ok: true, content: c, sourceVersions });

/** due + plan, reading `read` when the plan asks for a read. */
function run(o: Observed, read: ReadOutcome = ok()): { reason?: string; failure?: unknown; plan: Plan } {
  const due = whatIsDue(o);
  const plan = planSync(o, due, due.read && due.failure === undefined ? read : undefined);
  return { reason: due.read, failure: due.failure, plan };
}

/** A healthy SecretSync whose Secret holds `c`, seen before by this process at `lastCheck`. */
function healthy(c = C1, o: Partial<Observed> = {}, ss = aSecretSync()) {
  const s = { ...ss, status: syncedStatus(ss, c) };
  return observed({ ss: s, target: writtenSecret(s, c), ...o });
}

describe('a new SecretSync', () => {
  test('is read at once and costs three writes: Secret, status, one event', () => {
    const { reason, plan } = run(observed({ ss: aSecretSync() }));
    expect(reason).toBe('first sync');
    expect(writes(plan)).toEqual(['secret create', 'status', 'event Synced']);
    expect(plan.status).toMatchObject({ version: 1, lastSyncTime: T0.toISOString(), sourceVersions: { db: '1' } });
    expect(plan.status?.contentHmac).toBe(contentHmac(keysFor(aSecretSync()).content, C1));
    expect(plan.requeueAfterMs).toBeGreaterThan(0);
    expect(plan.requeueAfterMs).toBeLessThanOrEqual(30_000);
  });

  test('with deletionPolicy Retain it also takes the finalizer first (it must release the Secret on delete)', () => {
    const { plan } = run(observed({ ss: aSecretSync({ target: { deletionPolicy: 'Retain' } }) }));
    expect(writes(plan)).toEqual(['finalizer', 'secret create', 'status', 'event Synced']);
    expect(plan.finalizers?.list).toEqual([FINALIZER]);
  });
});

describe('a healthy SecretSync', () => {
  test('first seen by this process (a restart, a new leader): not read now, but at its own tick', () => {
    const { reason, plan } = run(healthy());
    expect(reason).toBeUndefined();
    expect(writes(plan)).toEqual([]);
    expect(plan.memory.lastCheck).toEqual(T0);
    expect(plan.requeueAfterMs).toBeLessThanOrEqual(30_000);
  });

  test('at its tick: read, same content, not a single write', () => {
    const o = healthy(C1, { memory: remembered(T0), now: later(30_001) });
    const { reason, plan } = run(o);
    expect(reason).toBe('refresh due');
    expect(writes(plan)).toEqual([]);
    expect(plan.result).toBe('unchanged');
  });

  test('before its tick: nothing', () => {
    const due = whatIsDue(healthy(C1, { memory: remembered(T0), now: later(1) }));
    // Unless the tick happened to fall in that millisecond, nothing is due.
    if (due.nextRefresh.getTime() > later(1).getTime()) expect(due.read).toBeUndefined();
  });

  test('new content at the source: version + 1, one patch, status, one event', () => {
    const { plan } = run(healthy(C1, { memory: remembered(T0), now: later(30_001) }), ok(C2, { db: '2' }));
    expect(writes(plan)).toEqual(['secret patch', 'status', 'event Synced']);
    expect(plan.status).toMatchObject({ version: 2, sourceVersions: { db: '2' }, lastSyncTime: later(30_001).toISOString() });
  });

  test('a source whose spec changed is read at once', () => {
    expect(whatIsDue(healthy(C1, { memory: remembered(T0, 's1/0'), now: later(1) })).read).toBe('source changed');
  });

  test('a Secret changed by someone else is repaired without a new version', () => {
    const o = healthy(C1, { memory: remembered(T0), now: later(1) });
    o.target = { ...o.target!, data: { password: Buffer.from('tampered').toString('base64') } };
    const { reason, plan } = run(o);
    expect(reason).toBe('target changed');
    expect(writes(plan)).toEqual(['secret patch', 'status', 'event Updated']);
    expect(plan.status?.version).toBe(1);
  });

  test('a Secret deleted by someone else is recreated without a new version', () => {
    const { reason, plan } = run(healthy(C1, { target: undefined, memory: remembered(T0), now: later(1) }));
    expect(reason).toBe('target missing');
    expect(writes(plan)).toEqual(['secret create', 'status', 'event Updated']);
    expect(plan.status?.version).toBe(1);
  });
});

describe('the HMAC key was lost (Secret deleted, restored, operator moved)', () => {
  const newKey = hmacKey(Buffer.alloc(32, 2));
  const withRoot = (o: Observed, root: HmacKey): Observed => ({ ...o, macKeys: keysFor(o.ss, root) });

  test('no drift is assumed and nothing is due at start', () => {
    const { reason, plan } = run(withRoot(healthy(), newKey));
    expect(reason).toBeUndefined();
    expect(writes(plan)).toEqual([]);
  });

  test('at the next refresh the content is compared for real: same version, no Secret write, status re-keyed quietly', () => {
    const { plan } = run(withRoot(healthy(C1, { memory: remembered(T0), now: later(30_001) }), newKey));
    expect(writes(plan)).toEqual(['status']);
    expect(plan.status?.version).toBe(1);
    expect(plan.status?.contentHmac).toBe(contentHmac(keysFor(healthy().ss, newKey).content, C1));
  });

  test('a status from before key ids (older format) is treated the same way', () => {
    const o = healthy(C1, { memory: remembered(T0), now: later(30_001) });
    o.ss.status = { ...o.ss.status, contentHmac: `hmac-sha256:${'A'.repeat(43)}` };
    expect(whatIsDue({ ...o, now: later(1) }).read).toBeUndefined();
    const { plan } = run(o);
    expect(writes(plan)).toEqual(['status']);
    expect(plan.status?.version).toBe(1);
  });

  test('content that really changed still bumps the version', () => {
    const { plan } = run(withRoot(healthy(C1, { memory: remembered(T0), now: later(30_001) }), newKey), ok(C2));
    expect(writes(plan)).toEqual(['secret patch', 'status', 'event Synced']);
    expect(plan.status?.version).toBe(2);
  });
});

describe('force-sync', () => {
  test('a new annotation value reads now and is recorded, so it fires once', () => {
    const o = healthy();
    o.ss.metadata.annotations = { [FORCE_SYNC_ANNOTATION]: '1700000000' };
    const { reason, plan } = run(o);
    expect(reason).toBe('force-sync');
    expect(writes(plan)).toEqual(['status']);
    expect(plan.status?.forceSyncHandled).toBe('1700000000');
    // After a restart, with the value recorded: nothing is due.
    const again = healthy();
    again.ss.metadata.annotations = { [FORCE_SYNC_ANNOTATION]: '1700000000' };
    again.ss.status = plan.status;
    expect(whatIsDue(again).read).toBeUndefined();
  });

  test('a second value within 10s waits, shown on Synced (reason Throttled) with one event, and runs when the window has passed', () => {
    const first = healthy(C1, { now: later(1_000) });
    first.ss.metadata.annotations = { [FORCE_SYNC_ANNOTATION]: 'a' };
    const done = run(first).plan;
    expect(done.status?.lastForceSyncTime).toBe(later(1_000).toISOString());
    // A new value 3 s later: no read, Ready untouched, Synced=True/Throttled, an event, requeue at the window's end.
    const second = healthy(C1, { memory: remembered(later(1_000)), now: later(4_000) });
    second.ss.metadata.annotations = { [FORCE_SYNC_ANNOTATION]: 'b' };
    second.ss.status = done.status;
    const waiting = run(second);
    expect(waiting.reason).toBeUndefined();
    expect(writes(waiting.plan)).toEqual(['status', 'event Throttled']);
    const cond = (p: Plan, type: string) => p.status?.conditions?.find((c) => c.type === type);
    expect(cond(waiting.plan, 'Synced')).toMatchObject({ status: 'True', reason: 'Throttled' });
    expect(cond(waiting.plan, 'Synced')?.message).toMatch(/runs by itself at .*At most one force-sync per SecretSync every 10s/);
    expect(cond(waiting.plan, 'Ready')).toMatchObject({ status: 'True', reason: 'Synced' });
    expect(waiting.plan.requeueAfterMs).toBe(7_000);
    // A third value in the same window: nothing more is written (a flood costs one status write and one event).
    const third = { ...second, now: later(6_000), ss: { ...second.ss, status: waiting.plan.status } };
    third.ss.metadata = { ...third.ss.metadata, annotations: { [FORCE_SYNC_ANNOTATION]: 'c' } };
    const flood = run(third);
    expect(writes(flood.plan)).toEqual([]);
    expect(flood.plan.requeueAfterMs).toBe(5_000);
    // At the window's end it reads, records the value and Synced is back to Synced.
    const after = { ...third, now: later(11_000) };
    const ran = run(after);
    expect(ran.reason).toBe('force-sync');
    expect(ran.plan.status?.forceSyncHandled).toBe('c');
    expect(cond(ran.plan, 'Synced')).toMatchObject({ status: 'True', reason: 'Synced' });
  });

  test('a read due for another reason answers a waiting force-sync too', () => {
    const o = healthy(C1, { now: later(4_000) }, aSecretSync({}, { generation: 2 }));
    o.ss.status = { ...o.ss.status, observedGeneration: 1, forceSyncHandled: 'a', lastForceSyncTime: later(1_000).toISOString() };
    o.ss.metadata.annotations = { [FORCE_SYNC_ANNOTATION]: 'b' };
    const { reason, plan } = run(o);
    expect(reason).toBe('spec changed');
    expect(plan.status?.forceSyncHandled).toBe('b');
    expect(plan.status?.lastForceSyncTime).toBe(later(4_000).toISOString());
  });

  test('on a failing SecretSync a flood of values does not make a read each: the window holds its retries too', () => {
    const o = healthy(C1, { now: later(4_000) });
    const failing = (o.ss.status?.conditions ?? []).map((c) => (c.type === 'Ready' || c.type === 'Synced' ? { ...c, status: 'False' as const, reason: 'SourceUnavailable' } : c));
    o.ss.status = { ...o.ss.status, conditions: failing, forceSyncHandled: 'a', lastForceSyncTime: later(1_000).toISOString() };
    o.ss.metadata.annotations = { [FORCE_SYNC_ANNOTATION]: 'b' };
    const waiting = run(o);
    expect(waiting.reason).toBeUndefined();
    expect(waiting.plan.requeueAfterMs).toBe(7_000);
    expect(waiting.plan.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'SourceUnavailable' });
    // Without a waiting value (or once the window has passed) the retry reads as before.
    expect(run({ ...o, now: later(11_000) }).reason).toBe('retry after failure');
    o.ss.metadata.annotations = { [FORCE_SYNC_ANNOTATION]: 'a' };
    expect(run(o).reason).toBe('retry after failure');
  });

  test('a long value is recorded as a hash', () => {
    const o = healthy();
    o.ss.metadata.annotations = { [FORCE_SYNC_ANNOTATION]: 'x'.repeat(500) };
    expect(run(o).plan.status?.forceSyncHandled).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('spec changes', () => {
  test('a removed data entry leaves neither its key in the Secret nor its source version in status', () => {
    const before = aSecretSync({
      data: [
        { key: 'password', remoteRef: { path: 'db', property: 'password' } },
        { key: 'user', remoteRef: { path: 'users', property: 'name' } },
      ],
    });
    const both = content({ password: 'p1', user: 'u' });
    const ss = { ...aSecretSync({}, { generation: 2 }), status: syncedStatus(before, both, { sourceVersions: { db: '1', users: '4' } }) };
    const { reason, plan } = run(observed({ ss, target: writtenSecret(before, both) }));
    expect(reason).toBe('spec changed');
    expect(plan.secret).toMatchObject({ kind: 'patch', patch: { data: { user: null } } });
    expect(plan.status?.sourceVersions).toEqual({ db: '1' });
    expect(plan.status?.version).toBe(2);
  });

  test('a new target type replaces the Secret (validated first, in act)', () => {
    const ss = aSecretSync({ target: { type: 'example.com/other' } }, { generation: 2 });
    const old = aSecretSync();
    const o = observed({ ss: { ...ss, status: syncedStatus(old, C1) }, target: writtenSecret(old, C1) });
    expect(run(o).plan.secret).toMatchObject({ kind: 'replace', oldUid: 'sec-1' });
  });

  test('a renamed target: the old Secret goes by deletionPolicy once the new one is written', () => {
    const old = aSecretSync();
    const ss = { ...aSecretSync({ target: { name: 'db-v2' } }, { generation: 2 }), status: syncedStatus(old, C1) };
    const stray = writtenSecret(old, C1);
    expect(writes(run(observed({ ss, strays: [stray] })).plan)).toEqual(['secret create', 'delete db', 'status', 'event Updated']);
    const retain = { ...ss, spec: { ...ss.spec, target: { name: 'db-v2', deletionPolicy: 'Retain' as const } } };
    expect(writes(run(observed({ ss: retain, strays: [stray] })).plan)).toEqual(['finalizer', 'secret create', 'release db', 'status', 'event Updated']);
  });
});

describe('failures', () => {
  test('a target owned by another SecretSync: TargetConflict, without reading the source', () => {
    const other = writtenSecret(aSecretSync({}, { uid: 'someone-else' }), C1);
    const { reason, failure, plan } = run(observed({ ss: aSecretSync(), target: other }));
    expect(reason).toBeUndefined();
    expect(failure).toBeDefined();
    expect(writes(plan)).toEqual(['status', 'event TargetConflict']);
    expect(plan.status?.conditions?.[0]).toMatchObject({ status: 'False', reason: 'TargetConflict' });
  });

  test('a ClusterSecretSource that does not admit the namespace: NamespaceNotAllowed', () => {
    const ss = aSecretSync({ sourceRef: { kind: 'ClusterSecretSource', name: 'shared' } });
    const source = { apiVersion: 'secretsync.io/v1alpha1', kind: 'ClusterSecretSource', metadata: { name: 'shared', uid: 'c1' }, spec: { allowedNamespaces: ['other'] } } as never;
    expect(run(observed({ ss, source })).plan.status?.conditions?.[0]?.reason).toBe('NamespaceNotAllowed');
    const admitted = { ...(source as object), spec: { namespaceSelector: { matchLabels: { team: 'a' } } } } as never;
    expect(run(observed({ ss, source: admitted, namespaceLabels: { team: 'a' } })).plan.status?.version).toBe(1);
  });

  test('a missing source: SourceRefNotFound', () => {
    expect(run(observed({ ss: aSecretSync(), source: undefined })).plan.status?.conditions?.[0]?.reason).toBe('SourceRefNotFound');
  });

  test('a failing read keeps the Secret, writes Ready=False and one Warning once; the same failure again writes nothing', () => {
    const fail: ReadOutcome = { ok: false, error: new SourceUnavailableError('vault down') };
    const o = healthy(C1, { memory: remembered(T0), now: later(30_001) });
    const { plan } = run(o, fail);
    expect(writes(plan)).toEqual(['status', 'event SourceUnavailable']);
    expect(plan.secret).toBeUndefined();
    expect(plan.error).toMatchObject({ retryable: true });
    expect(plan.status).toMatchObject({ version: 1 });
    const again = { ...o, ss: { ...o.ss, status: plan.status }, memory: plan.memory, now: later(31_000) };
    const second = run(again, fail);
    expect(second.reason).toBe('retry after failure');
    expect(writes(second.plan)).toEqual([]);
  });

  test('content over the size limit is terminal: looked at again at the next tick, not retried with backoff', () => {
    const { plan } = run(observed({ ss: aSecretSync({ target: { maxSizeBytes: 3 } }) }), ok(content({ password: 'too long' })));
    expect(plan.error).toMatchObject({ retryable: false });
    expect(plan.status?.conditions?.[0]?.reason).toBe('SizeLimitExceeded');
    expect(plan.requeueAfterMs).toBeLessThanOrEqual(30_000);
  });

  test('an invalid schedule: InvalidSpec, and no busy loop', () => {
    const { plan } = run(observed({ ss: aSecretSync({ refresh: { schedule: '99 * * * *' } }) }));
    expect(plan.status?.conditions?.[0]?.reason).toBe('InvalidSpec');
    expect(plan.requeueAfterMs).toBeGreaterThan(60_000);
  });
});

describe('a create that found the name taken (act stops; the reconciler reads the Secret and plans again)', () => {
  const first = () => run(observed({ ss: aSecretSync() })).plan;

  test('gone again when read: a stale cache, retried quietly', () => {
    expect(planTakenName(observed({ ss: aSecretSync() }), first(), undefined)).toEqual({ failed: expect.any(StaleObjectError) });
  });

  test("someone else's Secret (not labelled, so never in the cache): TargetConflict, nothing overwritten", () => {
    const theirs = { metadata: { name: 'db', namespace: 'ns', uid: 'x', resourceVersion: '1' }, data: { keep: 'bWU=' } };
    const next = planTakenName(observed({ ss: aSecretSync() }), first(), theirs);
    expect(next).toEqual({ failed: expect.any(TargetConflictError) });
  });

  test('ours, the cache behind or our labels removed: the same plan with the Secret repaired instead of created', () => {
    const ss = aSecretSync({ target: { deletionPolicy: 'Retain' } });
    const plan = run(observed({ ss })).plan;
    expect(writes(plan)).toEqual(['finalizer', 'secret create', 'status', 'event Synced']);
    const ours = writtenSecret(ss, C2);
    const next = planTakenName(observed({ ss }), plan, ours);
    if (!('repair' in next)) throw new Error('expected a repair');
    expect(writes(next.repair)).toEqual(['secret patch', 'status', 'event Synced']); // the finalizer is in place already
    expect(next.repair.secret).toMatchObject({ kind: 'patch', patch: { data: { password: Buffer.from('p1').toString('base64') } } });
    expect(next.repair.status).toEqual(plan.status);
  });

  test('a write that failed: Ready=False with its error, once, for the same forceSyncHandled and requeue', () => {
    const plan = run(healthy(C1, { memory: remembered(T0), now: later(30_001) }), ok(C2, { db: '2' })).plan;
    const failure = planWriteFailure(healthy(C1, { memory: remembered(T0), now: later(30_001) }), plan, new SourceUnavailableError('etcd slow'));
    expect(writes(failure)).toEqual(['status', 'event SourceUnavailable']);
    expect(failure).toMatchObject({ requeueAfterMs: plan.requeueAfterMs, forceSyncHandled: plan.forceSyncHandled, error: { retryable: true } });
    expect(failure.status?.version).toBe(1);
  });
});

describe('refresh alignment is the provider\'s', () => {
  const two = (align: boolean, paths = ['db', 'db']) =>
    ['a', 'b'].map((uid, i) => {
      const ss = aSecretSync({ data: [{ key: 'password', remoteRef: { path: paths[i] ?? 'db', property: 'password' } }] }, { name: uid, uid });
      return whatIsDue({ ...observed({ ss: { ...ss, status: syncedStatus(ss, C1) }, target: writtenSecret(ss, C1) }), alignRefreshes: align }).nextRefresh.getTime();
    });
  test('a batching provider: the syncs of one source share their tick, whatever they read', () => {
    const [a, b] = two(true, ['db', 'users']);
    expect(a).toBe(b);
  });
  test('a provider that reads one secret a call: syncs of one secret share their tick (and so one read)', () => {
    const [a, b] = two(false);
    expect(a).toBe(b);
  });
  test('a provider that reads one secret a call: syncs of different secrets at their own offsets', () => {
    const [a, b] = two(false, ['db', 'users']);
    expect(a).not.toBe(b);
  });
});

describe('deletion', () => {
  const deleting = (policy: 'Delete' | 'Retain', finalizers: string[]) => {
    const ss = aSecretSync({ target: { deletionPolicy: policy } }, { deletionTimestamp: T0.toISOString(), finalizers });
    return observed({ ss: { ...ss, status: syncedStatus(ss, C1) }, target: writtenSecret(ss, C1) });
  };
  test('without our finalizer there is nothing to do: the garbage collector deletes the owned Secret', () => {
    expect(planDeletion(deleting('Delete', []))).toBeUndefined();
  });
  test('Delete with our finalizer (objects from older versions): delete the Secret, then drop the finalizer', () => {
    expect(writes(planDeletion(deleting('Delete', [FINALIZER, 'other/keep']))!)).toEqual(['delete db', 'finalizer']);
    expect(planDeletion(deleting('Delete', [FINALIZER, 'other/keep']))?.finalizers?.list).toEqual(['other/keep']);
  });
  test('Retain: release the Secret, then drop the finalizer', () => {
    expect(writes(planDeletion(deleting('Retain', [FINALIZER]))!)).toEqual(['release db', 'finalizer']);
  });
  test('a target owned by someone else is never touched', () => {
    const o = deleting('Delete', [FINALIZER]);
    o.target = writtenSecret(aSecretSync({}, { uid: 'other' }), C1);
    expect(writes(planDeletion(o)!)).toEqual(['finalizer']);
  });
});

describe('per-object HMAC keys (issue 18, item 4)', () => {
  /** A healthy object whose status was written by the old main: the HMAC under the global key, no `v2:` mark. */
  function legacy(c = C1, o: Partial<Observed> = {}, ss = aSecretSync()): Observed {
    const s = { ...ss, status: syncedStatus(ss, c, {}, KEY) };
    return observed({ ss: s, target: writtenSecret(s, c), ...o });
  }

  test('equal content in two namespaces (or two objects) has different HMACs, marked v2', () => {
    const a = run(observed({ ss: aSecretSync() })).plan.status?.contentHmac;
    const b = run(observed({ ss: aSecretSync({}, { namespace: 'other', uid: 'u2' }) })).plan.status?.contentHmac;
    const c = run(observed({ ss: aSecretSync({}, { uid: 'u3' }) })).plan.status?.contentHmac;
    expect(a).toMatch(/^v2:hmac-sha256:/);
    expect(new Set([a, b, c]).size).toBe(3);
  });

  test.each([
    ['seen first after the upgrade (no memory)', {}],
    ['remembered, refresh not due', { memory: remembered(T0), now: later(1) }],
  ])('a legacy status matching the target, %s: re-keyed in status only, nothing read, no Secret write, no event', (_, extra) => {
    const o = legacy(C1, extra);
    const due = whatIsDue(o);
    expect(due).toMatchObject({ rekey: true });
    expect(due.read).toBeUndefined();
    const plan = planSync(o, due);
    expect(writes(plan)).toEqual(['status']);
    expect(plan.status?.version).toBe(1);
    expect(plan.status?.contentHmac).toBe(contentHmac(keysFor(o.ss).content, C1));
    expect(plan.status?.lastSyncTime).toBe(o.ss.status?.lastSyncTime);
    expect(plan.rollouts).toBeUndefined();
    // And then nothing more is due.
    const after = { ...o, ss: { ...o.ss, status: plan.status } };
    expect(whatIsDue(after)).toMatchObject({ read: undefined });
    expect(whatIsDue(after).rekey).toBeUndefined();
  });

  test('a legacy status over a target someone edited: drift, read, the version stays when the source holds the same', () => {
    const o = legacy(C1);
    const edited = { ...o, target: writtenSecret(o.ss, C2) };
    expect(whatIsDue(edited).read).toBe('target changed');
    const { plan } = run(edited, ok(C1));
    expect(writes(plan)).toEqual(['secret patch', 'status', 'event Updated']);
    expect(plan.status?.version).toBe(1);
    expect(plan.status?.contentHmac).toBe(contentHmac(keysFor(o.ss).content, C1));
  });

  test('a legacy status at a refresh: the same content keeps its version and is re-keyed; new content bumps it', () => {
    const same = run(legacy(C1, { memory: remembered(T0), now: later(30_001) }), ok(C1)).plan;
    expect(writes(same)).toEqual(['status']);
    expect(same.status).toMatchObject({ version: 1, contentHmac: contentHmac(keysFor(aSecretSync()).content, C1) });
    const changed = run(legacy(C1, { memory: remembered(T0), now: later(30_001) }), ok(C2)).plan;
    expect(changed.status?.version).toBe(2);
  });

  test('a legacy HMAC from another object does not verify as this one: the per-object key decides', () => {
    // A status copied from another SecretSync under the per-object scheme names the same root key but does not verify.
    const other = aSecretSync({}, { namespace: 'other', uid: 'u2' });
    const ss = aSecretSync();
    const s = { ...ss, status: syncedStatus(ss, C1, {}, keysFor(other).content) };
    expect(whatIsDue(observed({ ss: s, target: writtenSecret(s, C1) })).read).toBe('target changed');
  });

  test('an envelope-mode object is never re-keyed without its content (no read just for that)', () => {
    const o = legacy(C1);
    const enc = { ...o, ss: { ...o.ss, spec: { ...o.ss.spec, target: { encryption: { kek: { vaultTransit: { sourceRef: { name: 'vault' }, key: 'k' } } } } } } } as Observed;
    expect(whatIsDue(enc).rekey).toBeUndefined();
  });
});

describe("the operator's own Secrets are never a target (issue 18, item 9)", () => {
  test.each(['secretsync-hmac-key', 'secretsync-webhook-tls'])('a SecretSync in the operator namespace naming %s: Ready=False, nothing read or written', (name) => {
    const ss = aSecretSync({ target: { name } }, { namespace: 'secretsync-system' });
    const o = observed({ ss, operatorSecrets: ['secretsync-hmac-key', 'secretsync-webhook-tls'] });
    const due = whatIsDue(o);
    expect(due.read).toBeUndefined();
    expect(due.failure).toBeInstanceOf(TargetConflictError);
    const plan = planSync(o, due);
    expect(plan.secret).toBeUndefined();
    expect(plan.grants ?? []).toEqual([]);
    expect(plan.cleanups).toEqual([]);
    const ready = plan.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'TargetConflict' });
    expect(ready?.message).toContain(`spec.target.name ${name} is one of the operator's own Secrets`);
    expect(ready?.message).toContain('Choose another spec.target.name');
  });

  test('the same name in a tenant namespace is an ordinary target', () => {
    const ss = aSecretSync({ target: { name: 'secretsync-hmac-key' } });
    expect(whatIsDue(observed({ ss })).read).toBe('first sync');
  });
});
