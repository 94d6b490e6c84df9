// Scheduled rotation, as pure decisions: whether a reconcile starts a rotation, finishes an
// interrupted one or has nothing to do, and how a rotation shows in status (what it writes
// and what its attempt came to: rotation/plan.ts). The reconciler only carries it out (read
// the base versions, write the pending record, generate the values, write the source); the
// order is what makes it crash-safe: the pending rotation (its id and the source versions it builds on) is in
// status before the source is written, and a pending rotation is always finished before
// anything else, so a crash between the source write and the status write finishes the
// same rotation on the next reconcile (the provider sees its own write: AWS by the
// ClientRequestToken, Vault by the version having moved past the check-and-set base).
import { ROTATE_NOW_ANNOTATION } from '../api/annotations.js';
import { ConditionType, findCondition, setCondition } from '../api/conditions.js';
import type { AnySource, PendingRotation, SecretSync, SecretSyncStatus } from '../api/types.js';
import { InvalidSpecError, Reason } from '../errors.js';
import { describeError, type Described } from './describe-error.js';
import { forceToken, type Due } from './due.js';
import type { Observed } from './observe.js';
import { withoutUndefined } from './status.js';
import { nextRotationAfter, rotationDue } from './rotation/schedule.js';
import { validateRotation } from './rotation/validate.js';
import { rotationScopeProblem } from './scope.js';
import { rotateNowThrottle, type Throttled } from './throttle.js';

/** Rotated=False: another writer changed a rotated path between this rotation's read and its write. */
export const ROTATION_SUPERSEDED = 'RotationSuperseded';

export type RotationStep =
  /** `throttled`: a rotate-now waits for its window. */
  | { kind: 'none'; throttled?: Throttled }
  | { kind: 'start'; trigger: PendingRotation['trigger']; rotateNowHandled: string | undefined }
  | { kind: 'resume'; pending: PendingRotation };

/** What a rotation attempt came to, for the plan. */
export type RotationOutcome =
  | {
      ok: true;
      pending: PendingRotation;
      keys: string[];
      written: { path: string; outcome: string; version: string }[];
      /** The rotation was pending from an interrupted reconcile (a "moved" path may be its own earlier write). */
      resumed?: boolean;
    }
  | {
      ok: false;
      error: Described;
      cause: unknown;
      rotateNowHandled: string | undefined;
      /** The spec refuses the rotation: nothing was written, the pending record goes (retrying cannot help). */
      dropPending: boolean;
    };

/**
 * What makes a rotation impossible before any I/O: the spec (validateRotation) or the
 * source (KV v1 keeps no versions, so a write could neither be checked-and-set nor
 * recognised after a crash). Undefined when it can be tried.
 */
export function rotationProblem(ss: SecretSync, source: AnySource | undefined, namespaceLabels?: Record<string, string>): unknown {
  try {
    validateRotation(ss);
  } catch (err) {
    return err;
  }
  // Through a ClusterSecretSource only where its namespaceScopes[].rotationPaths allow.
  const refused = rotationScopeProblem(ss, source, namespaceLabels);
  if (refused) return refused;
  const kv = source?.spec.vault?.kv;
  if (kv?.version === 1) {
    const name = source?.kind === 'ClusterSecretSource' ? `ClusterSecretSource ${source.metadata.name}` : `SecretSource ${source?.metadata.name}`;
    return new InvalidSpecError(
      `spec.rotation needs a KV version 2 mount, but ${name} reads mount "${kv.mount ?? 'secret'}" as KV version 1, which keeps no versions (a rotation could not be checked-and-set or recognised after a crash): use a KV v2 mount, or remove spec.rotation`,
    );
  }
  return undefined;
}

/** The time the schedule counts from: the last rotation, or the object's creation. */
function scheduleBase(ss: SecretSync, now: Date): Date {
  const at = ss.status?.lastRotationTime ?? ss.metadata.creationTimestamp;
  const t = at ? new Date(at) : now;
  return Number.isNaN(t.getTime()) ? now : t;
}

/** The next scheduled rotation, or undefined without spec.rotation or with a schedule that does not parse. */
export function nextRotation(ss: SecretSync, now: Date): Date | undefined {
  const spec = ss.spec.rotation;
  if (!spec) return undefined;
  try {
    return nextRotationAfter(spec, scheduleBase(ss, now));
  } catch {
    return undefined;
  }
}

/**
 * Whether this reconcile rotates. A pending rotation is finished first, whatever else is
 * due. A new one starts only on a SecretSync that is synced and healthy for its current
 * spec: on the rotate-now annotation's new value, or when a schedule tick lies between the
 * last rotation (or the creation) and now, however many ticks were missed.
 */
