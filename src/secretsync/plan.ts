// Plan: what one reconcile of a live SecretSync writes, as data. A pure function of what
// was observed, what is due, what the read returned (if a read was due) and `now`: the
// finalizer, the one Secret write, the cleanup of Secrets left behind by an earlier
// target name, the status (only when it differs), events, what to remember and when to
// look again. act.ts carries it out.
import { CONTENT_HMAC_ANNOTATION, ENVELOPE_MAC_ANNOTATION, FINALIZER, FORCE_SYNC_ANNOTATION } from '../api/annotations.js';
import { DEFAULTS, type SecretSync, type SecretSyncStatus } from '../api/types.js';
import { MIN_REFRESH_MS } from '../api/validate.js';
import { checkSize, contentHmac, fromSecretData, keyOfMac, macEqual, sameContent, type Content } from './content.js';
import { describeError } from './describe-error.js';
import { forceToken, refreshSeed, type Due } from './due.js';
import type { Memory, Observed } from './observe.js';
import { intervalMs, nextRefreshAfter } from './schedule.js';
import { failureStatus, sameStatus, successStatus } from './status.js';
import type { KubeSecret, SecretPatch } from './ports.js';
import type { Envelope } from '../crypto/envelope.js';
import { grantWrites, type GrantWrite } from './grants.js';
import { keyIdOf } from './kek.js';
import { envelopeBody } from './sealing.js';
import type { TemplateSource } from './render.js';
import { rotationEvent, withRotation, type RotationOutcome } from './rotate.js';
import { inUseBy, planRollout, type RolloutPlan } from './rollout.js';
import { throttleMessage, withThrottles, type Throttled } from './throttle.js';
import { Reason, StaleObjectError } from '../errors.js';
import { ConditionType, findCondition, setCondition } from '../api/conditions.js';
import { conflictError, dataChange, desiredSecret, immutableProblem, isOwnedBy, plainBody, releasePatch, secretWrite, targetName, type SecretWrite, type TargetBody } from './target.js';

export type ReadOutcome =
  | {
      ok: true;
      /** The target's content (rendered, with spec.target.template). */
      content: Content;
      sourceVersions: Record<string, string>;
      /** Envelope mode with a template: what is sealed instead of `content` (render.ts). */
      rendered?: TemplateSource;
    }
  | { ok: false; error: unknown };

export type Cleanup =
  | { kind: 'delete'; namespace: string; name: string; uid: string }
  | { kind: 'release'; namespace: string; name: string; patch: SecretPatch };

export interface PlannedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface Plan {
  /** The new finalizer list, when it changes: added before the writes it protects, removed after the cleanups it waits for. */
  finalizers?: { list: string[]; when: 'before' | 'after' };
  secret?: SecretWrite;
  /** spec.access: Role / RoleBinding writes, after the Secret they grant. */
  grants?: GrantWrite[];
  cleanups: Cleanup[];
  /** The whole new status, when it differs from the stored one. */
  status?: SecretSyncStatus;
  events: PlannedEvent[];
  /** Reconcile again after this long (when the plan ends without error). */
  requeueAfterMs: number;
  /** A failure to report: retryable ones go back to the queue with backoff. */
  error?: { cause: unknown; retryable: boolean };
  /** For metrics: what the reconcile amounted to. */
  result: 'synced' | 'unchanged' | 'error' | 'idle';
  memory: Memory;
  /** status.forceSyncHandled to record, also if a write of this plan fails. */
  forceSyncHandled: string | undefined;
  /** Rollouts: pod-template annotations to set, after the Secret write and before the status that records them. */
  rollouts?: RolloutPlan['patches'];
}

const MIN_REQUEUE_MS = 1000;

function requeueAt(next: Date, now: Date): number {
  return Math.max(MIN_REQUEUE_MS, next.getTime() - now.getTime());
}

