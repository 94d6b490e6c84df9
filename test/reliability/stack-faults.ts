// Faults on the reliability stack's own processes (global-setup.js starts it in
// .testenv-reliability/): pause and resume (SIGSTOP/SIGCONT of the process group, so
// connections hang instead of failing), stop and start again with the same command line,
// environment and port (its state.json updated, so teardown stops the new process), and an
// etcd compaction. Never used on the shared stack: other test files would see the faults.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from '../testenv/config.js';
import { http } from '../testenv/http.js';
import { readState, type TestenvState } from '../testenv/index.js';
import { isAlive, startProcess, stopProcess, type RunningProcess } from '../testenv/process.js';
import { eventually } from '../helpers/eventually.js';

export type Component = 'etcd' | 'kube-apiserver' | 'openbao' | 'moto';

export function reliabilityDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.SECRETSYNC_RELIABILITY_DIR ? resolve(env.SECRETSYNC_RELIABILITY_DIR) : join(repoRoot, '.testenv-reliability');
}

function state(dir = reliabilityDir()): TestenvState {
  const s = readState(dir);
  if (!s) throw new Error(`no reliability stack in ${dir}: run under project reliability (make test-reliability)`);
  return s;
}

function proc(name: Component, dir = reliabilityDir()): RunningProcess {
  const p = state(dir).processes.find((x) => x.name === name);
  if (!p) throw new Error(`the reliability stack has no ${name}`);
  return p;
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    process.kill(pid, sig);
  }
}

/** SIGSTOP: the process keeps its sockets open and answers nothing. */
export function pause(name: Component): void {
  signalGroup(proc(name).pid, 'SIGSTOP');
}

export function resume(name: Component): void {
  signalGroup(proc(name).pid, 'SIGCONT');
}

/** Teardown: nothing of the stack may stay stopped (a stopped process ignores SIGTERM). */
export function resumeAll(dir: string): void {
  for (const p of readState(dir)?.processes ?? []) {
    try {
      signalGroup(p.pid, 'SIGCONT');
    } catch {
      /* gone */
    }
  }
}

export interface Stopped {
  name: Component;
  argv: string[];
  env: NodeJS.ProcessEnv;
  was: RunningProcess;
}

/** Stops `name` (SIGTERM to its group, SIGKILL after `graceMs`), remembering how to start it again. */
export async function stop(name: Component, graceMs = 10_000): Promise<Stopped> {
  const p = proc(name);
  const argv = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  const env = Object.fromEntries(
    readFileSync(`/proc/${p.pid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  await stopProcess(p, graceMs);
  return { name, argv, env, was: p };
}

/** Starts a stopped component again as it ran, and waits until `healthy` says so. */
export async function start(s: Stopped, healthy: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const [cmd, ...args] = s.argv;
  if (!cmd) throw new Error(`${s.name}: no command line recorded`);
  const started = startProcess({ name: s.name, command: cmd, args, env: s.env, logFile: s.was.logFile });
  // Recorded under the command it was started as (isOurs looks for it in the command line).
  const now: RunningProcess = { ...started, command: s.was.command };
  const dir = reliabilityDir();
  const st = state(dir);
  st.processes = st.processes.map((x) => (x.name === s.name ? now : x));
  writeFileSync(join(dir, 'state.json'), JSON.stringify(st, null, 2));
  await eventually(
    async () => {
      if (!isAlive(now.pid)) throw new Error(`${s.name} exited after its restart (log: ${s.was.logFile})`);
      return (await healthy().catch(() => false)) ? true : undefined;
    },
    { timeoutMs, intervalMs: 250, what: `${s.name} healthy again` },
  );
}

const b64 = (t: string) => Buffer.from(t).toString('base64');

/** Compacts etcd's history up to its current revision: watches from any older resourceVersion get 410 Gone. */
export async function compactEtcd(): Promise<number> {
  const etcd = state().env.SECRETSYNC_TESTENV_ETCD;
  if (!etcd) throw new Error('the reliability stack has no etcd of its own');
  const range = await http(`${etcd}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: b64('/registry/'), limit: 1 }) });
  const revision = Number((JSON.parse(range.body) as { header: { revision: string } }).header.revision);
  const r = await http(`${etcd}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision, physical: true }) });
  if (r.status !== 200) throw new Error(`etcd compaction answered HTTP ${r.status}`);
  return revision;
}
