// The atomic writer on a real file system (a temp directory): the kubelet layout, modes,
// ownership (the suite runs as root, so chown really happens), the swap of ..data, links
// of removed keys, the old data directory, and a failure half-way that leaves the
// previous set exactly as it was.
import { lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_LINK, checkKey, writeAtomically, type FileIo } from '../../../src/agent/atomic-writer.js';
import { AgentCode, AgentError } from '../../../src/agent/errors.js';

let root: string;
let target: string;
const b = (s: string) => Buffer.from(s, 'utf8');
const isRoot = process.getuid?.() === 0;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'agent-writer-'));
  target = join(root, 'db-creds');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const hidden = () => readdirSync(target).filter((n) => n.startsWith('..') && n !== DATA_LINK);
const visible = () => readdirSync(target).filter((n) => !n.startsWith('..')).sort();
const read = (key: string) => readFileSync(join(target, key), 'utf8');

test('writes the kubelet layout: a hidden data directory, ..data pointing at it, and one link per key', async () => {
  const res = await writeAtomically(target, { password: b('p1'), username: b('u1') }, { mode: 0o400 });
  expect(res.keys).toEqual(['password', 'username']);
  expect(res.dataDir).toMatch(/^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\..+/);
  expect(readlinkSync(join(target, DATA_LINK))).toBe(res.dataDir);
  expect(hidden()).toEqual([res.dataDir]);
  for (const key of ['password', 'username']) {
    expect(lstatSync(join(target, key)).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(target, key))).toBe(join(DATA_LINK, key));
    expect(lstatSync(join(target, res.dataDir, key)).isFile()).toBe(true);
  }
  expect(read('password')).toBe('p1');
  expect(read('username')).toBe('u1');
  expect(statSync(target).mode & 0o777).toBe(0o755);
  expect(statSync(join(target, res.dataDir)).mode & 0o777).toBe(0o755);
});

test('files get the mode asked for, whatever the umask', async () => {
  const old = process.umask(0o077);
  try {
    await writeAtomically(target, { a: b('1') }, { mode: 0o440 });
    expect(statSync(join(target, 'a')).mode & 0o777).toBe(0o440);
    await writeAtomically(target, { a: b('2') }, { mode: 0o644 });
    expect(statSync(join(target, 'a')).mode & 0o777).toBe(0o644);
  } finally {
    process.umask(old);
  }
});

(isRoot ? test : test.skip)('files are owned by uid and gid when given (and only the gid when only it is)', async () => {
  await writeAtomically(target, { a: b('1') }, { mode: 0o400, uid: 1234, gid: 5678 });
  const st = statSync(join(target, 'a'));
  expect([st.uid, st.gid, st.mode & 0o777]).toEqual([1234, 5678, 0o400]);
  await writeAtomically(target, { a: b('2') }, { mode: 0o440, gid: 4321 });
  const st2 = statSync(join(target, 'a'));
  expect([st2.uid, st2.gid]).toEqual([0, 4321]);
});

test('a new set replaces the old one: changed values, a new key linked, a removed key unlinked, the old directory gone', async () => {
  const first = await writeAtomically(target, { password: b('p1'), old: b('o1') }, { mode: 0o400 });
  const second = await writeAtomically(target, { password: b('p2'), fresh: b('f2') }, { mode: 0o400 });
  expect(second.dataDir).not.toBe(first.dataDir);
  expect(second.removed).toEqual(['old']);
  expect(visible()).toEqual(['fresh', 'password']);
  expect(read('password')).toBe('p2');
  expect(read('fresh')).toBe('f2');
  expect(hidden()).toEqual([second.dataDir]);
  expect(() => lstatSync(join(target, 'old'))).toThrow(/ENOENT/);
  expect(() => lstatSync(join(target, first.dataDir))).toThrow(/ENOENT/);
});

test('a file someone else put in the directory is neither linked over nor removed unless it is a key', async () => {
  await writeAtomically(target, { a: b('1') }, { mode: 0o400 });
  writeFileSync(join(target, 'README'), 'mine');
  await writeAtomically(target, { a: b('2'), b: b('3') }, { mode: 0o400 });
  expect(read('README')).toBe('mine');
  expect(visible()).toEqual(['README', 'a', 'b']);
});

