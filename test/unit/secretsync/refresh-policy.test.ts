// spec.refresh.policy (Periodic, OnChange, CreatedOnce) and spec.target.immutable: table
// tests of the pure core, observed state in, what is due and the plan out.
import { FORCE_SYNC_ANNOTATION } from '../../../src/api/annotations.js';
import type { SecretSync } from '../../../src/api/types.js';
import { Reason, TargetImmutableError } from '../../../src/errors.js';
import { whatIsDue } from '../../../src/secretsync/due.js';
import type { Observed } from '../../../src/secretsync/observe.js';
import { planSync, type Plan, type ReadOutcome } from '../../../src/secretsync/plan.js';
import type { KubeSecret } from '../../../src/secretsync/ports.js';
import { describeRefresh } from '../../../src/secretsync/schedule.js';
import { dataChange, immutableProblem } from '../../../src/secretsync/target.js';
import { aSecretSync, asWritten, content, observed, planWrites as writes, remembered, syncedStatus, T0, writtenSecret } from './fixtures.js';

const C1 = content({ password: 'p1' });
const C2 = content({ password: 'p2' });
const later = (ms: number) => new Date(T0.getTime() + ms);
const HOUR = 3_600_000;
const ok = (c = C1): ReadOutcome => ({ ok: true, content: c, sourceVersions: { db: '1' } });
const ready = (p: Plan) => p.status?.conditions?.find((c) => c.type === 'Ready');

function run(o: Observed, read: ReadOutcome = ok()): { reason?: string; plan: Plan } {
  const due = whatIsDue(o);
  const plan = planSync(o, due, due.read && due.failure === undefined ? read : undefined);
  return { reason: due.read, plan };
}

const withPolicy = (policy: 'Periodic' | 'OnChange' | 'CreatedOnce', spec: Partial<SecretSync['spec']> = {}) =>
  aSecretSync({ refresh: policy === 'Periodic' ? { interval: '30s' } : { policy }, ...spec });

/** Synced with `c`, its Secret holding `c`, seen by this process at T0. */
function healthy(ss: SecretSync, c = C1, o: Partial<Observed> = {}): Observed {
  const s = { ...ss, status: syncedStatus(ss, c) };
  return observed({ ss: s, target: writtenSecret(s, c), memory: remembered(T0), ...o });
}

/** `o` after the plan's status was written (the next reconcile's view). */
function after(o: Observed, p: Plan): Observed {
  return { ...o, ss: { ...o.ss, status: p.status ?? o.ss.status } };
}

const bumped = (o: Observed): Observed => ({ ...o, ss: { ...o.ss, metadata: { ...o.ss.metadata, generation: 2 } } });
const forced = (o: Observed, value = 'now-1'): Observed => ({ ...o, ss: { ...o.ss, metadata: { ...o.ss.metadata, annotations: { [FORCE_SYNC_ANNOTATION]: value } } } });