/**
 * Our finalizer, when deletion needs us: Retain (to release the Secret before the garbage
 * collector deletes it), or a Secret live workloads use (deletion waits until they stop).
 * Otherwise the owner reference lets the garbage collector delete the Secret alone.
 */
function finalizersFor(o: Observed): Plan['finalizers'] {
  const list = o.ss.metadata.finalizers ?? [];
  const wanted = (o.ss.spec.target?.deletionPolicy ?? 'Delete') === 'Retain' || inUseBy(o.ss, o.workloads).length > 0;
  return wanted && !list.includes(FINALIZER) ? { list: [...list, FINALIZER], when: 'before' } : undefined;
}

/** Secrets an earlier spec.target.name left behind, handled by deletionPolicy. */
export function strayCleanups(o: Observed): Cleanup[] {
  const retain = (o.ss.spec.target?.deletionPolicy ?? 'Delete') === 'Retain';
  return o.strays.map((s) =>
    retain
      ? { kind: 'release', namespace: s.metadata.namespace, name: s.metadata.name, patch: releasePatch(s, o.ss.metadata.uid ?? '') }
      : { kind: 'delete', namespace: s.metadata.namespace, name: s.metadata.name, uid: s.metadata.uid ?? '' },
  );
}

/** The first refresh tick after now (an hour on, for a schedule too invalid to compute). */
function nextTick(o: Observed): Date {
  try {
    return nextRefreshAfter(o.ss.spec.refresh, o.now, refreshSeed(o));
  } catch {
    return new Date(o.now.getTime() + (intervalMs(undefined) ?? 3_600_000));
  }
}

function rememberRead(o: Observed): Memory {
  return { lastCheck: o.now, sourceVersion: o.sourceVersion };
}

/** A failure found before or during the read: Ready=False (written once per distinct failure). */
function planFailure(o: Observed, err: unknown, memory: Memory, forceSyncHandled: string | undefined): Plan {
  const d = describeError(err);
  const status = failureStatus(o.ss, d, o.now, forceSyncHandled);
  const changed = !sameStatus(o.ss.status, status);
  return {
    cleanups: [],
    status: changed ? status : undefined,
    events: changed ? [{ type: 'Warning', reason: d.reason, message: d.message }] : [],
    // Retryable failures go back with backoff; the others (the spec or the remote value must
    // change first) are looked at again at the next refresh tick, so a fix outside this object is seen.
    // Never sooner than the shortest refresh period: a schedule refused as too frequent must not set the pace.
    requeueAfterMs: Math.max(requeueAt(nextTick(o), o.now), MIN_REFRESH_MS),
    error: { cause: err, retryable: d.retryable },
    result: 'error',
    memory,
    forceSyncHandled,
  };
}

/**
 * A write of `plan` failed (act stopped there): Ready=False with the write's error, written
 * once per distinct failure, recording the plan's forceSyncHandled; looked at again when
 * `plan` would have been. A stale cache (StaleObjectError) is never planned for: it is
 * retried quietly (isStale).
 */
export function planWriteFailure(o: Observed, plan: Plan, err: unknown): Plan {
  return { ...planFailure(o, err, plan.memory, plan.forceSyncHandled), requeueAfterMs: plan.requeueAfterMs };
}

/** A cache behind the API server: nothing to report, the next reconcile reads fresh caches. */
export function isStale(err: unknown): boolean {
  return err instanceof StaleObjectError;
}

/**
 * A create of `plan` found the target's name taken by a Secret the cache does not hold (the
 * cache holds only Secrets carrying the operator's labels), read as `existing`. Gone again:
 * a stale cache, retried quietly. Someone else's: TargetConflict, nothing overwritten. Ours
 * (its labels removed, or the cache behind): the rest of `plan`, with the Secret repaired
 * instead of created (a finalizer it added is in place already).
 */
