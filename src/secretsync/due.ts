// Whether the source must be read now, and why: a pure function of what was observed.
// Problems that need no read to be found (an invalid spec, a missing or refusing source, a
// target owned by someone else) come back as a failure instead, without a provider call.
import { createHash } from 'node:crypto';
import { ConditionType, findCondition } from '../api/conditions.js';
import { sourceRefKey } from '../api/source-ref.js';
import { FORCE_SYNC_ANNOTATION, MINTING_TYPES, type ClusterSecretSource } from '../api/types.js';
import { validateSecretSync } from '../api/validate.js';
import { NamespaceNotAllowedError, SourceRefNotFoundError, TargetConflictError } from '../errors.js';
import { admitsNamespace } from './access.js';
import { contentHmac, fromSecretData, hmacKeyIdOf } from './content.js';
import type { Observed } from './observe.js';
import { nextRefreshAfter } from './schedule.js';
import { conflictError, desiredSecret, isOwnedBy, secretWrite } from './target.js';

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
  /** The next refresh tick after the last check (or after now, for an object first seen healthy). */
  nextRefresh: Date;
}

const MAX_FORCE_TOKEN = 128;

/** How a force-sync annotation value is recorded in status.forceSyncHandled. */
export function forceToken(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value.length <= MAX_FORCE_TOKEN ? value : `sha256:${createHash('sha256').update(value).digest('hex')}`;
}

/** The schedule seed: per source when the provider batches reads, else per object. */
export function refreshSeed(o: Pick<Observed, 'alignRefreshes' | 'sourceRef' | 'ss'>): string {
  return o.alignRefreshes ? sourceRefKey(o.sourceRef) : `SecretSync/${o.ss.metadata.uid ?? o.ss.metadata.name}`;
}

function failureBeforeRead(o: Observed): unknown {
  try {
    validateSecretSync(o.ss);
  } catch (err) {
    return err;
  }
  const type = o.ss.spec.target?.type ?? 'Opaque';
  if (MINTING_TYPES.includes(type)) {
    // The schema refuses these too; this guards objects stored before the rule existed.
    return new TargetConflictError(`spec.target.type ${type} would make the API server mint credentials: use Opaque`);
  }
  const { sourceRef: ref, ss } = o;
  if (!o.source) {
    const where = ref.kind === 'SecretSource' ? `${ref.namespace}/${ref.name}` : ref.name;
    return new SourceRefNotFoundError(`${ref.kind} ${where} not found: create it, or fix spec.sourceRef`);
  }
  const namespace = ss.metadata.namespace ?? '';
  if (o.source.kind === 'ClusterSecretSource' && !admitsNamespace(o.source as ClusterSecretSource, namespace, o.namespaceLabels)) {
    return new NamespaceNotAllowedError(
      `ClusterSecretSource ${ref.name} does not admit namespace ${namespace}: add it to the source's ` +
        'spec.allowedNamespaces, or label the namespace to match its spec.namespaceSelector',
    );
  }
  if (o.target && !isOwnedBy(o.target, ss.metadata.uid)) return conflictError(o.target);
  return undefined;
}

function readReason(o: Observed, nextRefresh: Date): DueReason | undefined {
  const { ss, target } = o;
  const st = ss.status;
  if (!st?.contentHmac || st.version === undefined) return 'first sync';
  if (st.observedGeneration !== ss.metadata.generation) return 'spec changed';
  if (findCondition(st.conditions, ConditionType.Ready)?.status !== 'True') return 'retry after failure';
  const force = ss.metadata.annotations?.[FORCE_SYNC_ANNOTATION];
  if (force !== undefined && forceToken(force) !== st.forceSyncHandled) return 'force-sync';
  if (o.memory && o.memory.sourceVersion !== o.sourceVersion) return 'source changed';
  if (!target) return 'target missing';
  // Drift is judged only under the key the status was written with: a status from a key
  // that is gone says nothing about the content (the next refresh compares for real).
  if (hmacKeyIdOf(st.contentHmac) === o.hmacKey.id) {
    const content = fromSecretData(target.data);
    if (contentHmac(o.hmacKey, content) !== st.contentHmac) return 'target changed';
    if (secretWrite(target, desiredSecret(ss, content)) !== undefined) return 'target changed';
  }
  if (o.memory && nextRefresh.getTime() <= o.now.getTime()) return 'refresh due';
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
  return { read: readReason(o, nextRefresh), nextRefresh };
}
