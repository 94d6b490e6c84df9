// Whether the source must be read now, and why: a pure function of what was observed.
// Problems that need no read to be found (an invalid spec, a missing or refusing source, a
// target owned by someone else) come back as a failure instead, without a provider call.
import { createHash } from 'node:crypto';
import { FORCE_SYNC_ANNOTATION } from '../api/annotations.js';
import { ConditionType, findCondition } from '../api/conditions.js';
import { sourceRefKey, type SourceRef } from '../api/source-ref.js';
import { MINTING_TYPES, type AnySource, type ClusterSecretSource } from '../api/types.js';
import { validateSecretSync } from '../api/validate.js';
import type { KekCoordinates } from '../crypto/envelope.js';
import { InvalidSpecError, NamespaceNotAllowedError, SourceRefNotFoundError, TargetConflictError } from '../errors.js';
import { admitsNamespace } from './access.js';
import { checkDataFromRegexes } from './discovery.js';
import { kekScopeProblem, readScopeProblem } from './scope.js';
import { contentHmac, fromSecretData, isLegacyMac, keyOfMac, macEqual } from './content.js';
import type { Observed } from './observe.js';
import { latestRefreshAtOrBefore, nextRefreshAfter, refreshPolicy } from './schedule.js';
import { coordinates } from './kek.js';
import type { KubeSecret } from './ports.js';
import { envelopeBody, heldEnvelope, heldEnvelopeKey, rewrappable, staleVersions } from './sealing.js';
import { conflictError, desiredSecret, isOwnedBy, plainBody, secretWrite, targetName } from './target.js';
import { forceSyncThrottle, type Throttled } from './throttle.js';

export type DueReason =
  | 'first sync'
  | 'spec changed'
  | 'retry after failure'
  | 'force-sync'
  | 'source changed'
  | 'target missing'
  | 'target changed'
  | 'refresh due';

export interface Due {
  /** A problem found without reading the source. */
  failure?: unknown;
  /** Why the source must be read now; undefined when nothing asks for it. */
  read?: DueReason;
  /**
   * With `read`: a read of the source that started at or after this moment (epoch ms)
   * answers it, so syncs due for the same reason at the same moment share one read.
   */
  notBefore?: number;
  /** The next refresh tick after the last check (or after now, for an object first seen healthy). */
  nextRefresh: Date;
  /** Envelope mode, nothing to read: the data keys must be re-wrapped under the KEK's newest version. */
  rewrap?: boolean;
  /** Requests (force-sync, rotate-now) that wait for their window; the plan shows them and looks again then. */
  throttled?: Throttled[];
  /**
   * Plain mode, nothing to read: status.contentHmac is of the legacy scheme (the operator's
   * global key) and matches the target; write its per-object HMAC into status, nothing else.
   */
  rekey?: boolean;
  /**
   * refresh.policy CreatedOnce, nothing to read: the target exists, so the source is not read
   * again (a force-sync aside); the plan only brings status up to the spec's generation.
   */
  held?: boolean;
  /**
   * Envelope mode, a read that acts on a new force-sync value: ask the key service for the
   * KEK's current version first, so a key rotated since the KEK watcher's last pass
   * (--kek-check-interval) is re-wrapped by this sync, not at the watcher's next pass.
   */
  kekCheck?: boolean;
}

const MAX_FORCE_TOKEN = 128;

/** How a force-sync annotation value is recorded in status.forceSyncHandled. */
export function forceToken(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value.length <= MAX_FORCE_TOKEN ? value : `sha256:${createHash('sha256').update(value).digest('hex')}`;
}

/**
 * The schedule seed. Per source when the provider batches reads (its syncs are due
 * together: one call per 20 secrets). Otherwise per source and remote path, so the syncs
 * reading one secret share a tick, and through notBefore one read, while syncs of other
 * secrets are spread over the interval; a sync reading several paths goes with the
 * smallest (sorted, so the order of its entries does not matter). Per object for a spec
 * that names no path.
 */
export function refreshSeed(o: Pick<Observed, 'alignRefreshes' | 'sourceRef' | 'ss'>): string {
  const source = sourceRefKey(o.sourceRef);
  if (o.alignRefreshes) return source;
  const paths = [...(o.ss.spec.dataFrom ?? []), ...(o.ss.spec.data ?? [])]
    .map((e) => (typeof e.remoteRef?.path === 'string' ? e.remoteRef.path.replace(/^\/+|\/+$/g, '') : ''))
    .filter((p) => p !== '')
    .sort();
  return paths[0] !== undefined ? `${source}#${paths[0]}` : `SecretSync/${o.ss.metadata.uid ?? o.ss.metadata.name}`;
}

