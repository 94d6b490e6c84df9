// What a rotation writes: spec.rotation.keys resolved to remote secrets, one target per
// remote path. A key of spec.data rotates what that entry reads (its property, or the whole
// value when it has none); any other key is a property of the single spec.dataFrom secret.
// Specs whose rotation could not be written, or would not be seen, are refused here.
import type { SecretSync } from '../../api/types.js';
import { InvalidSpecError } from '../../errors.js';

export interface RotationTarget {
  /** The remote path a new version is written to. */
  path: string;
  /** Properties of the JSON secret at `path` that get new values (the others are kept). */
  properties: string[];
  /** The whole value at `path` gets a new value (then `properties` is empty). */
  whole: boolean;
  /** The target keys these new values reach, in spec.rotation.keys order. */
  keys: string[];
}

/** How each rotated key resolved, for messages. */
interface Resolved {
  key: string;
  property?: string;
  /** Where the key was found, e.g. `spec.data[2]` or `spec.dataFrom[0]`. */
  from: string;
}

export function rotationTargets(ss: SecretSync): RotationTarget[] {
  const rotation = ss.spec.rotation;
  if (rotation === undefined) return [];
  const data = ss.spec.data ?? [];
  const dataFrom = ss.spec.dataFrom ?? [];
  if (rotation.keys.length === 0) throw new InvalidSpecError('spec.rotation.keys is empty: list the target keys to rotate');
  // A rotation writes named secrets; what a find discovers changes with the source, and a
  // rotated key could come from any of them (or from none at the next refresh).
  const found = dataFrom.findIndex((e) => e.find !== undefined);
  if (found >= 0) {
    throw new InvalidSpecError(
      `spec.rotation cannot be used with spec.dataFrom[${found}].find: a rotation writes secrets named in the spec, and which secrets a find discovers changes at the source; ` +
        'name the secrets to rotate with spec.data or dataFrom[].remoteRef, or sync the discovered ones in a SecretSync without rotation',
    );
  }

  const byPath = new Map<string, Resolved[]>();
  const listed = new Map<string, number>();
  rotation.keys.forEach((key, i) => {
    const field = `spec.rotation.keys[${i}] "${key}"`;
    const twice = listed.get(key);
    if (twice !== undefined) throw new InvalidSpecError(`${field} is listed twice (also spec.rotation.keys[${twice}]): list each key once`);
    listed.set(key, i);
    const d = data.findIndex((e) => e.key === key);
    let path: string;
    let r: Resolved;
    if (d >= 0) {
      path = data[d]!.remoteRef.path;
      r = { key, property: data[d]!.remoteRef.property, from: `spec.data[${d}]` };
    } else if (dataFrom.length === 1 && dataFrom[0]!.rewrite?.length) {
      throw new InvalidSpecError(
        `${field} is not a key of spec.data, and spec.dataFrom[0] rewrites its keys, so which property it is cannot be told: add a spec.data entry with key "${key}" and the remoteRef (path, property) to rotate`,
      );
    } else if (dataFrom.length === 1) {
      path = dataFrom[0]!.remoteRef!.path; // no find: refused above
      r = { key, property: key, from: 'spec.dataFrom[0]' };
    } else if (dataFrom.length === 0) {
      throw new InvalidSpecError(
        `${field} is not a key of spec.data and there is no spec.dataFrom: rotate a spec.data key, or add a spec.data entry with key "${key}" whose remoteRef names the secret to rotate`,
      );
    } else {
      throw new InvalidSpecError(
        `${field} is not a key of spec.data, and spec.dataFrom has ${dataFrom.length} entries, so which secret holds it is ambiguous: add a spec.data entry with key "${key}" and the remoteRef (path, property) to rotate`,
      );
    }
    byPath.set(path, [...(byPath.get(path) ?? []), r]);
  });

  for (const [path, resolved] of byPath) refuseConflicts(ss, path, resolved);
  return [...byPath].map(([path, resolved]) => {
    const whole = resolved.some((r) => r.property === undefined);
    return { path, whole, properties: whole ? [] : [...new Set(resolved.map((r) => r.property!))], keys: resolved.map((r) => r.key) };
  });
}

/** Every entry that reads `path`; `properties` when it reads properties of it, not the whole value. */
function readsOf(ss: SecretSync, path: string): { field: string; version?: string; properties: boolean }[] {
  return [
    ...(ss.spec.data ?? []).flatMap((e, i) =>
      e.remoteRef.path === path ? [{ field: `spec.data[${i}]`, version: e.remoteRef.version, properties: e.remoteRef.property !== undefined }] : [],
    ),
    ...(ss.spec.dataFrom ?? []).flatMap((e, i) =>
      e.remoteRef?.path === path ? [{ field: `spec.dataFrom[${i}]`, version: e.remoteRef.version, properties: true }] : [],
    ),
  ];
}

function refuseConflicts(ss: SecretSync, path: string, resolved: Resolved[]): void {
  const reads = readsOf(ss, path);
  // A pinned read keeps returning the old version: the rotated value would never arrive.
  const pinned = reads.find((r) => r.version !== undefined && r.version !== '');
  if (pinned !== undefined) {
    throw new InvalidSpecError(
      `${pinned.field}.remoteRef.version pins "${path}" to version ${pinned.version}, but spec.rotation writes new versions of "${path}" that a pinned read never sees: remove version`,
    );
  }
  // A whole new value replaces the JSON object whose properties other entries read.
  const whole = resolved.find((r) => r.property === undefined);
  const byProperties = reads.find((r) => r.properties);
  if (whole !== undefined && byProperties !== undefined) {
    throw new InvalidSpecError(
      `spec.rotation.keys: "${whole.key}" rotates the whole value of "${path}" (${whole.from} has no property), but ${byProperties.field} reads properties of it, which a whole new value would replace: rotate properties of "${path}" instead (set ${whole.from}.remoteRef.property), or keep the whole value at a path of its own`,
    );
  }
}