test('data directories a crashed run left behind are removed with the previous one', async () => {
  await writeAtomically(target, { a: b('1') }, { mode: 0o400 });
  const stale = join(target, '..2020_01_01_00_00_00.crashed');
  await fsp.mkdir(stale);
  writeFileSync(join(stale, 'a'), 'half');
  const res = await writeAtomically(target, { a: b('2') }, { mode: 0o400 });
  expect(hidden()).toEqual([res.dataDir]);
});

test('a failure half-way (the second file) leaves the previous set intact and no new directory behind', async () => {
  const first = await writeAtomically(target, { a: b('old-a'), b: b('old-b') }, { mode: 0o400 });
  let opened = 0;
  const failing: FileIo = {
    ...fsp,
    open: (async (path: Parameters<typeof fsp.open>[0], flags?: string | number, mode?: number) => {
      if (flags === 'wx' && ++opened === 2) throw Object.assign(new Error('disk full'), { code: 'ENOSPC', syscall: 'open' });
      return fsp.open(path, flags, mode);
    }) as typeof fsp.open,
  };
  const err = await writeAtomically(target, { a: b('new-a'), b: b('new-b') }, { mode: 0o400 }, failing).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(AgentError);
  expect((err as AgentError).code).toBe(AgentCode.Write);
  expect((err as AgentError).message).toContain('ENOSPC');
  expect((err as AgentError).message).toContain('the previous files are unchanged');
  expect(readlinkSync(join(target, DATA_LINK))).toBe(first.dataDir);
  expect(hidden()).toEqual([first.dataDir]);
  expect([read('a'), read('b')]).toEqual(['old-a', 'old-b']);
});

test('a failing chown (no CAP_CHOWN) is a Write error that says so, with nothing changed', async () => {
  await writeAtomically(target, { a: b('old') }, { mode: 0o400 });
  const failing: FileIo = {
    ...fsp,
    chown: (async () => {
      throw Object.assign(new Error('operation not permitted'), { code: 'EPERM', syscall: 'chown' });
    }) as typeof fsp.chown,
  };
  const err = (await writeAtomically(target, { a: b('new') }, { mode: 0o400, uid: 1000 }, failing).catch((e: unknown) => e)) as AgentError;
  expect(err.code).toBe(AgentCode.Write);
  expect(err.message).toContain('CAP_CHOWN');
  expect(read('a')).toBe('old');
  expect(hidden()).toHaveLength(1);
});

test('a reader never sees a mix: every read during many rewrites is one whole set', async () => {
  await writeAtomically(target, { a: b('0'), b: b('0') }, { mode: 0o444 });
  let stop = false;
  const seen = new Set<string>();
  const reader = (async () => {
    while (!stop) {
      // Both keys through one resolution of ..data, as an app reading a consistent set would.
      const dir = join(target, readlinkSync(join(target, DATA_LINK)));
      try {
        seen.add(`${readFileSync(join(dir, 'a'), 'utf8')}/${readFileSync(join(dir, 'b'), 'utf8')}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // that set was just removed
      }
      await new Promise((r) => setImmediate(r));
    }
  })();
  for (let i = 1; i <= 30; i++) await writeAtomically(target, { a: b(String(i)), b: b(String(i)) }, { mode: 0o444 });
  stop = true;
  await reader;
  for (const s of seen) {
    const [x, y] = s.split('/');
    expect(x).toBe(y);
  }
});

test.each(['..data', '..x', '.', 'a/b', '', 'with space'])('key %p is refused before anything is written', async (key) => {
  expect(() => checkKey(key)).toThrow(AgentError);
  await expect(writeAtomically(target, { [key]: b('x') }, { mode: 0o400 })).rejects.toMatchObject({ code: AgentCode.InvalidContent });
  expect(() => readdirSync(target)).toThrow(/ENOENT/);
});

test.each(['password', 'tls.crt', '.hidden', 'a_b-c.d'])('key %p is accepted', (key) => {
  expect(() => checkKey(key)).not.toThrow();
});
