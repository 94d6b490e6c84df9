// Deletion of a SecretSync, as a plan. Without our finalizer there is nothing to do: the
// target Secret carries a controller owner reference, so the garbage collector deletes it
// (deletionPolicy Delete). With it (deletionPolicy Retain, or objects from older versions),
// the Secrets this SecretSync owns are deleted or released by policy, then the finalizer goes.
import { FINALIZER } from '../api/types.js';
import type { Observed } from './observe.js';
import { strayCleanups, type Plan } from './plan.js';
import { isOwnedBy } from './target.js';

export function planDeletion(o: Observed): Plan | undefined {
  const list = o.ss.metadata.finalizers ?? [];
  if (!list.includes(FINALIZER)) return undefined;
  // The target counts as a stray here: everything this SecretSync owns goes by policy.
  const ours = o.target && isOwnedBy(o.target, o.ss.metadata.uid) ? [o.target] : [];
  return {
    finalizers: { list: list.filter((f) => f !== FINALIZER), when: 'after' },
    cleanups: strayCleanups({ ...o, strays: [...ours, ...o.strays] }),
    events: [],
    requeueAfterMs: 0,
    result: 'idle',
    memory: o.memory ?? { lastCheck: o.now, sourceVersion: o.sourceVersion },
    forceSyncHandled: o.ss.status?.forceSyncHandled,
  };
}
