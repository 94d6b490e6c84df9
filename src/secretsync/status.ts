// Pure status computation: what the SecretSync status should be after a successful sync
// or a failure, and whether that differs from what is stored (no write when it does not).
import { ConditionType, setCondition } from '../api/conditions.js';
import type { SecretSync, SecretSyncStatus } from '../api/types.js';
import { Reason } from '../errors.js';
import type { Described } from './describe-error.js';

export interface SyncOutcome {
  hmac: string;
  sourceVersions: Record<string, string>;
  keyCount: number;
  now: Date;
  nextRefresh: Date;
}

export function successStatus(ss: SecretSync, o: SyncOutcome): SecretSyncStatus {
  const old = ss.status ?? {};
  const changed = old.contentHmac !== o.hmac;
  const version = changed ? (old.version ?? 0) + 1 : (old.version ?? 1);
  const gen = ss.metadata.generation;
  const message = `synced ${o.keyCount} key${o.keyCount === 1 ? '' : 's'} from ${ss.spec.sourceRef.kind ?? 'SecretSource'} ${ss.spec.sourceRef.name} (version ${version})`;
  let conditions = setCondition(old.conditions, { type: ConditionType.Ready, status: 'True', reason: Reason.Synced, message, observedGeneration: gen }, o.now);
  conditions = setCondition(conditions, { type: ConditionType.Synced, status: 'True', reason: Reason.Synced, message, observedGeneration: gen }, o.now);
  return {
    ...old,
    conditions,
    observedGeneration: gen,
    version,
    contentHmac: o.hmac,
    sourceVersions: o.sourceVersions,
    lastSyncTime: changed || !old.lastSyncTime ? o.now.toISOString() : old.lastSyncTime,
    nextRefreshTime: o.nextRefresh.toISOString(),
  };
}

export function failureStatus(ss: SecretSync, d: Described, now: Date): SecretSyncStatus {
  const old = ss.status ?? {};
  const gen = ss.metadata.generation;
  let conditions = setCondition(old.conditions, { type: ConditionType.Ready, status: 'False', reason: d.reason, message: d.message, observedGeneration: gen }, now);
  conditions = setCondition(conditions, { type: ConditionType.Synced, status: 'False', reason: d.reason, message: d.message, observedGeneration: gen }, now);
  return { ...old, conditions, observedGeneration: gen };
}

/**
 * Equal for the purpose of writing: nextRefreshTime alone is derived from the schedule
 * and is refreshed only together with a real change, so a refresh that finds nothing
 * new writes nothing.
 */
export function sameStatus(a: SecretSyncStatus | undefined, b: SecretSyncStatus): boolean {
  const strip = (s: SecretSyncStatus | undefined) => {
    const { nextRefreshTime: _n, ...rest } = s ?? {};
    return JSON.stringify(canonical(rest));
  };
  return strip(a) === strip(b);
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  }
  return v;
}
