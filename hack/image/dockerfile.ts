// The Dockerfile read as data: its stages, what a stage copies and runs, and the runtime
// stage's image config. rootfs.ts assembles the image from these and the image test
// compares against them, so neither keeps a second copy of the recipe that could drift.
import type { ImageSpec } from '../../test/testenv/image-archive.js';

type ImageConfig = ImageSpec['config'];

export interface Stage {
  /** The base image with the Dockerfile's ARG defaults filled in. */
  from: string;
  /** `AS <name>`, if any. */
  name?: string;
  /** The instructions after FROM, continuation lines joined. */
  lines: string[];
}

/** One instruction: its keyword (upper case) and the rest of the line. */
export function instruction(line: string): { op: string; rest: string } {
  const m = /^(\S+)\s*(.*)$/.exec(line) ?? ['', '', ''];
  return { op: (m[1] ?? '').toUpperCase(), rest: m[2] ?? '' };
}

export function parseDockerfile(text: string): Stage[] {
  const args: Record<string, string> = {};
  const out: Stage[] = [];
  for (const line of text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim())) {
    if (!line || line.startsWith('#')) continue;
    const { op, rest } = instruction(line);
    if (op === 'ARG' && out.length === 0) {
      const [k, v] = rest.split('=', 2);
      if (k && v !== undefined) args[k] = v;
    } else if (op === 'FROM') {
      const [image = '', as, name] = rest.split(/\s+/);
      const from = image.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a?: string, b?: string) => args[a ?? b ?? ''] ?? '');
      out.push({ from, ...(as?.toUpperCase() === 'AS' && name ? { name } : {}), lines: [] });
    } else {
      out.at(-1)?.lines.push(line);
    }
  }
  return out;
}

/** The rest of every `op` line of a stage. */
export function each(stage: Stage, op: string): string[] {
  return stage.lines.map(instruction).filter((i) => i.op === op).map((i) => i.rest);
}

/** WORKDIR `w` taken from `dir`: absolute, or relative to it. */
function cd(dir: string, w: string): string {
  return w.startsWith('/') ? w : `${dir.replace(/\/$/, '')}/${w}`;
}

/** The stage's working directory after its last WORKDIR ('/' without one). */
export function workdir(stage: Stage): string {
  return each(stage, 'WORKDIR').reduce(cd, '/');
}

export interface Copy {
  /** `--from=<stage>`, or undefined for the build context. */
  from?: string;
  sources: string[];
  dest: string;
}

export function copies(stage: Stage): Copy[] {
  return each(stage, 'COPY').map((rest) => {
    const words = rest.split(/\s+/);
    const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
    const paths = words.filter((w) => !w.startsWith('--'));
    return { ...(from ? { from } : {}), sources: paths.slice(0, -1), dest: paths.at(-1) ?? '' };
  });
}

/** `KEY=value` pairs of an ENV line (the old `ENV KEY value` form too); double quotes allowed. */
export function envPairs(rest: string): string[] {
  if (!/^[^\s=]+=/.test(rest)) {
    const [k = '', ...v] = rest.split(/\s+/);
    return [`${k}=${v.join(' ')}`];
  }
  return [...rest.matchAll(/([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)/g)].map(([, k, v = '']) => `${k}=${v.startsWith('"') ? (JSON.parse(v) as string) : v}`);
}

function execForm(rest: string, op: string): string[] {
  if (!rest.startsWith('[')) throw new Error(`Dockerfile: ${op} ${rest}: only the exec (JSON) form is supported`);
  return JSON.parse(rest) as string[];
}

/**
 * The runtime (last) stage's config laid over its base image's: ENV adds to the base's
 * variables (a name set again replaces its value), ENTRYPOINT drops the base's CMD.
 */
export function runtimeConfig(stages: Stage[], base: ImageConfig): ImageConfig {
  const stage = stages.at(-1);
  if (!stage) throw new Error('Dockerfile: no FROM');
  const cfg: ImageConfig = { ...base, Env: [...(base.Env ?? [])], ExposedPorts: { ...(base.ExposedPorts ?? {}) } };
  for (const { op, rest } of stage.lines.map(instruction)) {
    if (op === 'WORKDIR') cfg.WorkingDir = cd(cfg.WorkingDir ?? '/', rest);
    else if (op === 'USER') cfg.User = rest;
    else if (op === 'ENV') {
      for (const pair of envPairs(rest)) {
        const name = pair.slice(0, pair.indexOf('='));
        cfg.Env = [...(cfg.Env ?? []).filter((e) => !e.startsWith(`${name}=`)), pair];
      }
    } else if (op === 'EXPOSE') {
      for (const p of rest.split(/\s+/)) cfg.ExposedPorts = { ...cfg.ExposedPorts, [p.includes('/') ? p : `${p}/tcp`]: {} };
    } else if (op === 'ENTRYPOINT') {
      cfg.Entrypoint = execForm(rest, op);
      delete cfg.Cmd;
    } else if (op === 'CMD') cfg.Cmd = execForm(rest, op);
  }
  return cfg;
}