export function rotationStep(ss: SecretSync, source: AnySource | undefined, now: Date, namespaceLabels?: Record<string, string>): RotationStep {
  const st = ss.status ?? {};
  // A source that no longer allows this rotation writes nothing, not even to finish one (withRotation drops it).
  if (st.pendingRotation && rotationScopeProblem(ss, source, namespaceLabels)) return { kind: 'none' };
  if (st.pendingRotation) return ss.spec.rotation ? { kind: 'resume', pending: st.pendingRotation } : { kind: 'none' };
  const spec = ss.spec.rotation;
  if (!spec || st.version === undefined || st.observedGeneration !== ss.metadata.generation) return { kind: 'none' };
  if (findCondition(st.conditions, ConditionType.Ready)?.status !== 'True') return { kind: 'none' };
  if (rotationProblem(ss, source, namespaceLabels) !== undefined) return { kind: 'none' }; // shown as Rotated=False, no I/O
  const token = forceToken(ss.metadata.annotations?.[ROTATE_NOW_ANNOTATION]);
  if (token !== undefined && token !== st.rotateNowHandled) {
    const throttled = rotateNowThrottle(st, now);
    return throttled ? { kind: 'none', throttled } : { kind: 'start', trigger: 'rotate-now', rotateNowHandled: token };
  }
  try {
    if (rotationDue(spec, scheduleBase(ss, now), now).due) return { kind: 'start', trigger: 'schedule', rotateNowHandled: st.rotateNowHandled };
  } catch {
    // an invalid schedule: validation reports it as Rotated=False
  }
  return { kind: 'none' };
}

/**
 * What is due, rotation included: the rotation step of this reconcile (none while a
 * problem found before the read fails it), and a rotate-now that waits for its window
 * shown with the other requests that wait.
 */
export function withRotationStep(o: Observed, due: Due): { due: Due; step: RotationStep } {
  if (due.failure !== undefined) return { due, step: { kind: 'none' } };
  const step = rotationStep(o.ss, o.source, o.now, o.namespaceLabels);
  if (step.kind === 'none' && step.throttled) return { due: { ...due, throttled: [...(due.throttled ?? []), step.throttled] }, step };
  return { due, step };
}

/** The status recorded before the source is written. */
export function pendingStatus(ss: SecretSync, pending: PendingRotation, rotateNowHandled: string | undefined): SecretSyncStatus {
  return withoutUndefined({ ...(ss.status ?? {}), pendingRotation: pending, rotateNowHandled });
}

function describeWrites(o: Extract<RotationOutcome, { ok: true }>): string {
  return o.written.map((w) => `${w.path} → ${w.version}`).join(', ');
}

/**
 * The paths a rotation started in this reconcile did not write because another writer
 * wrote first (the provider found the source past the version the rotation read: "moved").
 * A resumed rotation's "moved" is taken as its own interrupted write, which the providers
 * cannot tell apart from another writer's on Vault, so it is not counted.
 */
export function supersededPaths(o: RotationOutcome): { path: string; version: string }[] {
  if (!o.ok || o.resumed) return [];
  return o.written.filter((w) => w.outcome === 'moved').map(({ path, version }) => ({ path, version }));
}

function supersededMessage(o: Extract<RotationOutcome, { ok: true }>, moved: { path: string; version: string }[], version: number | undefined): string {
  const paths = moved.map((m) => `${m.path} (now version ${m.version}, not ${o.pending.basedOn[m.path] || 'the one read'})`).join(', ');
  const done = o.written.filter((w) => w.outcome !== 'moved');
  return (
    `rotation (${o.pending.trigger}) superseded: another writer changed ${paths} at the source after this rotation read it, so the operator wrote nothing there` +
    (done.length ? `; written: ${done.map((w) => `${w.path} → ${w.version}`).join(', ')}` : '') +
    `. The source's new version is synced${version !== undefined ? ` (version ${version})` : ''}; the next rotation runs at the next schedule tick (status.nextRotationTime), or annotate secretsync.io/rotate-now with a new value to rotate over it at once`
  );
}

/**
 * The rotation fields of a status about to be written: nextRotationTime from the
 * schedule, and for a rotation that ran in this reconcile its record (lastRotationTime,
 * the pending entry gone, Rotated=True) or its failure (Rotated=False, pending kept so
 * the next attempt finishes it). Without spec.rotation the fields and the condition go.
 */
