// A build stage of the Dockerfile done here, without an engine: what it COPYs from the
// context into a folder standing for its WORKDIR, then its RUN lines there. The stage's
// dev install (`npm ci` without --omit=dev) is the checkout's node_modules, installed from
// the same lockfile, linked rather than installed again. The result is cached under a key
// of the stage's lines and the files it copies, so an unchanged source costs nothing.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { each, envPairs, instruction, type Stage } from './dockerfile.js';

const run = promisify(execFile);

/** The production install is the `npm ci` with --omit=dev; any other `npm ci` is the dev one. */
const isDevInstall = (rest: string) => /^npm ci\b/.test(rest) && !/--omit=dev\b/.test(rest);

/** Where a COPY from the context puts `src` under the stage's folder `dir`. */
function destination(dir: string, src: string, dest: string, many: boolean): string {
  return many || dest.endsWith('/') ? join(dir, dest, basename(src)) : join(dir, dest);
}

/** Does the stage in `dir` (empty or absent), taking COPY sources from `context`. */
export async function runStage(stage: Stage, dir: string, context: string): Promise<void> {
  if (each(stage, 'WORKDIR').length > 1) throw new Error(`stage ${stage.name}: more than one WORKDIR is not supported here`);
  mkdirSync(dir, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env };
  let linked = false;
  try {
    for (const { op, rest } of stage.lines.map(instruction)) {
      if (op === 'WORKDIR' || op === 'ARG') continue;
      if (op === 'ENV') {
        for (const pair of envPairs(rest)) env[pair.slice(0, pair.indexOf('='))] = pair.slice(pair.indexOf('=') + 1);
      } else if (op === 'COPY' && !rest.includes('--from=')) {
        const [dest = '', ...sources] = rest.split(/\s+/).reverse();
        for (const src of sources.reverse()) cpSync(join(context, src), destination(dir, src, dest, sources.length > 1), { recursive: true });
      } else if (op === 'RUN' && isDevInstall(rest)) {
        symlinkSync(join(context, 'node_modules'), join(dir, 'node_modules'));
        linked = true;
      } else if (op === 'RUN') {
        // --prefer-offline: from the npm cache when it has the packages (an image build has none).
        const line = /^npm ci\b/.test(rest) ? `${rest} --prefer-offline` : rest;
        await run('bash', ['-c', line], { cwd: dir, env, maxBuffer: 16 * 1024 * 1024 }).catch((err: Error & { stderr?: string }) => {
          throw new Error(`stage ${stage.name}: RUN ${line} failed: ${err.message}\n${err.stderr ?? ''}`);
        });
      } else {
        throw new Error(`stage ${stage.name}: ${op} ${rest}: not supported here`);
      }
    }
  } finally {
    if (linked) unlinkSync(join(dir, 'node_modules'));
  }
}

/** Every file below `path` (or `path` itself), in a stable order. */
function files(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((f) => join(path, f))
    .filter((f) => statSync(f).isFile());
}

/** A key for the stage's outcome: its base, its lines and every file it copies from the context. */
export function stageKey(stage: Stage, context: string): string {
  const h = createHash('sha256').update(stage.from).update('\0').update(stage.lines.join('\n'));
  for (const rest of each(stage, 'COPY').filter((r) => !r.includes('--from='))) {
    for (const src of rest.split(/\s+/).slice(0, -1)) {
      for (const f of files(join(context, src))) h.update('\0').update(f.slice(context.length)).update('\0').update(readFileSync(f));
    }
  }
  return h.digest('hex').slice(0, 16);
}

/** Puts `tmp` at `dir` unless a concurrent run got there first (then its result stands and `tmp` goes). */
export function settle(tmp: string, dir: string): void {
  try {
    renameSync(tmp, dir);
  } catch (err) {
    if (!existsSync(dir)) throw err;
    rmSync(tmp, { recursive: true, force: true });
  }
}

const DAY = 24 * 3600 * 1000;

/**
 * The stage's folder, from the cache or done now. A hit touches the folder; a stage's
 * folders unused for a day go (several checkouts share the cache, each with its own key).
 */
export async function cachedStage(stage: Stage, cache: string, context: string, log: (m: string) => void): Promise<string> {
  const name = stage.name ?? 'unnamed';
  const dir = join(cache, `stage-${name}-${stageKey(stage, context)}`);
  if (existsSync(dir)) {
    utimesSync(dir, new Date(), new Date());
    return dir;
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const t0 = Date.now();
  try {
    await runStage(stage, tmp, context);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  settle(tmp, dir);
  log(`stage ${name}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  for (const d of readdirSync(cache).filter((d) => d.startsWith(`stage-${name}-`) && join(cache, d) !== dir)) {
    if (Date.now() - statSync(join(cache, d)).mtimeMs > DAY) rmSync(join(cache, d), { recursive: true, force: true });
  }
  return dir;
}
