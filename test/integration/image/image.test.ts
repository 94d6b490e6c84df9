// The image assembled here (hack/image/rootfs.ts, what `make testenv-up` imports into the
// node) against the Dockerfile, without a Docker engine: its config is the runtime stage's
// over the distroless base's, its /app holds exactly what fresh runs of the stages it copies
// from produce (the build stage's dist/src, the production install's node_modules), every
// module of dist/ loads with production dependencies only, and the image's /app runs the
// operator against the real stack as the operator's service account, writing nothing into
// the image's files. image-container.test.ts runs the image itself in a container.
import { execFile, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { promisify } from 'node:util';
import { copies, each, parseDockerfile, workdir, type Stage } from '../../../hack/image/dockerfile.js';
import type { ImageSpec } from '../../testenv/image-archive.js';
import { assembleRootfs, distrolessBase, distrolessConfig } from '../../../hack/image/rootfs.js';
import { runStage } from '../../../hack/image/stage.js';
import { eventually } from '../../helpers/eventually.js';
import { operatorContainer, template } from '../../helpers/helm.js';
import { apply, deleteNamespace, deleteSyncs, kube, secretData, vaultTestNamespaces, waitReady } from '../../helpers/kube.js';
import { getText } from '../../helpers/operator.js';
import { operatorIdentity, type OperatorIdentity } from '../../helpers/rbac.js';
import { uniqueName } from '../../helpers/stack.js';
import { contents, listing } from '../../helpers/tree.js';
import { kvPut } from '../../helpers/vault.js';
import { repoRoot } from '../../testenv/config.js';
import { freePort } from '../../testenv/ports.js';

const run = promisify(execFile);
const k = kube();
const id = uniqueName('img');
const ns = `${id}-apps`;
const opNs = `${id}-system`;

const stages = parseDockerfile(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
const runtime = stages.at(-1) as Stage;
/** The runtime stage's COPY --from lines, each with the stage it copies from. */
const stageCopies = copies(runtime).map((c) => ({ ...c, stage: stages.find((s) => s.name === c.from) as Stage }));
const buildStage = stageCopies.find((c) => c.sources.some((src) => src.endsWith('/dist/src')))?.stage as Stage;

let tmp: string;
let spec: ImageSpec;
let app: string; // the image's WORKDIR, in its rootfs
/** Fresh runs (no cache) of the stages the runtime stage copies from, by stage name. */
const fresh = new Map<string, string>();
let identity: OperatorIdentity | undefined;

/** The ENTRYPOINT with this machine's node in place of the image's (the image's own node runs in image-container.test.ts). */
function entry(): { cmd: string; args: string[] } {
  const [node, ...rest] = spec.config.Entrypoint ?? [];
  expect(node).toBe('/nodejs/bin/node');
  return { cmd: process.execPath, args: rest.map((a) => (a.startsWith('/') && existsSync(join(spec.rootfs, a)) ? join(spec.rootfs, a) : a)) };
}

/** A clean environment: nothing may reach tsx or the repository's node_modules. */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: app, NODE_ENV: 'production', ...extra };
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'secretsync-image-'));
  const log = (m: string) => process.stderr.write(`[image] ${m}\n`);
  const wanted = [...new Set(stageCopies.map((c) => c.stage))];
  [spec] = await Promise.all([
    assembleRootfs(join(tmp, 'rootfs'), { log }),
    ...wanted.map(async (stage) => {
      const dir = join(tmp, `fresh-${stage.name}`);
      await runStage(stage, dir, repoRoot);
      fresh.set(stage.name ?? '', dir);
    }),
  ]);
  app = join(spec.rootfs, spec.config.WorkingDir ?? '/');
  // Node resolves packages up the tree: no node_modules above the image's may help it.
  for (let d = dirname(app); d !== dirname(d); d = dirname(d)) expect(existsSync(join(d, 'node_modules'))).toBe(false);
}, 300_000);

