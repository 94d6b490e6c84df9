// Runs `secretsync operator` as a real child process (the way users run it), collecting
// its JSON log lines so tests can wait for them and assert that no secret was logged.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../testenv/ports.js';
import { repoRoot } from '../testenv/config.js';

export interface RunningOperator {
  proc: ChildProcess;
  logs: string[];
  metricsPort: number;
  healthPort: number;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts the operator with `args` after the test defaults (metrics/health ports, debug
 * logs, and --insecure-allow-http because the local stack's OpenBao and moto are plain
 * http; `{ insecureAllowHttp: false }` leaves that flag out).
 */
export async function startOperator(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  opts: { insecureAllowHttp?: boolean } = {},
): Promise<RunningOperator> {
  const metricsPort = await freePort();
  const healthPort = await freePort();
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'src', 'cli.ts'),
      'operator',
      `--metrics-addr=127.0.0.1:${metricsPort}`,
      `--health-addr=127.0.0.1:${healthPort}`,
      '--log-level=debug',
      ...(opts.insecureAllowHttp === false ? [] : ['--insecure-allow-http']),
      ...args,
    ],
    { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: string[] = [];
  const collect = (chunk: Buffer) => logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
  proc.stdout?.on('data', collect);
  proc.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    logs,
    metricsPort,
    healthPort,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

export async function getText(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text() };
}