/** creationTimestamp has whole seconds: the object was created before stamp + 1 s. */
const CREATION_RESOLUTION_MS = 1000;

/**
 * The oldest read that still answers `reason` (epoch ms). A refresh: one started at or
 * after the tick that made it due, which every sync of that tick shares. A first sync
 * never tried and never edited: one started after the object was created, which is what
 * its creator expects and what objects created together share. Anything else (an edit, a
 * force-sync, a retry, a target or source that changed) asks for a read started now.
 */
export function readNotBefore(o: Observed, reason: DueReason, nextRefresh: Date): number {
  const now = o.now.getTime();
  if (reason === 'refresh due') {
    try {
      return latestRefreshAtOrBefore(o.ss.spec.refresh, o.now, refreshSeed(o), nextRefresh)?.getTime() ?? now;
    } catch {
      return now;
    }
  }
  const untried = !o.memory && !o.ss.status?.conditions?.length && (o.ss.metadata.generation ?? 1) <= 1;
  if (reason === 'first sync' && untried) {
    const created = Date.parse(o.ss.metadata.creationTimestamp ?? '');
    if (Number.isFinite(created)) return Math.min(created + CREATION_RESOLUTION_MS, now);
  }
  return now;
}

function failureBeforeRead(o: Observed): unknown {
  try {
    validateSecretSync(o.ss);
    (o.ss.spec.dataFrom ?? []).forEach((e, i) => checkDataFromRegexes(e, `spec.dataFrom[${i}]`));
  } catch (err) {
    return err;
  }
  const type = o.ss.spec.target?.type ?? 'Opaque';
  if (MINTING_TYPES.includes(type)) {
    // The schema refuses these too; this guards objects stored before the rule existed.
    return new TargetConflictError(`spec.target.type ${type} would make the API server mint credentials: use Opaque`);
  }
  const { ss } = o;
  const name = targetName(ss);
  if (o.operatorSecrets?.includes(name)) {
    // Checked before the source is read or anything written: the operator's HMAC key or
    // webhook TLS Secret must never be written (or deleted, or released) by a SecretSync.
    return new TargetConflictError(
      `spec.target.name ${name} is one of the operator's own Secrets in namespace ${ss.metadata.namespace} (its HMAC key or webhook TLS): ` +
        'a SecretSync may not write it; nothing was written. Choose another spec.target.name',
    );
  }
  const sourceProblem = sourceFailure(o, o.sourceRef, o.source, undefined, o.sourceInvalid);
  if (sourceProblem) return sourceProblem;
  const tagged = (ss.spec.dataFrom ?? []).findIndex((e) => Object.keys(e.find?.tags ?? {}).length > 0);
  if (tagged >= 0 && !o.source?.spec.aws) {
    return new InvalidSpecError(`spec.dataFrom[${tagged}].find.tags selects AWS secrets by tag, and ${o.sourceRef.kind} ${o.sourceRef.name} is not an AWS source: use find.path and find.name.regexp`);
  }
  // spec.namespaceScopes of a shared source: a path outside this namespace's prefixes is never read.
  const scopeProblem = o.source ? readScopeProblem(ss, o.source, o.namespaceLabels) : undefined;
  if (scopeProblem) return scopeProblem;
  if (o.target && !isOwnedBy(o.target, ss.metadata.uid)) return conflictError(o.target);
  if (ss.spec.target?.encryption) return kekFailure(o);
  return undefined;
}

/**
 * A source a SecretSync names (`field`, when not spec.sourceRef) must exist, for a
 * ClusterSecretSource admit the SecretSync's namespace, and pass its provider's checks.
 */
