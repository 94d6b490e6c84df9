// What the operator writes on a target Secret for the agent that delivers it into pods.
// The agent reads only the target Secret (with the pod's identity, which may read nothing
// else), so everything it needs besides the values rides on the Secret as annotations.
import { MOUNT_ANNOTATION } from './annotations.js';
import { DEFAULTS, type MountSpec } from './types.js';

/** spec.mount: octal file mode as a string ("0400"), owner uid and gid. */
export type { MountSpec } from './types.js';

export const DEFAULT_FILE_MODE = DEFAULTS.fileMode;

/** Parses the mount annotation; undefined fields keep the agent's defaults. Throws on malformed input. */
export function parseMountAnnotation(text: string | undefined): MountSpec {
  if (text === undefined || text === '') return {};
  const v = JSON.parse(text) as unknown;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${MOUNT_ANNOTATION} is not a JSON object`);
  const o = v as Record<string, unknown>;
  const out: MountSpec = {};
  if (o.mode !== undefined) {
    if (typeof o.mode !== 'string' || !/^0?[0-7]{3}$/.test(o.mode)) throw new Error(`${MOUNT_ANNOTATION}: mode must be an octal string like "0400"`);
    out.mode = o.mode;
  }
  for (const f of ['uid', 'gid'] as const) {
    const n = o[f];
    if (n === undefined) continue;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new Error(`${MOUNT_ANNOTATION}: ${f} must be a non-negative integer`);
    out[f] = n;
  }
  return out;
}

/** The annotation value for a spec.mount (stable key order, so an unchanged spec writes nothing). */
export function mountAnnotation(m: MountSpec | undefined): string {
  return JSON.stringify({ mode: m?.mode ?? DEFAULT_FILE_MODE, ...(m?.uid !== undefined ? { uid: m.uid } : {}), ...(m?.gid !== undefined ? { gid: m.gid } : {}) });
}
