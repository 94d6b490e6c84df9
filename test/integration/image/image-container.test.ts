// The assembled image (hack/image/rootfs.ts) run as a kubelet runs the operator and the
// injected agent: runc with the image's ENTRYPOINT, ENV and WORKDIR, as user 65532 with a
// read-only root filesystem, no capabilities, no new privileges and no network. The image's
// own node, glibc and node_modules answer, and nothing is written to its root filesystem.
// runc needs root: elsewhere these tests are skipped and say so (CI runs as root).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { renderCrds } from '../../../src/api/crds.js';
import type { ImageSpec } from '../../testenv/image-archive.js';
import { assembleRootfs } from '../../../hack/image/rootfs.js';
import { ensureRunc, runInContainer, type ContainerResult } from '../../helpers/runc.js';
import { listing } from '../../helpers/tree.js';

const root = process.getuid?.() === 0;
const rootTest = root ? test : test.skip;
if (!root) process.stderr.write('image-container: not root, so no runc container: these tests are NOT run\n');

let tmp: string;
let spec: ImageSpec;
let before: string[];

function user(): { uid: number; gid: number } {
  const [uid = '', gid = uid] = (spec.config.User ?? '').split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** `args` in the image, as its config says: no network unless asked. */
function inImage(args: string[]): Promise<ContainerResult> {
  return runInContainer(spec.rootfs, { args, ...user(), env: spec.config.Env ?? [], cwd: spec.config.WorkingDir ?? '/' });
}

/** The image's ENTRYPOINT with `args` in place of its CMD; exit 0 expected. */
async function entrypoint(...args: string[]): Promise<string> {
  const r = await inImage([...(spec.config.Entrypoint ?? []), ...args]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  return r.stdout;
}

beforeAll(async () => {
  if (!root) return;
  expect(await ensureRunc()).toBe(true);
  tmp = mkdtempSync(join(tmpdir(), 'secretsync-image-container-'));
  spec = await assembleRootfs(join(tmp, 'rootfs'), { log: (m) => process.stderr.write(`[image] ${m}\n`) });
  before = listing(spec.rootfs);
}, 300_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

rootTest('the ENTRYPOINT answers --help, operator --help, agent --help and crds in the container', async () => {
  expect(spec.config.Entrypoint?.[0]).toBe('/nodejs/bin/node');
  expect(await entrypoint('--help')).toContain('Usage: secretsync <command>');
  expect(await entrypoint('operator', '--help')).toContain('Usage: secretsync operator');
  expect(await entrypoint('agent', '--help')).toContain('Usage: secretsync agent init|watch');
  expect(await entrypoint('crds')).toBe(renderCrds().map((c) => c.yaml).join('---\n'));
});

rootTest('the CMD is the operator, which without a cluster stops with its own error, not the image', async () => {
  expect(spec.config.Cmd).toEqual(['operator']);
  const r = await inImage([...(spec.config.Entrypoint ?? []), ...(spec.config.Cmd ?? [])]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^secretsync: /);
  expect(r.stderr).not.toMatch(/Cannot find module|ERR_MODULE_NOT_FOUND|error while loading shared libraries|GLIBC/);
});

rootTest('every module of dist/ loads with the image\'s node and node_modules', async () => {
  const app = join(spec.rootfs, spec.config.WorkingDir ?? '/');
  const modules = readdirSync(join(app, 'dist', 'src'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js') && f !== 'cli.js') // cli.js runs on import
    .map((f) => `./${relative(app, join(app, 'dist', 'src', f))}`);
  expect(modules.length).toBeGreaterThan(50);
  const r = await inImage(['/nodejs/bin/node', '--input-type=module', '-e', `for (const m of ${JSON.stringify(modules)}) await import(m); console.log('loaded', ${modules.length});`]);
  expect(r).toEqual({ code: 0, stdout: `loaded ${modules.length}\n`, stderr: '' });
});

rootTest('the process runs as 65532 without capabilities, the root filesystem refuses writes, and TLS has its CA bundle', async () => {
  const script = `
    const fs = require('node:fs');
    const caps = Object.fromEntries(fs.readFileSync('/proc/self/status', 'utf8').match(/^Cap(Inh|Prm|Eff|Bnd|Amb):.*$/gm).map((l) => l.split(/:\\s+/)));
    const write = (f) => { try { fs.writeFileSync(f, 'x'); return 'written'; } catch (e) { return e.code; } };
    const ca = fs.readFileSync(process.env.SSL_CERT_FILE, 'utf8').match(/BEGIN CERTIFICATE/g).length;
    console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), caps, app: write('/app/x'), tmp: write('/tmp/x'), home: process.env.HOME, inHome: write(process.env.HOME + '/x'), ca: ca > 100, tz: new Date(0).toLocaleString('en-GB', { timeZone: 'Europe/Paris' }) }));`;
  const r = await inImage(['/nodejs/bin/node', '-e', script]);
  expect(r.stderr).toBe('');
  const zero = '0000000000000000';
  expect(JSON.parse(r.stdout)).toEqual({
    uid: 65532,
    gid: 65532,
    caps: { CapInh: zero, CapPrm: zero, CapEff: zero, CapBnd: zero, CapAmb: zero },
    app: 'EROFS',
    tmp: 'EROFS',
    home: '/home/nonroot', // runc looks the user up in the image's /etc/passwd
    inHome: 'EROFS',
    ca: true,
    tz: '01/01/1970, 01:00:00',
  });
});

rootTest('nothing was written to the root filesystem', () => {
  expect(listing(spec.rootfs)).toEqual(before);
});
