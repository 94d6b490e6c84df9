// Keeps what the suite's processes and servers said, for the suite-wide leak scan
// (test/helpers/leak-scan.ts): every operator's and agent's output as it is written, every
// answer an operator's webhook sent (written by the operator itself), and what each test
// file left in the cluster and /metrics at its end. Files go under
// SECRETSYNC_LEAK_DIR (the integration global setup makes one per Jest run); without it
// (unit tests, a file run outside the suite) nothing is kept.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { format } from 'node:util';

export const LEAK_DIR_ENV = 'SECRETSYNC_LEAK_DIR';

let seq = 0;

/** `<kind>/<test file>-<pid>-<n>-<what>` under the leak directory, or undefined without one. */
function placeFile(kind: string, what: string): string | undefined {
  const dir = process.env[LEAK_DIR_ENV];
  if (!dir) return undefined;
  mkdirSync(join(dir, kind), { recursive: true });
  const testPath = (globalThis as { expect?: { getState(): { testPath?: string } } }).expect?.getState().testPath;
  const file = testPath ? basename(testPath, '.test.ts') : 'no-test-file';
  return join(dir, kind, `${file}-${process.pid}-${++seq}-${what.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 80)}.txt`);
}

/** An append-only record of one process's output (operator or agent), written as it comes. */
export function recordStream(kind: 'operator' | 'agent' | 'console', what: string = kind): (chunk: Buffer | string) => void {
  const file = placeFile(kind, what);
  if (!file) return () => undefined;
  writeFileSync(file, '');
  return (chunk) => appendFileSync(file, chunk);
}

/**
 * A file of the leak directory for a process of the suite to write itself (an operator's
 * record of its webhook answers, SECRETSYNC_TEST_ADMISSION_RECORD), created empty; undefined
 * without a leak directory.
 */
export function recordFile(kind: 'admission', what: string): string | undefined {
  const file = placeFile(kind, what);
  if (file) writeFileSync(file, '');
  return file;
}

/** The leak directory's list of registered values (bookkeeping: not a place, never scanned itself). */
export const REGISTERED_VALUES_FILE = '_registered-values';

/**
 * Makes the suite-wide scan look for `value` too (in every form, everywhere), when a test
 * has a secret value it could not make with canary(): one the operator generated (a
 * rotation), or a literal a known-answer test needs. At least 6 bytes; nothing without a
 * leak directory.
 */
export function registerValue(value: string): void {
  const dir = process.env[LEAK_DIR_ENV];
  if (Buffer.byteLength(value) < 6) throw new Error('registerValue: a value under 6 bytes would match by chance');
  if (dir) appendFileSync(join(dir, REGISTERED_VALUES_FILE), `${JSON.stringify(value)}\n`, { mode: 0o600 });
}

/** Adds `ms` spent on keeping places to the run's total (`_cost-ms`, not a place), read by the reporter. */
export function recordCost(ms: number): void {
  const dir = process.env[LEAK_DIR_ENV];
  if (dir) appendFileSync(join(dir, '_cost-ms'), `${Math.round(ms)}\n`);
}

/** One place's text (a /metrics scrape, the cluster's events...), written whole. */
export function recordPlace(kind: string, what: string, text: string): void {
  const file = placeFile(kind, what);
  if (file) writeFileSync(file, text);
}

/**
 * Keeps everything the test file prints with console.* (the reporter sees a file's console
 * only when Jest buffers it, not in verbose runs of a single file).
 */
export function recordConsole(): void {
  const record = recordStream('console');
  for (const m of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[m].bind(console);
    console[m] = (...args: unknown[]) => {
      record(`${format(...args)}\n`);
      original(...args);
    };
  }
}
