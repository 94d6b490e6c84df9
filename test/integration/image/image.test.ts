// What the container image does, without a Docker engine, read from the Dockerfile: its
// build stage (only the files it copies, then its RUN line) in one folder, its production
// install (`npm ci --omit=dev`) in another beside the compiled dist/, then its ENTRYPOINT
// (node dist/src/cli.js) for --help, agent --help,
// and a short operator run against the real stack as the operator's service account. It
// shows production dependencies suffice: no module of dist/ needs tsx, typescript, jest or
// any other devDependency, and the run writes nothing into the application folder (the
// image runs with a read-only root filesystem).
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { renderCrds } from '../../../src/api/crds.js';
import { eventually } from '../../helpers/eventually.js';
import { apply, deleteNamespace, deleteSyncs, kube, secretData, vaultTestNamespaces, waitReady } from '../../helpers/kube.js';
import { getText } from '../../helpers/operator.js';
import { operatorIdentity, type OperatorIdentity } from '../../helpers/rbac.js';
import { uniqueName } from '../../helpers/stack.js';
import { kvPut } from '../../helpers/vault.js';
import { repoRoot } from '../../testenv/config.js';
import { freePort } from '../../testenv/ports.js';

const run = promisify(execFile);
const k = kube();
const id = uniqueName('img');
const ns = `${id}-apps`;
const opNs = `${id}-system`;

/** The Dockerfile's stages: FROM line, then the instructions up to the next FROM. */
function stages(dockerfile: string): string[][] {
  const out: string[][] = [];
  for (const line of dockerfile.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim())) {
    if (!line || line.startsWith('#')) continue;
    if (/^FROM\s/i.test(line)) out.push([line]);
    else out.at(-1)?.push(line);
  }
  return out;
}

const dockerfile = stages(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
const runtime = dockerfile.at(-1) ?? [];
const entrypoint = JSON.parse(runtime.find((l) => l.startsWith('ENTRYPOINT '))?.slice('ENTRYPOINT '.length) ?? '[]') as string[];
const workdir = runtime.find((l) => l.startsWith('WORKDIR '))?.slice('WORKDIR '.length) ?? '';
/** The stage the runtime stage copies `what` from (COPY --from=<stage> <path containing what>). */
function stageCopied(what: string): string[] {
  const from = runtime.find((l) => l.startsWith('COPY --from=') && l.split(/\s+/)[2]?.includes(what))?.match(/--from=(\S+)/)?.[1];
  return dockerfile.find((s) => new RegExp(`\\sAS\\s+${from}$`, 'i').test(s[0] ?? '')) ?? [];
}
/** The production install: the `npm ci` of the stage node_modules comes from. */
const installLine = stageCopied('node_modules').find((l) => l.startsWith('RUN npm ci'))?.slice('RUN '.length) ?? '';
/** The build stage: what it copies from the context (after the npm install) and its build command. */
const buildStage = stageCopied('dist');
const buildSources = buildStage
  .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
  .flatMap((l) => l.split(/\s+/).slice(1, -1));
const buildLine = buildStage.find((l) => l.startsWith('RUN ') && l.includes('build'))?.slice('RUN '.length) ?? '';

let app: string; // the image's WORKDIR, here
let identity: OperatorIdentity | undefined;

/** The ENTRYPOINT with this machine's node and the app folder in place of the image's. */
function entry(): { cmd: string; args: string[] } {
  const [node, ...rest] = entrypoint;
  expect(node).toMatch(/\/node$/);
  return { cmd: process.execPath, args: rest.map((a) => (a.startsWith(`${workdir}/`) ? join(app, a.slice(workdir.length + 1)) : a)) };
}

/** A clean environment: nothing may reach tsx or the repository's node_modules. */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: app, NODE_ENV: 'production', ...extra };
}

function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => `${f} ${statSync(join(dir, f)).mtimeMs}`)
    .sort();
}

let build: string; // the build stage's WORKDIR, here

beforeAll(async () => {
  // The build stage, with only what it copies from the context. Its `npm ci` (dev
  // dependencies, the same lockfile) is the checkout's node_modules.
  build = mkdtempSync(join(tmpdir(), 'secretsync-image-build-'));
  expect(buildSources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src']));
  for (const f of buildSources) cpSync(join(repoRoot, f), join(build, f), { recursive: true });
  symlinkSync(join(repoRoot, 'node_modules'), join(build, 'node_modules'));
  expect(buildLine).toMatch(/^npm run build/);
  await run('bash', ['-c', buildLine], { cwd: build });

  app = mkdtempSync(join(tmpdir(), 'secretsync-image-'));
  // Node resolves packages up the tree: no node_modules above the folder may help it.
  for (let d = dirname(app); d !== dirname(d); d = dirname(d)) expect(existsSync(join(d, 'node_modules'))).toBe(false);
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(repoRoot, f), join(app, f));
  cpSync(join(build, 'dist', 'src'), join(app, 'dist', 'src'), { recursive: true });
  expect(installLine).toMatch(/^npm ci .*--omit=dev/);
  const [npm, ...args] = installLine.split(/\s+/);
  // --prefer-offline: from the npm cache when it has the packages (the image build has none).
  await run(npm as string, [...args, '--prefer-offline'], { cwd: app, env: { ...process.env, NODE_ENV: 'production' } });
}, 180_000);

afterAll(async () => {
  await deleteSyncs(k.custom, ns).catch(() => undefined);
  await identity?.release();
  await deleteNamespace(k.core, ns);
  await deleteNamespace(k.core, opNs);
  for (const d of [app, build]) if (d) rmSync(d, { recursive: true, force: true });
});