function sourceFailure(o: Observed, ref: SourceRef, source: AnySource | undefined, field?: string, invalid?: unknown): unknown {
  const named = field ? ` (${field})` : '';
  if (!source) {
    const where = ref.kind === 'SecretSource' ? `${ref.namespace}/${ref.name}` : ref.name;
    return new SourceRefNotFoundError(`${ref.kind} ${where}${named} not found: create it, or fix ${field ?? 'spec.sourceRef'}`);
  }
  const namespace = o.ss.metadata.namespace ?? '';
  if (source.kind === 'ClusterSecretSource' && !admitsNamespace(source as ClusterSecretSource, namespace, o.namespaceLabels)) {
    return new NamespaceNotAllowedError(
      `ClusterSecretSource ${ref.name}${named} does not admit namespace ${namespace}: add it to the source's ` +
        'spec.allowedNamespaces, or label the namespace to match its spec.namespaceSelector',
    );
  }
  // A source its provider refuses (e.g. one stored without credentials of its own) fails
  // every SecretSync on it now, not at its next read: after a restart nothing may be due.
  return invalid;
}

/**
 * Envelope mode: the KEK's source must exist, admit this namespace, let it use this key
 * (spec.namespaceScopes[].keys) and have the matching provider block.
 */
function kekFailure(o: Observed): unknown {
  const kek = o.kek;
  if (!kek) return new InvalidSpecError('spec.target.encryption.kek sets neither vaultTransit nor awsKms: set exactly one');
  const problem = sourceFailure(o, kek.ref.sourceRef, kek.source, `spec.target.encryption.kek.${kek.ref.spec.kind}.sourceRef`, kek.sourceInvalid);
  if (problem || !kek.source) return problem;
  const refused = kekScopeProblem(o.ss, kek.ref, kek.source, o.namespaceLabels);
  if (refused) return refused;
  try {
    coordinates(kek.ref, kek.source, '');
  } catch (err) {
    return err;
  }
  return undefined;
}

/** Envelope mode: the KEK coordinates the spec asks for (version aside); undefined when it cannot say. */
export function wantedKek(o: Observed): KekCoordinates | undefined {
  if (!o.kek?.source) return undefined;
  try {
    return coordinates(o.kek.ref, o.kek.source, '');
  } catch {
    return undefined;
  }
}

/**
 * Envelope mode: whether the target's envelope is intact, current and under the KEK the
 * spec names. An envelope whose MAC is of the legacy scheme is compared as written (under
 * that key): it is intact, and the next read re-keys it, so an upgrade reads nothing early.
 */
function envelopeDrifted(o: Observed, target: KubeSecret, version: number): boolean {
  const macKey = heldEnvelopeKey(target, o.macKeys);
  const held = heldEnvelope(target, o.macKeys);
  const kek = wantedKek(o);
  if (!macKey || !held || !kek || held.current.version !== version || !rewrappable(held.current.kek, kek)) return true;
  return secretWrite(target, desiredSecret(o.ss, envelopeBody(o.ss, held, macKey, o.ss.status?.contentHmac))) !== undefined;
}

/** Envelope mode: a data key of the held envelope is wrapped by an older version of its KEK. */
function rewrapDue(o: Observed): boolean {
  const held = heldEnvelope(o.target, o.macKeys);
  const kek = wantedKek(o);
  return !!held && !!kek && staleVersions(held, kek, o.kek?.latest).length > 0;
}

/** A force-sync value not acted upon yet. */
function forceSyncWaiting(o: Observed): boolean {
  const force = o.ss.metadata.annotations?.[FORCE_SYNC_ANNOTATION];
  return force !== undefined && forceToken(force) !== o.ss.status?.forceSyncHandled;
}

/**
 * Plain mode, after readReason found nothing to read (so the target matches status): the
 * status HMAC is of the legacy global-key scheme under the key the operator holds. Envelope
 * mode cannot re-key without the content (the operator cannot open its envelopes): its
 * next read does it.
 */
export function rekeyDue(o: Observed): boolean {
  const hmac = o.ss.status?.contentHmac;
  return !o.ss.spec.target?.encryption && o.target !== undefined && isLegacyMac(hmac) && keyOfMac(o.macKeys, 'content', hmac) !== undefined;
}

