// Deletion of a SecretSync, as a plan. Without our finalizer there is nothing to do: the
// target Secret carries a controller owner reference, so the garbage collector deletes it
// (deletionPolicy Delete). With it (deletionPolicy Retain, a Secret in use, or objects
// from older versions), deletion first waits while live workloads use the Secret (as a
// Swarm secret in use cannot be removed): an InUse condition names them, until they stop
// or the SecretSync carries secretsync.io/force-delete: "true". Then the Secrets this
// SecretSync owns are deleted or released by policy, and the finalizer goes.
import { FINALIZER, FORCE_DELETE_ANNOTATION } from '../api/annotations.js';
import { ConditionType, setCondition } from '../api/conditions.js';
import type { Observed } from './observe.js';
import { strayCleanups, type Plan } from './plan.js';
import { inUseBy } from './rollout.js';
import { sameStatus } from './status.js';
import { isOwnedBy, targetName } from './target.js';

export function planDeletion(o: Observed): Plan | undefined {
  const list = o.ss.metadata.finalizers ?? [];
  if (!list.includes(FINALIZER)) return undefined;
  const memory = o.memory ?? { lastCheck: o.now, sourceVersion: o.sourceVersion };
  const users = inUseBy(o.ss, o.workloads);
  const forced = o.ss.metadata.annotations?.[FORCE_DELETE_ANNOTATION] === 'true';
  if (users.length > 0 && !forced) {
    const names = users.map((u) => `${u.kind}/${u.name} (${u.uses.join(', ')})`).join(', ');
    const message =
      `deletion waits: Secret ${targetName(o.ss)} is in use by ${names}. Stop using it there (or scale to 0, or delete them), ` +
      `or annotate this SecretSync secretsync.io/force-delete=true to delete it anyway`;
    const st = o.ss.status ?? {};
    const status = {
      ...st,
      conditions: setCondition(st.conditions, { type: ConditionType.InUse, status: 'True' as const, reason: 'InUse', message, observedGeneration: o.ss.metadata.generation }, o.now),
    };
    const changed = !sameStatus(st, status);
    return {
      cleanups: [],
      status: changed ? status : undefined,
      events: changed ? [{ type: 'Warning', reason: 'DeletionHeld', message }] : [],
      requeueAfterMs: 0, // workload changes enqueue it again
      result: 'idle',
      memory,
      forceSyncHandled: o.ss.status?.forceSyncHandled,
    };
  }
  // The target counts as a stray here: everything this SecretSync owns goes by policy.
  const ours = o.target && isOwnedBy(o.target, o.ss.metadata.uid) ? [o.target] : [];
  return {
    finalizers: { list: list.filter((f) => f !== FINALIZER), when: 'after' },
    cleanups: strayCleanups({ ...o, strays: [...ours, ...o.strays] }),
    events: forced && users.length > 0 ? [{ type: 'Warning', reason: 'ForceDeleted', message: `deleted while in use by ${users.map((u) => `${u.kind}/${u.name}`).join(', ')} (secretsync.io/force-delete)` }] : [],
    requeueAfterMs: 0,
    result: 'idle',
    memory,
    forceSyncHandled: o.ss.status?.forceSyncHandled,
  };
}