describe('refresh.policy: what makes a read', () => {
  // Each row: how the observed state differs from a healthy, long-idle SecretSync.
  const cases: [string, (o: Observed) => Observed, { Periodic?: string; OnChange?: string; CreatedOnce?: string }][] = [
    ['an hour passed (many ticks)', (o) => ({ ...o, now: later(HOUR) }), { Periodic: 'refresh due' }],
    ['a new generation', bumped, { Periodic: 'spec changed', OnChange: 'spec changed' }],
    ['a new force-sync value', (o) => forced(o), { Periodic: 'force-sync', OnChange: 'force-sync', CreatedOnce: 'force-sync' }],
    ['the SecretSource object changed', (o) => ({ ...o, memory: remembered(T0, 's1/2') }), { Periodic: 'source changed' }],
    ['the Secret was deleted', (o) => ({ ...o, target: undefined }), { Periodic: 'target missing', OnChange: 'target missing', CreatedOnce: 'target missing' }],
    [
      'the Secret was edited',
      (o) => ({ ...o, target: { ...(o.target as KubeSecret), data: { password: Buffer.from('edited').toString('base64') } } }),
      { Periodic: 'target changed', OnChange: 'target changed' },
    ],
    ['nothing happened', (o) => o, {}],
  ];
  for (const policy of ['Periodic', 'OnChange', 'CreatedOnce'] as const) {
    test.each(cases)(`${policy}: %s`, (_what, change, want) => {
      const o = change(healthy(withPolicy(policy)));
      expect(whatIsDue(o).read).toBe(want[policy]);
    });
  }

  test('OnChange: idle for hours, not a single write (it looks again hourly, from caches)', () => {
    const o = healthy(withPolicy('OnChange'));
    for (const t of [1, HOUR, 10 * HOUR, 100 * HOUR]) {
      const { reason, plan } = run({ ...o, now: later(t) });
      expect(reason).toBeUndefined();
      expect(writes(plan)).toEqual([]);
    }
  });

  test('OnChange: a failure is retried (it never synced this generation)', () => {
    const o = healthy(withPolicy('OnChange'));
    const failed = { ...o.ss.status, conditions: [{ type: 'Ready', status: 'False' as const, reason: 'SourceUnavailable', message: 'x', lastTransitionTime: T0.toISOString() }] };
    expect(whatIsDue({ ...o, ss: { ...o.ss, status: failed } }).read).toBe('retry after failure');
  });

  test('OnChange: a spec change that brings new content writes it, like Periodic', () => {
    const { reason, plan } = run(bumped(healthy(withPolicy('OnChange'))), ok(C2));
    expect(reason).toBe('spec changed');
    expect(writes(plan)).toEqual(['secret patch', 'status', 'event Synced']);
    expect(plan.status?.version).toBe(2);
  });

  test('the Ready message says how the source is checked', () => {
    const { plan } = run(observed({ ss: withPolicy('OnChange') }));
    expect(ready(plan)?.message).toContain('only when the spec changes or on force-sync (refresh.policy OnChange)');
    expect(describeRefresh({ policy: 'CreatedOnce' })).toBe('only while the Secret does not exist, or once per force-sync (refresh.policy CreatedOnce)');
    expect(describeRefresh({ policy: 'Periodic', interval: '5m' })).toBe('every 5m');
  });
});

describe('refresh.policy CreatedOnce', () => {
  test('first sync: created as any other', () => {
    const { reason, plan } = run(observed({ ss: withPolicy('CreatedOnce') }));
    expect(reason).toBe('first sync');
    expect(writes(plan)).toEqual(['secret create', 'status', 'event Synced']);
  });

  test('a spec change while the Secret exists: not read, not applied; status says so once, then nothing', () => {
    const o = bumped(healthy(withPolicy('CreatedOnce')));
    const { reason, plan } = run(o);
    expect(reason).toBeUndefined();
    expect(writes(plan)).toEqual(['status']);
    expect(plan.status?.observedGeneration).toBe(2);
    expect(ready(plan)).toMatchObject({ status: 'True', reason: Reason.Synced, observedGeneration: 2 });
    expect(ready(plan)?.message).toMatch(/CreatedOnce.*generation 2.*applies only when the Secret is re-created.*force-sync/);
    const again = run(after(o, plan));
    expect(writes(again.plan)).toEqual([]);
  });

  test('a failure found before any read has gone: Ready True again, without a read', () => {
    const o = healthy(withPolicy('CreatedOnce'));
    const failed = { ...o.ss.status, conditions: [{ type: 'Ready', status: 'False' as const, reason: 'SourceRefNotFound', message: 'x', lastTransitionTime: T0.toISOString() }] };
    const { reason, plan } = run({ ...o, ss: { ...o.ss, status: failed } });
    expect(reason).toBeUndefined();
    expect(writes(plan)).toEqual(['status']);
    expect(ready(plan)?.status).toBe('True');
  });

  test('the Secret deleted: read and re-created with the current content (a new version when it changed)', () => {
    const { reason, plan } = run({ ...healthy(withPolicy('CreatedOnce')), target: undefined }, ok(C2));
    expect(reason).toBe('target missing');
    expect(writes(plan)).toEqual(['secret create', 'status', 'event Synced']);
    expect(plan.status?.version).toBe(2);
  });

  test('a force-sync reads and rewrites it in place, once per value', () => {
    const o = forced(healthy(withPolicy('CreatedOnce')));
    const { reason, plan } = run(o, ok(C2));
    expect(reason).toBe('force-sync');
    expect(writes(plan)).toEqual(['secret patch', 'status', 'event Synced']);
    expect(whatIsDue({ ...after(o, plan), now: later(60_000) }).read).toBeUndefined();
  });
});

