// --webhook-addr parsing, and SECRETSYNC_TEST_FAULT values (the crash-safety tests' hooks).
import { createLogger } from '../../../src/observability/logger.js';
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