export function planTakenName(o: Observed, plan: Plan, existing: KubeSecret | undefined): { repair: Plan } | { failed: unknown } {
  const wanted = plan.secret;
  if (wanted?.kind !== 'create') return { failed: new Error('planTakenName: the plan creates no Secret') };
  const { namespace, name } = wanted.secret.metadata;
  if (!existing) return { failed: new StaleObjectError(`Secret ${namespace}/${name} was deleted meanwhile; retrying`) };
  if (!isOwnedBy(existing, o.ss.metadata.uid)) return { failed: conflictError(existing) };
  const finalizers = plan.finalizers?.when === 'before' ? undefined : plan.finalizers;
  return { repair: { ...plan, finalizers, secret: secretWrite(existing, wanted.secret) } };
}

/**
 * The version `content` is: the current one when it is the same content, else the next.
 * Under the key the status's HMAC names (per object, or the legacy global key: an upgrade
 * keeps the version and only re-keys); a status from a root key that is gone is re-keyed
 * quietly when a plain Secret holds exactly this content (an envelope cannot be compared:
 * the operator cannot open it, so such content counts as a new version). `hmac` is always
 * the per-object HMAC.
 */
export function versionFor(o: Observed, content: Content): { version: number; unchanged: boolean; hmac: string } {
  const st = o.ss.status ?? {};
  const hmac = contentHmac(o.macKeys.content, content);
  const k = keyOfMac(o.macKeys, 'content', st.contentHmac);
  const unchanged =
    st.version !== undefined &&
    (k
      ? macEqual(st.contentHmac, k === o.macKeys.content ? hmac : contentHmac(k, content))
      : !o.ss.spec.target?.encryption && o.target !== undefined && sameContent(fromSecretData(o.target.data), content));
  return { version: unchanged ? (st.version as number) : (st.version ?? 0) + 1, unchanged, hmac };
}

/** A Secret write that changes nothing but the MAC annotations (an upgraded envelope re-keyed). */
export function onlyMacsChange(w: SecretWrite): boolean {
  if (w.kind !== 'patch' || w.patch.data || w.patch.metadata.labels || w.patch.metadata.ownerReferences) return false;
  return Object.keys(w.patch.metadata.annotations ?? {}).every((k) => k === ENVELOPE_MAC_ANNOTATION || k === CONTENT_HMAC_ANNOTATION);
}

/** Why `content` cannot be the target's (larger than spec.target.maxSizeBytes), or undefined. */
export function sizeProblem(ss: SecretSync, content: Content): unknown {
  try {
    checkSize(content, ss.spec.target?.maxSizeBytes ?? DEFAULTS.maxSizeBytes);
    return undefined;
  } catch (err) {
    return err;
  }
}

/** Envelope mode: the envelope to store, as the reconciler made it (minted, re-wrapped or kept). */
export type SealOutcome =
  /** `rewrapped`: the held envelope's data keys were re-wrapped under the KEK's newest version. */
  | { ok: true; envelope: Envelope; contentHmac: string | undefined; rewrapped?: boolean }
  | { ok: false; error: unknown };

/** The event of a re-wrap: the same version under the KEK's newest version. */
function rewrapEvent(ss: SecretSync, keyId: string | undefined): PlannedEvent {
  return { type: 'Normal', reason: 'Rewrapped', message: `re-wrapped the data keys of Secret ${targetName(ss)} under ${keyId} (version ${ss.status?.version} unchanged)` };
}

