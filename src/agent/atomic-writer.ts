// Writes a set of files the way kubelet's AtomicWriter updates secret volumes, so a reader
// sees the whole old set or the whole new one, never a mix or a half-written file:
//
//   <target>/..2026_01_02_03_04_05.XXXXXX/<key>   the files of one delivery (dir 0755)
//   <target>/..data -> ..2026_01_02_03_04_05.XXXXXX   swapped by rename(), which is atomic
//   <target>/<key> -> ..data/<key>                  what the app opens
//
// Every file is written and fsync'd into a fresh hidden directory first; only then is a
// `..data_tmp` symlink renamed over `..data`. Links for new keys are added after the swap
// and links of keys that are gone removed; the previous data directory goes last. A
// failure before the swap removes the new directory and leaves the previous set as it was.
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { AgentCode, AgentError } from './errors.js';

export const DATA_LINK = '..data';
const DATA_TMP_LINK = '..data_tmp';
const DIR_MODE = 0o755;

export interface FileOwnership {
  /** File mode, e.g. 0o400. */
  mode: number;
  uid?: number;
  gid?: number;
}

/** The file-system calls the writer makes (tests swap one to inject a failure). */
export type FileIo = Pick<
  typeof fsp,
  'mkdir' | 'mkdtemp' | 'open' | 'chmod' | 'chown' | 'symlink' | 'rename' | 'readlink' | 'readdir' | 'lstat' | 'unlink' | 'rm'
>;

export interface WriteResult {
  /** The new data directory's name (`..<timestamp>.<random>`). */
  dataDir: string;
  keys: string[];
  /** Keys of the previous set that are no longer there. */
  removed: string[];
}

/** Secret keys as the API server allows them; `..` prefixes are the writer's own. */
export function checkKey(key: string): void {
  if (!/^[-._a-zA-Z0-9]+$/.test(key) || key === '.' || key.startsWith('..') || key.length > 253) {
    throw new AgentError(AgentCode.InvalidContent, `key "${key.slice(0, 64)}" cannot be a file name (letters, digits, "-", "_", "." and no leading "..")`);
  }
}

const errno = (err: unknown) => (err as NodeJS.ErrnoException | null)?.code;

function timestamp(now: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `..${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}.`;
}

async function fsyncDir(io: FileIo, dir: string): Promise<void> {
  const h = await io.open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

async function writeFile(io: FileIo, path: string, content: Buffer, own: FileOwnership): Promise<void> {
  const h = await io.open(path, 'wx', 0o600);
  try {
    await h.writeFile(content);
    await h.sync();
  } finally {
    await h.close();
  }
  if (own.uid !== undefined || own.gid !== undefined) await io.chown(path, own.uid ?? -1, own.gid ?? -1);
  await io.chmod(path, own.mode); // after chown, and not subject to the umask
}

async function currentDataDir(io: FileIo, target: string): Promise<string | undefined> {
  try {
    return await io.readlink(join(target, DATA_LINK));
  } catch (err) {
    if (errno(err) === 'ENOENT') return undefined;
    throw err;
  }
}

async function listKeys(io: FileIo, dir: string): Promise<string[]> {
  try {
    return (await io.readdir(dir)).filter((n) => !n.startsWith('..'));
  } catch (err) {
    if (errno(err) === 'ENOENT') return [];
    throw err;
  }
}

/** Makes `<target>/<key>` the link `..data/<key>`, replacing whatever else is there atomically. */
async function linkKey(io: FileIo, target: string, key: string): Promise<void> {
  const path = join(target, key);
  const want = join(DATA_LINK, key);
  try {
    const st = await io.lstat(path);
    if (st.isSymbolicLink() && (await io.readlink(path)) === want) return;
  } catch (err) {
    if (errno(err) !== 'ENOENT') throw err;
  }
  const tmp = join(target, `..${key}_tmp`);
  await io.rm(tmp, { force: true });
  await io.symlink(want, tmp);
  await io.rename(tmp, path);
}

/**
 * Replaces the file set in `target` with `files` (key → content), atomically for readers.
 * Throws AgentError (Write, or InvalidContent for a bad key) with nothing visible changed
 * when it fails before the swap.
 */
export async function writeAtomically(
  target: string,
  files: Record<string, Buffer>,
  own: FileOwnership,
  io: FileIo = fsp,
  now: () => Date = () => new Date(),
): Promise<WriteResult> {
  const keys = Object.keys(files).sort();
  keys.forEach(checkKey);
  let staged: string | undefined;
  let swapped = false;
  try {
    await io.mkdir(target, { recursive: true, mode: DIR_MODE });
    const previous = await currentDataDir(io, target);
    const previousKeys = previous ? await listKeys(io, join(target, previous)) : [];

    staged = await io.mkdtemp(join(target, timestamp(now())));
    await io.chmod(staged, DIR_MODE);
    for (const key of keys) await writeFile(io, join(staged, key), files[key] as Buffer, own);
    await fsyncDir(io, staged);

    const dataDir = staged.slice(target.length + 1);
    const tmpLink = join(target, DATA_TMP_LINK);
    await io.rm(tmpLink, { force: true });
    await io.symlink(dataDir, tmpLink);
    await io.rename(tmpLink, join(target, DATA_LINK));
    swapped = true;
    await fsyncDir(io, target);

    for (const key of keys) await linkKey(io, target, key);
    const removed = previousKeys.filter((k) => !(k in files));
    for (const key of removed) {
      const path = join(target, key);
      const st = await io.lstat(path).catch(() => undefined);
      if (st?.isSymbolicLink()) await io.unlink(path); // only our links, never a file someone put there
    }
    // The previous data directory, and any a crashed run left behind.
    for (const name of await io.readdir(target)) {
      if (!name.startsWith('..') || name === DATA_LINK || name === dataDir) continue;
      const st = await io.lstat(join(target, name)).catch(() => undefined);
      if (st?.isDirectory()) await io.rm(join(target, name), { recursive: true, force: true });
    }
    return { dataDir, keys, removed };
  } catch (err) {
    if (staged && !swapped) await io.rm(staged, { recursive: true, force: true }).catch(() => undefined);
    if (err instanceof AgentError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new AgentError(
      AgentCode.Write,
      `writing the files into ${target} failed${swapped ? ' after the new set became visible' : ' (the previous files are unchanged)'}: ` +
        `${e.code ?? 'error'} ${e.syscall ?? ''}`.trim() +
        (e.code === 'EPERM' && (own.uid !== undefined || own.gid !== undefined) ? ' (setting the owner needs CAP_CHOWN in the agent container)' : ''),
    );
  }
}
