// Where a workload's rollout stands, read from its status as its controller writes it:
// Complete, Progressing or Failed, with replica counts for status.rollout. Pure.
import type { RolloutTargetStatus } from '../api/types.js';
import type { KubeWorkload } from './ports.js';

/**
 * StatefulSets and DaemonSets have no progress deadline: one not complete this long after
 * the operator rolled it counts as failed.
 */
export const STALLED_AFTER_MS = 600_000;
const DEFAULT_PROGRESS_DEADLINE_S = 600;

export type WorkloadState = Pick<RolloutTargetStatus, 'state' | 'replicas' | 'updatedReplicas' | 'readyReplicas' | 'message'>;

const howToCheck = (w: KubeWorkload) => `check \`kubectl rollout status ${w.kind.toLowerCase()}/${w.metadata.name}\``;

/** The workload's controller has seen its latest spec. */
function caughtUp(w: KubeWorkload): boolean {
  return (w.status?.observedGeneration ?? 0) >= (w.metadata.generation ?? 0);
}

function counts(w: KubeWorkload): { replicas: number; updated: number; ready: number; complete: boolean } {
  const s = w.status ?? {};
  const caught = caughtUp(w);
  switch (w.kind) {
    case 'Deployment': {
      const replicas = w.spec.replicas ?? 1;
      const updated = s.updatedReplicas ?? 0;
      const complete = caught && updated === replicas && (s.availableReplicas ?? 0) === replicas && (s.replicas ?? 0) === replicas;
      return { replicas, updated, ready: s.readyReplicas ?? 0, complete };
    }
    case 'StatefulSet': {
      const replicas = w.spec.replicas ?? 1;
      const updated = s.updatedReplicas ?? 0;
      const revisionDone = (s.updateRevision !== undefined && s.updateRevision === s.currentRevision) || updated === replicas;
      const complete = caught && revisionDone && (s.readyReplicas ?? 0) === replicas;
      return { replicas, updated, ready: s.readyReplicas ?? 0, complete };
    }
    case 'DaemonSet': {
      const replicas = s.desiredNumberScheduled ?? 0;
      const updated = s.updatedNumberScheduled ?? 0;
      const complete = caught && updated === replicas && (s.numberAvailable ?? 0) === replicas;
      return { replicas, updated, ready: s.numberReady ?? 0, complete };
    }
  }
}

/**
 * The state of `w`'s current rollout. `lastRolloutTime` (when the operator rolled it)
 * starts the clock for StatefulSets and DaemonSets; `pending` says the template does not
 * carry the version yet, so the status says nothing about it: Progressing.
 */
export function workloadState(w: KubeWorkload, lastRolloutTime: string | undefined, now: Date, pending = false): WorkloadState {
  const c = counts(w);
  const base = { replicas: c.replicas, updatedReplicas: c.updated, readyReplicas: c.ready };
  if (pending) return { state: 'Progressing', ...base };
  if (c.complete) return { state: 'Complete', ...base };
  if (w.kind === 'Deployment') {
    const progressing = (w.status?.conditions ?? []).find((x) => x.type === 'Progressing');
    if (caughtUp(w) && progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
      const deadline = w.spec.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_S;
      return { state: 'Failed', ...base, message: `exceeded its progress deadline (${deadline}s): ${howToCheck(w)}` };
    }
    return { state: 'Progressing', ...base };
  }
  const started = lastRolloutTime !== undefined ? Date.parse(lastRolloutTime) : NaN;
  if (Number.isFinite(started) && now.getTime() - started >= STALLED_AFTER_MS) {
    return {
      state: 'Failed',
      ...base,
      message: `not complete ${STALLED_AFTER_MS / 1000}s after the rollout started (${w.kind}s have no progress deadline; this is the operator's limit): ${howToCheck(w)}`,
    };
  }
  return { state: 'Progressing', ...base };
}
