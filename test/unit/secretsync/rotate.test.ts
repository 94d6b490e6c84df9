// Rotation decisions: when a reconcile starts a rotation, finishes an interrupted one or
// does nothing, and what status says about it. The I/O order is in reconciler.test.ts.
import type { AnySource, SecretSync } from '../../../src/api/types.js';
import { rotationEvent, rotationProblem, rotationStep, supersededPaths, withRotation, type RotationOutcome } from '../../../src/secretsync/rotate.js';
import { describeError } from '../../../src/secretsync/describe-error.js';
import { InvalidSpecError, SourceAuthError } from '../../../src/errors.js';
import { aSecretSync, content, syncedStatus, vaultSource } from './fixtures.js';

const CREATED = '2026-03-01T10:00:30Z';
const rotating = (extra: Partial<SecretSync['spec']> = {}, meta: Partial<SecretSync['metadata']> = {}): SecretSync => {
  const ss = aSecretSync({ rotation: { schedule: '0 * * * *', keys: ['password'] }, ...extra }, { creationTimestamp: CREATED, ...meta });
  return { ...ss, status: syncedStatus(ss, content({ password: 'x' })) };
};
const at = (iso: string) => new Date(iso);
const rotated = (s: SecretSync, when: string): SecretSync => ({ ...s, status: { ...s.status, lastRotationTime: when } });

describe('rotationStep', () => {
  test('nothing before the first tick after creation; the tick starts a scheduled rotation', () => {
    const ss = rotating();
    expect(rotationStep(ss, vaultSource, at('2026-03-01T10:59:59Z'))).toEqual({ kind: 'none' });
    expect(rotationStep(ss, vaultSource, at('2026-03-01T11:00:00Z'))).toMatchObject({ kind: 'start', trigger: 'schedule' });
  });

  test('ten ticks missed while down: one rotation; after it, nothing until the next tick', () => {
    const ss = rotated(rotating(), '2026-03-01T11:00:05Z');
    const back = at('2026-03-01T21:30:00Z');
    expect(rotationStep(ss, vaultSource, back)).toMatchObject({ kind: 'start', trigger: 'schedule' });
    const after = rotated(ss, back.toISOString());
    expect(rotationStep(after, vaultSource, at('2026-03-01T21:59:59Z'))).toEqual({ kind: 'none' });
    expect(rotationStep(after, vaultSource, at('2026-03-01T22:00:00Z'))).toMatchObject({ kind: 'start' });
  });

  test('rotate-now: once per annotation value', () => {
    const ss = rotating({}, { annotations: { 'secretsync.io/rotate-now': 'a' } });
    expect(rotationStep(ss, vaultSource, at('2026-03-01T10:01:00Z'))).toEqual({ kind: 'start', trigger: 'rotate-now', rotateNowHandled: 'a' });
    const handled = { ...ss, status: { ...ss.status, rotateNowHandled: 'a' } };
    expect(rotationStep(handled, vaultSource, at('2026-03-01T10:01:00Z'))).toEqual({ kind: 'none' });
  });

  test('a pending rotation is finished first, whatever else is due; dropped with spec.rotation', () => {
    const pending = { id: 'r1', trigger: 'schedule' as const, startedAt: '2026-03-01T11:00:00Z', basedOn: { db: '3' } };
    const ss = { ...rotating(), status: { ...rotating().status, pendingRotation: pending } };
    expect(rotationStep(ss, vaultSource, at('2026-03-01T11:00:01Z'))).toEqual({ kind: 'resume', pending });
    const { rotation: _r, ...spec } = ss.spec;
    expect(rotationStep({ ...ss, spec }, vaultSource, at('2026-03-01T11:00:01Z'))).toEqual({ kind: 'none' });
  });

  test('never on an object that is not synced and Ready for its current spec, or whose rotation is refused', () => {
    const ss = rotating();
    const now = at('2026-03-01T12:00:00Z');
    expect(rotationStep({ ...ss, status: undefined }, vaultSource, now)).toEqual({ kind: 'none' });
    expect(rotationStep({ ...ss, metadata: { ...ss.metadata, generation: 2 } }, vaultSource, now)).toEqual({ kind: 'none' });
    const notReady = { ...ss, status: { ...ss.status, conditions: ss.status?.conditions?.map((c) => ({ ...c, status: 'False' as const })) } };
    expect(rotationStep(notReady, vaultSource, now)).toEqual({ kind: 'none' });
    const pinned = rotating({ data: [{ key: 'password', remoteRef: { path: 'db', property: 'password', version: '2' } }] });
    expect(rotationStep(pinned, vaultSource, now)).toEqual({ kind: 'none' });
    const kv1: AnySource = { ...vaultSource, spec: { vault: { ...vaultSource.spec.vault!, kv: { mount: 'old', version: 1 } } } };
    expect(rotationStep(ss, kv1, now)).toEqual({ kind: 'none' });
  });
});

describe('rotationProblem', () => {
  test('KV v1 and a pinned version are refused with the fix', () => {
    const kv1: AnySource = { ...vaultSource, spec: { vault: { ...vaultSource.spec.vault!, kv: { mount: 'old', version: 1 } } } };
    expect(String(rotationProblem(rotating(), kv1))).toMatch(/KV version 2 mount.*"old"/);
    const pinned = rotating({ data: [{ key: 'password', remoteRef: { path: 'db', property: 'password', version: '2' } }] });
    expect(rotationProblem(pinned, vaultSource)).toBeInstanceOf(InvalidSpecError);
    expect(rotationProblem(rotating(), vaultSource)).toBeUndefined();
  });
});