test('the Dockerfile runs bin/secretsync of package.json as its ENTRYPOINT, as a non-root user', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  expect(entrypoint.at(-1)).toBe(`${workdir}/${pkg.bin.secretsync}`);
  const user = runtime.find((l) => l.startsWith('USER '))?.slice('USER '.length) ?? '0';
  expect(user).not.toMatch(/^(root|0)(:|$)/);
  // The webhook's agent containers run as 65532 with this image (AGENT_UID).
  expect(user).toBe('65532:65532');
});

test('.dockerignore lets in what the build stage copies, and no more', () => {
  const lines = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  expect(lines[0]).toBe('*');
  const allowed = lines.slice(1).map((l) => l.replace(/^!/, '').replace(/\/$/, ''));
  expect(new Set(allowed)).toEqual(new Set(buildSources));
});

test('the build stage leaves no type declarations in dist/', () => {
  const files = readdirSync(join(app, 'dist', 'src'), { recursive: true, encoding: 'utf8' });
  expect(files.filter((f) => f.endsWith('.d.ts'))).toEqual([]);
  expect(files).toContain('cli.js');
});

test('only production dependencies are installed, and every module of dist/ loads with them', async () => {
  const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  // @types/node comes along as a dependency of @kubernetes/client-node (type files only);
  // no other devDependency, and none of the tools, may be there.
  const present = Object.keys(pkg.devDependencies).filter((dev) => existsSync(join(app, 'node_modules', dev)));
  expect(present.filter((dev) => dev !== '@types/node')).toEqual([]);
  for (const tool of ['tsx', 'typescript', 'jest', 'ts-jest', 'eslint', 'esbuild']) expect(existsSync(join(app, 'node_modules', tool))).toBe(false);
  for (const dep of Object.keys(pkg.dependencies)) expect(existsSync(join(app, 'node_modules', dep))).toBe(true);
  // cli.js runs on import; every other module only defines things.
  const modules = readdirSync(join(app, 'dist', 'src'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js') && f !== 'cli.js')
    .map((f) => `./${relative(app, join(app, 'dist', 'src', f))}`);
  expect(modules.length).toBeGreaterThan(50);
  const script = `for (const m of ${JSON.stringify(modules)}) await import(m);`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', `${script} console.log('loaded', ${modules.length});`], { cwd: app, env: env() });
  expect(stdout.trim()).toBe(`loaded ${modules.length}`);
});

test('--help, operator --help, agent --help and crds work from the production install', async () => {
  const { cmd, args } = entry();
  const help = await run(cmd, [...args, '--help'], { cwd: app, env: env() });
  expect(help.stdout).toContain('Usage: secretsync <command>');
  expect((await run(cmd, [...args, 'operator', '--help'], { cwd: app, env: env() })).stdout).toContain('Usage: secretsync operator');
  expect((await run(cmd, [...args, 'agent', '--help'], { cwd: app, env: env() })).stdout).toContain('Usage: secretsync agent init|watch');
  const crds = await run(cmd, [...args, 'crds'], { cwd: app, env: env(), maxBuffer: 16 * 1024 * 1024 });
  expect(crds.stdout).toBe(renderCrds().map((c) => c.yaml).join('---\n'));
});

test('the operator from the production install syncs a SecretSync, reports ready, and exits 0 on SIGTERM', async () => {
  await vaultTestNamespaces(k, ns, opNs);
  await kvPut(`${id}/db`, { password: 'from-the-image' });
  identity = await operatorIdentity(opNs);
  const [metricsPort, healthPort] = [await freePort(), await freePort()];
  const before = listing(app);
  const { cmd, args } = entry();
  const proc = spawn(
    cmd,
    [
      ...args,
      'operator',
      `--kubeconfig=${identity.kubeconfig}`,
      `--metrics-addr=127.0.0.1:${metricsPort}`,
      `--health-addr=127.0.0.1:${healthPort}`,
      '--webhook-addr=0',
      '--insecure-allow-http', // the stack's OpenBao is plain http
      `--namespace=${ns}`,
      `--operator-namespace=${opNs}`,
    ],
    { cwd: app, env: env({ KUBECONFIG: identity.kubeconfig }), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: string[] = [];
  proc.stdout.on('data', (c: Buffer) => logs.push(c.toString('utf8')));
  proc.stderr.on('data', (c: Buffer) => logs.push(c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  try {
    await Promise.race([
      eventually(async () => ((await getText(`http://127.0.0.1:${healthPort}/readyz`)).status === 200 ? true : undefined), {
        timeoutMs: 60_000,
        what: '/readyz 200',
      }),
      exited.then((code) => Promise.reject(new Error(`the operator exited (${code}) before it was ready`))),
    ]);
    await apply(k.custom, {
      kind: 'SecretSync',
      metadata: { name: 'db', namespace: ns },
      spec: { sourceRef: { name: 'vault' }, data: [{ key: 'password', remoteRef: { path: `${id}/db`, property: 'password' } }] },
    });
    await waitReady(k.custom, ns, 'db', 'True', 'Synced');
    expect(await secretData(k.core, ns, 'db')).toEqual({ password: 'from-the-image' });
    const metrics = await getText(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(metrics.body).toMatch(/secretsync_syncs_total\{namespace="[^"]+",result="synced"\} 1/);
    await deleteSyncs(k.custom, ns); // finalized while the operator still runs
  } catch (err) {
    throw new Error(`${(err as Error).message}\noperator output:\n${logs.join('').slice(-4000)}`);
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    const code = await exited;
    clearTimeout(t);
    expect(code).toBe(0);
  }
  expect(listing(app)).toEqual(before); // nothing written where the image's files are
});