function planSuccess(o: Observed, due: Due, content: Content, sourceVersions: Record<string, string>, sealed: SealOutcome | undefined): Plan {
  const { ss, now } = o;
  const st = ss.status ?? {};
  const forceSyncHandled = forceToken(ss.metadata.annotations?.[FORCE_SYNC_ANNOTATION]) ?? st.forceSyncHandled;
  const memory = rememberRead(o);
  const tooLarge = sizeProblem(ss, content);
  if (tooLarge !== undefined) return planFailure(o, tooLarge, memory, forceSyncHandled);
  const { version, unchanged, hmac } = versionFor(o, content);
  if (ss.spec.target?.encryption) {
    // Refused before sealing: new content for an immutable envelope gets no data key (planSeal minted none).
    const refused = immutableProblem(ss, o.target, unchanged ? 'none' : 'data', st.version, version);
    if (refused) return planFailure(o, refused, memory, forceSyncHandled);
  }
  let body: TargetBody;
  let keyId: string | undefined;
  if (ss.spec.target?.encryption) {
    if (!sealed) return planFailure(o, new Error('envelope mode without an envelope'), memory, forceSyncHandled);
    if (!sealed.ok) return planFailure(o, sealed.error, memory, forceSyncHandled);
    body = envelopeBody(ss, sealed.envelope, o.macKeys.envelope, hmac);
    keyId = keyIdOf(sealed.envelope.current.kek);
  } else {
    body = plainBody(ss, content, version);
  }
  const secret = secretWrite(o.target, desiredSecret(ss, body));
  const immutable = immutableProblem(ss, o.target, dataChange(secret), st.version, version);
  if (immutable) return planFailure(o, immutable, memory, forceSyncHandled);
  const status = successStatus(ss, {
    version,
    hmac,
    sourceVersions,
    keyCount: Object.keys(content).length,
    now,
    secretWritten: secret !== undefined,
    forceSyncHandled,
    keyId,
  });
  const events: PlannedEvent[] = [];
  if (!unchanged) {
    events.push({ type: 'Normal', reason: 'Synced', message: `synced version ${version} into Secret ${targetName(ss)}` });
  } else if (secret && sealed?.ok && sealed.rewrapped) {
    events.push(rewrapEvent(ss, keyId)); // a force-sync found the KEK rotated
  } else if (secret && !onlyMacsChange(secret)) {
    // (Re-keying an upgraded envelope rewrites only its MAC annotations: quietly.)
    events.push({ type: 'Normal', reason: 'Updated', message: `updated Secret ${targetName(ss)} to version ${version} (${due.read ?? 'refresh'})` });
  }
  return {
    finalizers: finalizersFor(o),
    secret,
    grants: grantWrites(ss, o.grant.role, o.grant.binding),
    cleanups: strayCleanups(o),
    status: sameStatus(st, status) ? undefined : status,
    events,
    requeueAfterMs: requeueAt(nextTick(o), now),
    result: unchanged ? 'unchanged' : 'synced',
    memory,
    forceSyncHandled,
  };
}

/** Envelope mode, KEK rotated: the same version with its data keys re-wrapped; no read, no new version, no rollout. */
function planRewrap(o: Observed, due: Due, sealed: SealOutcome, memory: Memory): Plan {
  const { ss, now } = o;
  const st = ss.status ?? {};
  if (!sealed.ok) return planFailure(o, sealed.error, memory, st.forceSyncHandled);
  const secret = secretWrite(o.target, desiredSecret(ss, envelopeBody(ss, sealed.envelope, o.macKeys.envelope, sealed.contentHmac)));
  const keyId = keyIdOf(sealed.envelope.current.kek);
  const status: SecretSyncStatus = { ...st, keyId, ...(secret ? { lastSyncTime: now.toISOString() } : {}) };
  return {
    secret,
    grants: grantWrites(ss, o.grant.role, o.grant.binding),
    cleanups: [],
    status: sameStatus(st, status) ? undefined : status,
    events: secret ? [rewrapEvent(ss, keyId)] : [],
    requeueAfterMs: requeueAt(due.nextRefresh, now),
    result: secret ? 'synced' : 'idle',
    memory,
    forceSyncHandled: st.forceSyncHandled,
  };
}

/**
 * Plain mode, upgraded from the legacy global-key HMAC (due.rekey: the target holds what
 * status says): the per-object HMAC of the target's content into status, in one status
 * patch. No read, no Secret write, the version unchanged, no event, nothing rolls.
 */