export function withRotation(
  ss: SecretSync,
  source: AnySource | undefined,
  status: SecretSyncStatus,
  now: Date,
  outcome?: RotationOutcome,
  version?: number,
  namespaceLabels?: Record<string, string>,
): SecretSyncStatus {
  const gen = ss.metadata.generation;
  if (!ss.spec.rotation) {
    const { nextRotationTime: _n, pendingRotation: _p, ...rest } = status;
    return { ...rest, conditions: (rest.conditions ?? []).filter((c) => c.type !== ConditionType.Rotated) };
  }
  let s: SecretSyncStatus = { ...status };
  if (outcome?.ok && supersededPaths(outcome).length > 0) {
    // Nothing (or not everything) was rotated: Rotated=False, but the attempt is settled
    // (pending gone, the schedule counts from now), so the other writer's value is not
    // overwritten at once.
    const { pendingRotation: _p, ...rest } = s;
    s = { ...rest, lastRotationTime: now.toISOString() };
    const message = supersededMessage(outcome, supersededPaths(outcome), version);
    s.conditions = setCondition(s.conditions, { type: ConditionType.Rotated, status: 'False', reason: ROTATION_SUPERSEDED, message, observedGeneration: gen }, now);
  } else if (outcome?.ok) {
    const { pendingRotation: _p, ...rest } = s;
    s = { ...rest, lastRotationTime: now.toISOString() };
    const message = `rotated ${outcome.keys.join(', ')} (${outcome.pending.trigger}): new source versions ${describeWrites(outcome)}${version !== undefined ? `; synced as version ${version}` : ''}`;
    s.conditions = setCondition(s.conditions, { type: ConditionType.Rotated, status: 'True', reason: 'Rotated', message, observedGeneration: gen }, now);
  } else if (outcome) {
    s.rotateNowHandled = outcome.rotateNowHandled;
    if (outcome.dropPending) delete s.pendingRotation;
    s.conditions = setCondition(
      s.conditions,
      { type: ConditionType.Rotated, status: 'False', reason: outcome.error.reason, message: `rotation failed: ${outcome.error.message}`, observedGeneration: gen },
      now,
    );
  } else {
    s.conditions = specCondition(ss, source, s, now, namespaceLabels);
    if (findCondition(s.conditions, ConditionType.Rotated)?.reason === Reason.RotationNotAllowed) {
      // Refused, not postponed: a pending rotation is not finished, and a rotate-now does not
      // fire later, once the platform team allows rotation, behind everyone's back.
      delete s.pendingRotation;
      const token = forceToken(ss.metadata.annotations?.[ROTATE_NOW_ANNOTATION]);
      if (token !== undefined) s.rotateNowHandled = token;
    }
  }
  const next = nextRotation({ ...ss, status: s }, now);
  s.nextRotationTime = next?.toISOString();
  return withoutUndefined(s);
}

/**
 * Between rotations: an invalid spec.rotation shows as Rotated=False InvalidSpec at once
 * (not first at the tick); a valid one that never rotated (or was just fixed) as
 * Rotated=Unknown Scheduled. A True or a runtime failure stays until the next attempt.
 */
function specCondition(
  ss: SecretSync,
  source: AnySource | undefined,
  s: SecretSyncStatus,
  now: Date,
  namespaceLabels: Record<string, string> | undefined,
): SecretSyncStatus['conditions'] {
  const gen = ss.metadata.generation;
  const old = findCondition(s.conditions, ConditionType.Rotated);
  const problem = rotationProblem(ss, source, namespaceLabels);
  if (problem !== undefined) {
    const d = describeError(problem);
    return setCondition(s.conditions, { type: ConditionType.Rotated, status: 'False', reason: d.reason, message: d.message, observedGeneration: gen }, now);
  }
  if (old && !(old.status === 'False' && (old.reason === Reason.InvalidSpec || old.reason === Reason.RotationNotAllowed))) return s.conditions;
  return setCondition(s.conditions, { type: ConditionType.Rotated, status: 'Unknown', reason: 'Scheduled', message: `not rotated yet: the schedule "${ss.spec.rotation?.schedule}" (${ss.spec.rotation?.timeZone ?? 'UTC'}) runs first at the time in status.nextRotationTime; annotate secretsync.io/rotate-now to rotate at once`, observedGeneration: gen }, now);
}

/** The event a rotation attempt makes. */
export function rotationEvent(outcome: RotationOutcome, version: number | undefined): { type: 'Normal' | 'Warning'; reason: string; message: string } {
  if (!outcome.ok) return { type: 'Warning', reason: 'RotationFailed', message: `rotation failed (${outcome.error.reason}): ${outcome.error.message}` };
  const moved = supersededPaths(outcome);
  if (moved.length > 0) return { type: 'Warning', reason: ROTATION_SUPERSEDED, message: supersededMessage(outcome, moved, version) };
  return {
    type: 'Normal',
    reason: 'Rotated',
    message: `rotated ${outcome.keys.join(', ')} at the source (${describeWrites(outcome)})${version !== undefined ? `; synced as version ${version}` : ''}`,
  };
}
