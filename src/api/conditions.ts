// Conditions as the Kubernetes API conventions want them: one per type, and
// lastTransitionTime moves only when status changes.
import type { Condition } from './types.js';

export const ConditionType = { Ready: 'Ready', Synced: 'Synced', Rotated: 'Rotated', RolloutComplete: 'RolloutComplete', InUse: 'InUse' } as const;

export function setCondition(
  list: readonly Condition[] | undefined,
  next: Omit<Condition, 'lastTransitionTime'>,
  now: Date,
): Condition[] {
  const old = (list ?? []).find((c) => c.type === next.type);
  const lastTransitionTime = old && old.status === next.status ? old.lastTransitionTime : now.toISOString();
  const merged: Condition = { ...next, lastTransitionTime };
  const rest = (list ?? []).filter((c) => c.type !== next.type);
  return [...rest, merged].sort((a, b) => order(a.type) - order(b.type));
}

export function findCondition(list: readonly Condition[] | undefined, type: string): Condition | undefined {
  return list?.find((c) => c.type === type);
}

function order(type: string): number {
  const i = Object.values(ConditionType).indexOf(type as never);
  return i < 0 ? 100 : i;
}
