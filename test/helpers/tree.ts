// A folder tree as sorted lines, for comparing two trees or one tree before and after.
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

function entries(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

/** What a write would change: every entry's path, mode, size and mtime. */
export function listing(dir: string): string[] {
  return entries(dir).map((f) => {
    const st = lstatSync(join(dir, f));
    return `${f} ${st.mode} ${st.size} ${st.mtimeMs}`;
  });
}

/** What two copies must share: every entry's path, permissions, and a hash of its content (or its link target). */
export function contents(dir: string): string[] {
  return entries(dir).map((f) => {
    const st = lstatSync(join(dir, f));
    const what = st.isSymbolicLink() ? `-> ${readlinkSync(join(dir, f))}` : st.isFile() ? createHash('sha256').update(readFileSync(join(dir, f))).digest('hex') : 'dir';
    return `${f} ${(st.mode & 0o7777).toString(8)} ${what}`;
  });
}
