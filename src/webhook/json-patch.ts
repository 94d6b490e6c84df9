// Building RFC 6902 patches against the pod as the webhook saw it. JSON Pointer tokens
// escape "~" as "~0" and "/" as "~1" (annotation keys carry a "/"); an array that is
// absent must be added whole, since "/-" needs an existing array.
import type { JsonPatchOp } from './pod.js';

export function pointerToken(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Appends `items` to the array at `path` (`current` is what the pod holds there). */
export function appendOps<T>(path: string, current: readonly T[] | undefined, items: readonly T[]): JsonPatchOp[] {
  if (items.length === 0) return [];
  if (current === undefined) return [{ op: 'add', path, value: [...items] }];
  return items.map((value) => ({ op: 'add', path: `${path}/-`, value }));
}
