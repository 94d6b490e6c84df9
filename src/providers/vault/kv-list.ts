// KV listing for dataFrom[].find: the LIST of a folder (GET with ?list=true; KV v2 lists
// `<mount>/metadata/<folder>`, v1 `<mount>/<folder>`) and the walk that lists folders
// recursively, breadth first, counting every name it sees against a bound, so a folder of a
// million entries costs at most the bound, not the operator's memory. Names only: a listing
// never carries a value.
import { FindLimitError, InvalidValueError } from '../../errors.js';
import { encodePath, type KvSettings } from './kv.js';

/** The Vault API path that lists `folder` ('' for the mount's root). */
export function kvListPath(kv: KvSettings, folder: string): string {
  const mount = encodePath(kv.mount, 'spec.vault.kv.mount');
  const base = kv.version === 2 ? `${mount}/metadata` : mount;
  const trimmed = folder.replace(/^\/+|\/+$/g, '');
  return trimmed ? `${base}/${encodePath(trimmed, 'dataFrom[].find.path')}/?list=true` : `${base}/?list=true`;
}

/** The keys of a LIST answer: secret names, and folders ending in "/". */
export function parseKvList(body: unknown, what: string): string[] {
  const data = typeof body === 'object' && body !== null ? (body as { data?: unknown }).data : undefined;
  const keys = typeof data === 'object' && data !== null ? (data as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) throw new InvalidValueError(`${what}: the LIST answer holds no list of keys`);
  return keys as string[];
}

/**
 * Every secret path under `root` ('' for the whole mount), listing each folder with
 * `list(folder)` (undefined: the folder does not exist). More than `maxListed` names seen
 * is a FindLimitError.
 */
export async function walkKv(root: string, maxListed: number, list: (folder: string) => Promise<string[] | undefined>, field: string): Promise<string[]> {
  const start = root.replace(/^\/+|\/+$/g, '');
  const secrets: string[] = [];
  let folders = [start];
  let seen = 0;
  while (folders.length > 0) {
    const next: string[] = [];
    for (const folder of folders) {
      const keys = (await list(folder)) ?? [];
      seen += keys.length;
      if (seen > maxListed) {
        throw new FindLimitError(
          `${field} lists more than ${maxListed} names under "${start}" (its share of 20 times --find-max-secrets): set find.path to a narrower folder, or split the SecretSync`,
        );
      }
      for (const k of keys) {
        const path = folder ? `${folder}/${k}` : k;
        if (k.endsWith('/')) next.push(path.replace(/\/+$/, ''));
        else secrets.push(path);
      }
    }
    folders = next;
  }
  return secrets;
}