function planRekey(o: Observed, due: Due, memory: Memory): Plan {
  const st = o.ss.status ?? {};
  const status: SecretSyncStatus = { ...st, contentHmac: contentHmac(o.macKeys.content, fromSecretData(o.target?.data)) };
  return {
    finalizers: finalizersFor(o),
    grants: grantWrites(o.ss, o.grant.role, o.grant.binding),
    cleanups: strayCleanups(o),
    status,
    events: [],
    requeueAfterMs: requeueAt(due.nextRefresh, o.now),
    result: 'idle',
    memory,
    forceSyncHandled: st.forceSyncHandled,
  };
}

/**
 * refresh.policy CreatedOnce, the Secret exists: nothing is read or written but status, and
 * that only when Ready is not True (a failure found before a read has gone) or the spec has
 * a new generation (which is not applied while the Secret exists).
 */
function planHeld(o: Observed, due: Due, memory: Memory): Plan {
  const { ss } = o;
  const st = ss.status ?? {};
  const ready = findCondition(st.conditions, ConditionType.Ready);
  const current = ready?.status === 'True' && st.observedGeneration === ss.metadata.generation;
  const idle: Plan = {
    finalizers: finalizersFor(o),
    grants: grantWrites(ss, o.grant.role, o.grant.binding),
    cleanups: strayCleanups(o),
    events: [],
    requeueAfterMs: requeueAt(due.nextRefresh, o.now),
    result: 'idle',
    memory,
    forceSyncHandled: st.forceSyncHandled,
  };
  if (current) return idle;
  const specChanged = st.observedGeneration !== ss.metadata.generation;
  const message =
    `Secret ${targetName(ss)} exists with version ${st.version}; refresh.policy CreatedOnce: the source is not read again while it exists` +
    (specChanged ? `, so this spec (generation ${ss.metadata.generation}) applies only when the Secret is re-created` : '') +
    ' (delete the Secret, or set a new secretsync.io/force-sync value, to sync now)';
  const gen = ss.metadata.generation;
  let conditions = setCondition(st.conditions, { type: ConditionType.Ready, status: 'True', reason: Reason.Synced, message, observedGeneration: gen }, o.now);
  conditions = setCondition(conditions, { type: ConditionType.Synced, status: 'True', reason: Reason.Synced, message, observedGeneration: gen }, o.now);
  const status: SecretSyncStatus = { ...st, conditions, ...(gen !== undefined ? { observedGeneration: gen } : {}) };
  return { ...idle, status: sameStatus(st, status) ? undefined : status };
}

/**
 * The plan for a live SecretSync. `read` is the outcome of reading the source, present
 * exactly when `due.read` asked for one.
 */
export function planSync(o: Observed, due: Due, read?: ReadOutcome, sealed?: SealOutcome, rotation?: RotationOutcome): Plan {
  return showThrottles(o, finish(o, planCore(o, due, read, sealed), rotation), due.throttled ?? []);
}

/**
 * Requests that wait for their window (throttle.ts): shown on Synced / Rotated with an
 * event the first time, and looked at again when the window has passed.
 */
function showThrottles(o: Observed, plan: Plan, throttled: readonly Throttled[]): Plan {
  const st = o.ss.status ?? {};
  const base = plan.status ?? st;
  const status = withThrottles(o.ss, base, throttled, o.now);
  const wait = Math.min(plan.requeueAfterMs, ...throttled.map((t) => Math.max(MIN_REQUEUE_MS, t.until.getTime() - o.now.getTime())));
  if (status === base) return { ...plan, requeueAfterMs: wait };
  const events = [...plan.events];
  for (const t of throttled) {
    const was = findCondition(base.conditions, t.annotation === 'force-sync' ? ConditionType.Synced : ConditionType.Rotated);
    if (was?.reason !== Reason.Throttled) events.push({ type: 'Normal', reason: Reason.Throttled, message: throttleMessage(t) });
  }
  return { ...plan, status: sameStatus(st, status) ? undefined : status, events, requeueAfterMs: wait };
}