function readReason(o: Observed, nextRefresh: Date): DueReason | undefined {
  const { ss, target } = o;
  const st = ss.status;
  // A failing SecretSync is read on every reconcile, and a new annotation value makes one at
  // once: a throttled force-sync must not turn that into a read per value. Its backoff retries
  // wait the window out too; the plan looks again at its end.
  const retry = (reason: DueReason) => (forceSyncWaiting(o) && forceSyncThrottle(st, o.now) ? undefined : reason);
  const policy = refreshPolicy(ss.spec.refresh);
  if (!st?.contentHmac || st.version === undefined) return st?.conditions?.length ? retry('first sync') : 'first sync';
  const forced = forceSyncWaiting(o) && !forceSyncThrottle(st, o.now);
  // CreatedOnce: while the Secret exists, only a new force-sync value reads the source again.
  if (policy === 'CreatedOnce' && target) return forced ? 'force-sync' : undefined;
  if (st.observedGeneration !== ss.metadata.generation) return 'spec changed';
  if (findCondition(st.conditions, ConditionType.Ready)?.status !== 'True') return retry('retry after failure');
  if (forced) return 'force-sync';
  // OnChange and CreatedOnce follow this object's spec only, not edits of the source object.
  if (policy === 'Periodic' && o.memory && o.memory.sourceVersion !== o.sourceVersion) return 'source changed';
  if (!target) return 'target missing';
  if (ss.spec.target?.encryption) {
    if (envelopeDrifted(o, target, st.version)) return 'target changed';
  } else {
    // Drift is judged only under the key the status was written with (per object, or the
    // legacy global one): a status from a key that is gone says nothing about the content
    // (the next refresh compares for real).
    const k = keyOfMac(o.macKeys, 'content', st.contentHmac);
    if (k) {
      const content = fromSecretData(target.data);
      if (!macEqual(contentHmac(k, content), st.contentHmac)) return 'target changed';
      if (secretWrite(target, desiredSecret(ss, plainBody(ss, content, st.version))) !== undefined) return 'target changed';
    }
  }
  if (policy === 'Periodic' && o.memory && nextRefresh.getTime() <= o.now.getTime()) return 'refresh due';
  return undefined;
}

/** Invalid specs are looked at again after this long (an edit enqueues them at once anyway). */
const INVALID_SPEC_RECHECK_MS = 3_600_000;

export function whatIsDue(o: Observed): Due {
  const failure = failureBeforeRead(o);
  let nextRefresh: Date;
  try {
    nextRefresh = nextRefreshAfter(o.ss.spec.refresh, o.memory?.lastCheck ?? o.now, refreshSeed(o));
  } catch {
    nextRefresh = new Date(o.now.getTime() + INVALID_SPEC_RECHECK_MS); // an invalid schedule: failure says so
  }
  if (failure !== undefined) return { failure, nextRefresh };
  const read = readReason(o, nextRefresh);
  // A read for another reason acts on a waiting force-sync too; without one it waits, shown.
  const throttle = read === undefined && forceSyncWaiting(o) ? forceSyncThrottle(o.ss.status, o.now) : undefined;
  const throttled = throttle ? { throttled: [throttle] } : {};
  // An immutable Secret's data cannot be re-wrapped in place: its keys stay under their KEK version.
  if (read === undefined && o.ss.spec.target?.encryption && !o.target?.immutable && rewrapDue(o)) return { nextRefresh, rewrap: true, ...throttled };
  if (read === undefined && rekeyDue(o)) return { nextRefresh, rekey: true, ...throttled };
  if (read === undefined && refreshPolicy(o.ss.spec.refresh) === 'CreatedOnce' && o.target && o.ss.status?.contentHmac) {
    return { nextRefresh, held: true, ...throttled };
  }
  if (read === undefined) return { read, nextRefresh, ...throttled };
  // The read records a waiting force-sync value as handled (planSuccess), whatever it is for.
  const kekCheck = !!o.ss.spec.target?.encryption && o.kek?.source !== undefined && forceSyncWaiting(o);
  return { read, notBefore: readNotBefore(o, read, nextRefresh), nextRefresh, ...(kekCheck ? { kekCheck } : {}) };
}

/**
 * The read this reconcile makes, if any: because something is due to be read, or because
 * a rotation just wrote the source; none while a problem found before the read fails the
 * reconcile. `notBefore` is how old a shared read may be: after our own rotation write only
 * a read started from `now` (the clock when the read starts) on sees it.
 */
export function readFor(due: Due, rotated: boolean, now: number): { reason: DueReason | 'rotated'; notBefore: number } | undefined {
  if (due.failure !== undefined) return undefined;
  if (rotated) return { reason: 'rotated', notBefore: now };
  return due.read ? { reason: due.read, notBefore: due.notBefore ?? now } : undefined;
}
