// KV secrets engine paths and answers. v2 reads `<mount>/data/<path>` (optionally
// `?version=N`) and reports metadata.version; v1 reads `<mount>/<path>` and has no
// versions. Paths are checked and encoded segment by segment, so a remoteRef can never
// climb out of the mount with `..` or smuggle a query string.
import { InvalidSpecError, InvalidValueError, SourceNotFoundError } from '../../errors.js';

export interface KvSettings {
  mount: string;
  version: 1 | 2;
}

export interface KvSecret {
  data: Record<string, unknown>;
  /** metadata.version of KV v2 as a string; "unversioned" for KV v1. */
  version: string;
}

export const UNVERSIONED = 'unversioned';

/** `path` as URL-encoded segments; InvalidSpecError for empty, `.` or `..` segments. */
export function encodePath(path: string, field: string): string {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  const segments = trimmed.split('/');
  if (!trimmed || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new InvalidSpecError(`${field} "${path}" is not a Vault path: write segments separated by single slashes, without "." or ".."`);
  }
  return segments.map(encodeURIComponent).join('/');
}

/** The Vault API path to GET for `path` (at `version`, KV v2 only). */
export function kvReadPath(kv: KvSettings, path: string, version?: string): string {
  const mount = encodePath(kv.mount, 'spec.vault.kv.mount');
  const p = encodePath(path, 'remoteRef.path');
  if (kv.version === 1) {
    if (version) {
      throw new InvalidSpecError(
        `remoteRef.version "${version}" pins a version of "${path}", but KV mount "${kv.mount}" is version 1 and keeps none: remove version, or use a KV v2 mount`,
      );
    }
    return `${mount}/${p}`;
  }
  if (version === undefined || version === '') return `${mount}/data/${p}`;
  if (!/^[1-9]\d{0,15}$/.test(version)) {
    throw new InvalidSpecError(`remoteRef.version "${version}" of "${path}" is not a KV v2 version: write a positive integer such as "3"`);
  }
  return `${mount}/data/${p}?version=${version}`;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The data map and version id from a read answer; SourceNotFound for a deleted/destroyed version. */
export function parseKvAnswer(kv: KvSettings, body: unknown, what: string): KvSecret {
  const outer = isMap(body) ? body.data : undefined;
  if (kv.version === 1) {
    if (!isMap(outer)) throw new InvalidValueError(`${what}: the answer holds no key/value data`);
    return { data: outer, version: UNVERSIONED };
  }
  if (!isMap(outer) || !('data' in outer) || !isMap(outer.metadata)) {
    throw new InvalidValueError(`${what}: the answer is not a KV v2 secret: check spec.vault.kv (mount "${kv.mount}", version 2)`);
  }
  const version = outer.metadata.version;
  if (outer.data === null) {
    throw new SourceNotFoundError(`${what}: version ${String(version)} was deleted or destroyed`);
  }
  if (!isMap(outer.data)) throw new InvalidValueError(`${what}: the secret's data is not a key/value map`);
  if (typeof version !== 'number' && typeof version !== 'string') {
    throw new InvalidValueError(`${what}: the answer has no metadata.version`);
  }
  return { data: outer.data, version: String(version) };
}