/**
 * What every plan of a live SecretSync adds: the rotation fields and a rotation's
 * condition and event. Status is written only when the result differs from what is stored.
 */
function finish(o: Observed, plan: Plan, rotation: RotationOutcome | undefined): Plan {
  const st = o.ss.status ?? {};
  const base = plan.status ?? st;
  let status = withRotation(o.ss, o.source, base, o.now, rotation, rotation?.ok ? base.version : undefined, o.namespaceLabels);
  const events = rotation ? [...plan.events, rotationEvent(rotation, rotation.ok ? base.version : undefined)] : [...plan.events];
  let requeueAfterMs = plan.requeueAfterMs;
  let rollouts: Plan['rollouts'];
  if (findCondition(status.conditions, ConditionType.Ready)?.status === 'True' && status.version !== undefined) {
    // Rollouts follow the version this plan leaves in status: one template change per new version.
    const r = planRollout({ ...o.ss, status }, o.workloads, o.now);
    status = withRolloutStatus(o.ss, status, r, o.now);
    rollouts = r.patches;
    for (const p of r.patches) {
      events.push({ type: 'Normal', reason: 'RolloutTriggered', message: `rolling ${p.kind}/${p.name} to version ${p.value} (pod-template annotation ${p.key})` });
    }
    if (r.requeueAfterMs !== undefined) requeueAfterMs = Math.min(requeueAfterMs, Math.max(MIN_REQUEUE_MS, r.requeueAfterMs));
  }
  let out: Plan = { ...plan, status: sameStatus(st, status) ? undefined : status, events, requeueAfterMs, ...(rollouts?.length ? { rollouts } : {}) };
  if (rotation && !rotation.ok && !out.error) {
    out = { ...out, error: { cause: rotation.cause, retryable: rotation.error.retryable }, result: 'error' };
  }
  return out;
}

/** status.rollout and the RolloutComplete condition from a rollout plan (both gone when nothing depends on the Secret). */
function withRolloutStatus(ss: SecretSync, status: SecretSyncStatus, r: RolloutPlan, now: Date): SecretSyncStatus {
  const { rollout: _r, ...rest } = status;
  const conditions = r.condition
    ? setCondition(status.conditions, { type: ConditionType.RolloutComplete, ...r.condition, observedGeneration: ss.metadata.generation }, now)
    : (status.conditions ?? []).filter((c) => c.type !== ConditionType.RolloutComplete);
  return { ...rest, conditions, ...(r.targets.length ? { rollout: { targets: r.targets } } : {}) };
}

function planCore(o: Observed, due: Due, read?: ReadOutcome, sealed?: SealOutcome): Plan {
  const memory = o.memory ?? rememberRead(o);
  const handled = o.ss.status?.forceSyncHandled;
  if (due.failure !== undefined) return planFailure(o, due.failure, memory, handled);
  if (read) {
    if (!read.ok) {
      return planFailure(o, read.error, rememberRead(o), forceToken(o.ss.metadata.annotations?.[FORCE_SYNC_ANNOTATION]) ?? handled);
    }
    return planSuccess(o, due, read.content, read.sourceVersions, sealed);
  }
  if (due.rewrap && sealed) return planRewrap(o, due, sealed, memory);
  if (due.rekey) return planRekey(o, due, memory);
  if (due.held) return planHeld(o, due, memory);
  // Nothing to read: only housekeeping that needs no content.
  const ownsTarget = o.target !== undefined;
  return {
    finalizers: ownsTarget ? finalizersFor(o) : undefined,
    grants: ownsTarget ? grantWrites(o.ss, o.grant.role, o.grant.binding) : [],
    cleanups: strayCleanups(o),
    events: [],
    requeueAfterMs: requeueAt(due.nextRefresh, o.now),
    result: 'idle',
    memory,
    forceSyncHandled: handled,
  };
}