afterAll(async () => {
  await deleteSyncs(k.custom, ns).catch(() => undefined);
  await identity?.release();
  await deleteNamespace(k.core, ns);
  await deleteNamespace(k.core, opNs);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test("the image's config is the Dockerfile's runtime stage over its distroless base's", () => {
  expect(runtime.from).toMatch(distrolessBase);
  const one = (op: string) => {
    const all = each(runtime, op);
    expect(all).toHaveLength(1);
    return all[0] as string;
  };
  expect(spec.config.Entrypoint).toEqual(JSON.parse(one('ENTRYPOINT')));
  expect(spec.config.Cmd).toEqual(JSON.parse(one('CMD')));
  expect(spec.config.User).toBe(one('USER'));
  expect(spec.config.WorkingDir).toBe(one('WORKDIR'));
  expect(spec.config.Env).toEqual([...(distrolessConfig.Env ?? []), ...one('ENV').split(/\s+/)]);
  expect(spec.config.ExposedPorts).toEqual(Object.fromEntries(one('EXPOSE').split(/\s+/).map((p) => [`${p}/tcp`, {}])));
});

test('the Dockerfile runs bin/secretsync of package.json as its ENTRYPOINT, as a non-root user', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  expect(spec.config.Entrypoint?.at(-1)).toBe(posix.join(spec.config.WorkingDir ?? '/', pkg.bin.secretsync ?? ''));
  expect(spec.config.User).not.toMatch(/^(root|0)(:|$)/);
  // The webhook's agent containers run as 65532 with this image (AGENT_UID).
  expect(spec.config.User).toBe('65532:65532');
});

test("the image's name is the chart's default image: helm install needs no image values", async () => {
  expect(operatorContainer(await template('secretsync', 'secretsync')).image).toBe(spec.name);
});

test('.dockerignore lets in what the build stage copies, and no more', () => {
  const lines = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  expect(lines[0]).toBe('*');
  const allowed = lines.slice(1).map((l) => l.replace(/^!/, '').replace(/\/$/, ''));
  const buildSources = copies(buildStage).filter((c) => !c.from).flatMap((c) => c.sources);
  expect(new Set(allowed)).toEqual(new Set(buildSources));
});

test("/app holds exactly what fresh runs of the build stage and the production install produce", () => {
  // Nothing beside the copies: the entries of /app outside them are the copies and their parent folders.
  const dests = stageCopies.map((c) => posix.relative(spec.config.WorkingDir ?? '/', posix.resolve(spec.config.WorkingDir ?? '/', c.dest)));
  const outside = readdirSync(app, { recursive: true, encoding: 'utf8' }).filter((f) => !dests.some((d) => f.startsWith(`${d}/`)));
  expect(new Set(outside)).toEqual(new Set(dests.flatMap((d) => d.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/')))));
  for (const c of stageCopies) {
    for (const src of c.sources) {
      const from = join(fresh.get(c.stage.name ?? '') ?? '', relative(workdir(c.stage), src));
      const to = join(spec.rootfs, posix.resolve(spec.config.WorkingDir ?? '/', c.dest));
      expect(lstatSync(from).isDirectory() ? contents(to) : readFileSync(to, 'utf8')).toEqual(lstatSync(from).isDirectory() ? contents(from) : readFileSync(from, 'utf8'));
    }
  }
  const dist = readdirSync(join(app, 'dist', 'src'), { recursive: true, encoding: 'utf8' });
  expect(dist.filter((f) => f.endsWith('.d.ts'))).toEqual([]); // the build stage leaves no type declarations
  expect(dist).toContain('cli.js');
});

test("the image's ENTRYPOINT --version prints package.json's version, read from the image's own /app/package.json", async () => {
  const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const { cmd, args } = entry();
  const { stdout } = await run(cmd, [...args, '--version'], { cwd: app, env: env() });
  expect(stdout).toBe(`secretsync ${version}\n`);
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

test("the operator from the image's /app syncs a SecretSync, reports ready, and exits 0 on SIGTERM", async () => {
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