describe('withRotation', () => {
  const now = at('2026-03-01T11:00:02Z');
  const pending = { id: 'r1', trigger: 'schedule' as const, startedAt: '2026-03-01T11:00:01Z', basedOn: { db: '3' } };

  test('before the first rotation: nextRotationTime and Rotated=Unknown Scheduled, stable across reconciles', () => {
    const ss = rotating();
    const s1 = withRotation(ss, vaultSource, ss.status ?? {}, at('2026-03-01T10:10:00Z'));
    expect(s1.nextRotationTime).toBe('2026-03-01T11:00:00.000Z');
    expect(s1.conditions?.find((c) => c.type === 'Rotated')).toMatchObject({ status: 'Unknown', reason: 'Scheduled' });
    const s2 = withRotation({ ...ss, status: s1 }, vaultSource, s1, at('2026-03-01T10:20:00Z'));
    expect(s2).toEqual(s1);
  });

  test('a rotation done: lastRotationTime, the pending record gone, Rotated=True naming keys and versions, never a value', () => {
    const ss = rotating();
    const outcome: RotationOutcome = { ok: true, pending, keys: ['password'], written: [{ path: 'db', outcome: 'written', version: '4' }] };
    const s = withRotation(ss, vaultSource, { ...ss.status, pendingRotation: pending }, now, outcome, 2);
    expect(s.pendingRotation).toBeUndefined();
    expect(s.lastRotationTime).toBe(now.toISOString());
    expect(s.nextRotationTime).toBe('2026-03-01T12:00:00.000Z');
    expect(s.conditions?.find((c) => c.type === 'Rotated')).toMatchObject({ status: 'True', reason: 'Rotated', message: expect.stringContaining('db → 4') });
  });

  test.each([
    // [what, written outcomes, resumed, Rotated status, reason]
    ['every path written', [['db', 'written', '4']], false, 'True', 'Rotated'],
    ['another writer wrote first (moved)', [['db', 'moved', '5']], false, 'False', 'RotationSuperseded'],
    ['one path written, one moved', [['db', 'written', '4'], ['api', 'moved', '9']], false, 'False', 'RotationSuperseded'],
    ['a resumed rotation finding the source moved (its own interrupted write)', [['db', 'moved', '4']], true, 'True', 'Rotated'],
    ['AWS: the version of this id already written', [['db', 'already-written', 'v-id']], false, 'True', 'Rotated'],
  ] as const)('%s → Rotated=%s', (_, written, resumed, status, reason) => {
    const ss = rotating();
    const outcome: RotationOutcome = {
      ok: true,
      pending,
      keys: ['password'],
      written: written.map(([path, o, version]) => ({ path, outcome: o, version })),
      resumed,
    };
    const s = withRotation(ss, vaultSource, { ...ss.status, pendingRotation: pending }, now, outcome, 2);
    expect(s.conditions?.find((c) => c.type === 'Rotated')).toMatchObject({ status, reason });
    // Settled either way: the pending record goes and the schedule counts from now, so a
    // superseded rotation does not overwrite the other writer's value at once.
    expect(s.pendingRotation).toBeUndefined();
    expect(s.lastRotationTime).toBe(now.toISOString());
    expect(rotationEvent(outcome, 2)).toMatchObject({ reason, type: status === 'True' ? 'Normal' : 'Warning' });
  });

  test('a superseded rotation says who wrote first, that nothing was written, that the new version is synced and when it tries again', () => {
    const outcome: RotationOutcome = { ok: true, pending, keys: ['password'], written: [{ path: 'db', outcome: 'moved', version: '5' }] };
    expect(supersededPaths(outcome)).toEqual([{ path: 'db', version: '5' }]);
    const ss = rotating();
    const c = withRotation(ss, vaultSource, ss.status ?? {}, now, outcome, 2).conditions?.find((x) => x.type === 'Rotated');
    expect(c?.message).toMatch(/another writer changed db \(now version 5, not 3\)/);
    expect(c?.message).toMatch(/wrote nothing there/);
    expect(c?.message).toMatch(/synced \(version 2\)/);
    expect(c?.message).toMatch(/next schedule tick/);
  });

  test('a failed write keeps the pending record (the next attempt finishes it); a refused spec drops it', () => {
    const ss = rotating();
    const base = { ...ss.status, pendingRotation: pending };
    const retry: RotationOutcome = { ok: false, error: describeError(new SourceAuthError('denied')), cause: undefined, rotateNowHandled: undefined, dropPending: false };
    const kept = withRotation(ss, vaultSource, base, now, retry);
    expect(kept.pendingRotation).toEqual(pending);
    expect(kept.conditions?.find((c) => c.type === 'Rotated')).toMatchObject({ status: 'False', reason: 'SourceAuthFailed' });
    const refused: RotationOutcome = { ...retry, error: describeError(new InvalidSpecError('no')), dropPending: true };
    expect(withRotation(ss, vaultSource, base, now, refused).pendingRotation).toBeUndefined();
  });

  test('without spec.rotation the schedule fields and the condition go; lastRotationTime stays as history', () => {
    const ss = rotating();
    const s = withRotation(ss, vaultSource, ss.status ?? {}, now);
    const { rotation: _r, ...spec } = ss.spec;
    const gone = withRotation({ ...ss, spec }, vaultSource, { ...s, lastRotationTime: CREATED }, now);
    expect(gone.nextRotationTime).toBeUndefined();
    expect(gone.lastRotationTime).toBe(CREATED);
    expect(gone.conditions?.some((c) => c.type === 'Rotated')).toBe(false);
  });
});
