// Starting and stopping the stack's processes. Each runs detached in its own process
// group (so `make testenv-up` can return while they keep running), logs to a file, and
// is stopped by group: SIGTERM, then SIGKILL after a grace period.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  logFile: string;
}

export interface RunningProcess {
  name: string;
  pid: number;
  /** Executable path, used to check that a pid from a state file is still ours. */
  command: string;
  logFile: string;
}

export function startProcess(spec: ProcessSpec): RunningProcess {
  const fd = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.name} (${spec.command})`);
    child.unref();
    return { name: spec.name, pid: child.pid, command: spec.command, logFile: spec.logFile };
  } finally {
    closeSync(fd);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when pid is alive and (where /proc exists) still runs the command we started. */
export function isOurs(p: RunningProcess): boolean {
  if (!isAlive(p.pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8');
    return cmdline.includes(p.command.split('/').pop() ?? p.command);
  } catch {
    return true; // no /proc (macOS): trust the pid
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig); // the whole group: wrappers and their children
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function stopProcess(p: RunningProcess, graceMs = 10_000): Promise<void> {
  if (!isOurs(p) && !groupAlive(p.pid)) return;
  signalGroup(p.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!groupAlive(p.pid)) return;
    await sleep(100);
  }
  signalGroup(p.pid, 'SIGKILL');
  while (groupAlive(p.pid)) await sleep(50);
}

/** Last lines of a log, for error messages when a process fails to become healthy. */
export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Polls `check` until it resolves true. Fails fast if the process died, with the
 * log's tail in the message, and after `timeoutMs` with the last check error.
 */
export async function waitHealthy(
  p: RunningProcess,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'not ready';
  while (Date.now() < deadline) {
    if (!isAlive(p.pid)) {
      throw new Error(`${p.name} exited during start-up. Last lines of ${p.logFile}:\n${tail(p.logFile)}`);
    }
    try {
      if (await check()) return;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(250);
  }
  throw new Error(`${p.name} not healthy after ${timeoutMs / 1000}s (${last}). Last lines of ${p.logFile}:\n${tail(p.logFile)}`);
}
