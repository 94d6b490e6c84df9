// --webhook-addr parsing, SECRETSYNC_TEST_FAULT values (the crash-safety tests' hooks) and
// the SECRETSYNC_TEST_ADMISSION_RECORD file (the leak scan's record of webhook answers).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../src/observability/logger.js';
import { admissionRecorder } from '../../../src/wiring/test-admission-record.js';
import { testFaults } from '../../../src/wiring/test-faults.js';
import { splitHostPort } from '../../../src/wiring/webhook.js';

test('--webhook-addr: HOST:PORT or :PORT', () => {
  expect(splitHostPort(':9443')).toEqual([undefined, 9443]);
  expect(splitHostPort('127.0.0.1:8443')).toEqual(['127.0.0.1', 8443]);
  expect(splitHostPort('[::1]:8443')).toEqual(['[::1]', 8443]);
  for (const bad of ['9443', ':x', ':70000']) expect(() => splitHostPort(bad)).toThrow(/--webhook-addr must be HOST:PORT or :PORT/);
});

test('test faults: none unless set; the four known ones; anything else refused', async () => {
  const log = createLogger({ level: 'silent' });
  expect(testFaults(undefined, log)).toEqual({});
  expect(testFaults('', log)).toEqual({});
  expect(Object.keys(testFaults('exit-after-rotation-write', log).faults ?? {})).toEqual(['afterRotationWrite']);
  expect(Object.keys(testFaults('wait-before-rotation-write:/tmp/x', log).faults ?? {})).toEqual(['beforeRotationWrite']);
  // exit-before-rollout-patch wraps the writer: every other write goes through to it.
  const calls: string[] = [];
  const inner = new Proxy({}, { get: (_t, m) => (...a: unknown[]) => calls.push(`${String(m)} ${a.length}`) }) as never;
  const wrapped = testFaults('exit-before-rollout-patch', log).writer?.(inner);
  void wrapped?.patchSecret('ns', 'name', {} as never);
  expect(calls).toEqual(['patchSecret 3']);
  // oom-after-secret-write:<name> hogs memory after the patch of that Secret only, once it is written.
  const hogs: string[] = [];
  const oom = testFaults('oom-after-secret-write:big', log, () => hogs.push(`hog after ${calls.length} calls`)).writer?.(inner);
  await oom?.patchSecret('ns', 'small', {} as never);
  expect(hogs).toEqual([]);
  await oom?.patchSecret('ns', 'big', {} as never);
  expect(hogs).toEqual(['hog after 3 calls']);
  expect(() => testFaults('oom-after-secret-write:', log)).toThrow(/is not a known fault/);
  expect(() => testFaults('wait-before-rotation-write:', log)).toThrow(/is not a known fault/);
  expect(() => testFaults('explode', log)).toThrow(/is not a known fault/);
});

test('admission record: none unless a file is named; then one line per answer, appended', () => {
  const log = createLogger({ level: 'silent' });
  expect(admissionRecorder(undefined, log)).toBeUndefined();
  expect(admissionRecorder('', log)).toBeUndefined();
  const dir = mkdtempSync(join(tmpdir(), 'admission-record-'));
  try {
    const record = admissionRecorder(join(dir, 'answers.jsonl'), log);
    record?.('{"a":1}');
    record?.('{"b":2}');
    expect(readFileSync(join(dir, 'answers.jsonl'), 'utf8')).toBe('{"a":1}\n{"b":2}\n');
    // A file that cannot be written is a warning, never a failed admission.
    expect(() => admissionRecorder(join(dir, 'no', 'such', 'dir'), log)?.('{}')).not.toThrow();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