describe('target.immutable', () => {
  const immutable = (spec: Partial<SecretSync['spec']> = {}) => aSecretSync({ target: { immutable: true }, ...spec });

  test('created with immutable: true', () => {
    const { plan } = run(observed({ ss: immutable() }));
    expect(plan.secret).toMatchObject({ kind: 'create', secret: { immutable: true } });
  });

  test('the same content at a refresh: not a single write', () => {
    const { reason, plan } = run({ ...healthy(immutable()), now: later(HOUR) });
    expect(reason).toBe('refresh due');
    expect(writes(plan)).toEqual([]);
  });

  test('new content: nothing written to the Secret; Ready=False TargetImmutable saying what to do; then no more writes', () => {
    const o = { ...healthy(immutable()), now: later(HOUR) };
    const { plan } = run(o, ok(C2));
    expect(plan.secret).toBeUndefined();
    expect(writes(plan)).toEqual(['status', 'event TargetImmutable']);
    expect(plan.error?.retryable).toBe(false);
    expect(ready(plan)).toMatchObject({ status: 'False', reason: Reason.TargetImmutable });
    expect(ready(plan)?.message).toMatch(/Secret ns\/db is immutable .*holds version 1.*would be version 2.*Delete the Secret/);
    expect(plan.status?.version).toBe(1);
    // Looked at again (a retry after failure reads), the same answer costs nothing.
    const again = run({ ...after(o, plan), now: later(2 * HOUR) }, ok(C2));
    expect(again.reason).toBe('retry after failure');
    expect(writes(again.plan)).toEqual([]);
    // The source went back to what the Secret holds: Ready again, the Secret untouched.
    const back = run({ ...after(o, plan), now: later(3 * HOUR) }, ok(C1));
    expect(back.plan.secret).toBeUndefined();
    expect(ready(back.plan)?.status).toBe('True');
  });

  test('the user deleted it to move on: re-created immutable as the next version', () => {
    const o = { ...healthy(immutable()), target: undefined };
    const { reason, plan } = run(o, ok(C2));
    expect(reason).toBe('target missing');
    expect(plan.secret).toMatchObject({ kind: 'create', secret: { immutable: true } });
    expect(plan.status?.version).toBe(2);
  });

  test('turned on for a mutable Secret: one patch sets immutable', () => {
    const s = aSecretSync();
    const o = healthy(immutable(), C1, { target: writtenSecret({ ...s, status: syncedStatus(s, C1) }, C1) });
    const { reason, plan } = run(o);
    expect(reason).toBe('target changed');
    expect(plan.secret).toMatchObject({ kind: 'patch', patch: { immutable: true } });
    expect(plan.secret?.kind === 'patch' && plan.secret.patch.data).toBeFalsy();
  });

  test('turned off for an immutable Secret: refused, the Secret must be deleted', () => {
    const o = bumped(healthy(aSecretSync(), C1, { target: asWritten({ ...writtenSecret(aSecretSync({ target: { immutable: true } }), C1) }) }));
    const { plan } = run(o);
    expect(plan.secret).toBeUndefined();
    expect(ready(plan)).toMatchObject({ status: 'False', reason: Reason.TargetImmutable });
    expect(ready(plan)?.message).toMatch(/no longer true.*Delete the Secret/);
  });

  test('metadata may still change (a label), and a new type replaces the object', () => {
    const ss = immutable({ target: { immutable: true, labels: { team: 'a' } } });
    const target = writtenSecret({ ...ss, status: syncedStatus(ss, C1) }, C1);
    const write = { kind: 'patch' as const, namespace: 'ns', name: 'db', patch: { metadata: { resourceVersion: '5', labels: { team: 'a' } } } };
    expect(dataChange(write)).toBe('none');
    expect(dataChange({ kind: 'replace', secret: target, oldUid: 'x' })).toBe('replace');
    expect(dataChange({ ...write, patch: { ...write.patch, data: { a: 'eA==' } } })).toBe('data');
    expect(immutableProblem(ss, target, 'none', 1, 1)).toBeUndefined();
    expect(immutableProblem(ss, target, 'replace', 1, 2)).toBeUndefined();
    expect(immutableProblem(ss, target, 'data', 1, 2)).toBeInstanceOf(TargetImmutableError);
  });
});
