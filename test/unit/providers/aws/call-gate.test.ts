// The per-source gate on a fake clock: a concurrency limit, a token bucket, retries of
// retryable failures with jittered exponential backoff, one onCall per request sent,
// and close() failing whatever waits.
import { SourceAuthError, SourceUnavailableError } from '../../../../src/errors.js';
import { CallGate, retryDelayMs, type CallGateOptions } from '../../../../src/providers/aws/call-gate.js';
import { FakeClock } from '../../../../src/runtime/testing/fake-clock.js';

const retryable = (err: unknown) => (err as Error).message === 'throttled';

function setup(o: Partial<CallGateOptions> = {}) {
  const clock = new FakeClock(0);
  const calls: string[] = [];
  const gate = new CallGate({
    source: 'SecretSource/ns/src',
    concurrency: 2,
    qps: 1000,
    burst: 1000,
    retry: { attempts: 3, baseMs: 100, maxMs: 1000 },
    clock,
    random: () => 0.5,
    onCall: (op, result) => calls.push(`${op}:${result}`),
    ...o,
  });
  return { clock, calls, gate };
}

test('backoff doubles per attempt up to the cap, half of it jittered', () => {
  const p = { attempts: 5, baseMs: 100, maxMs: 1000 };
  expect([0, 1, 2, 3, 4].map((a) => retryDelayMs(a, p, () => 0))).toEqual([50, 100, 200, 400, 500]);
  expect([0, 1, 2, 3, 4].map((a) => retryDelayMs(a, p, () => 0.999999))).toEqual([100, 200, 400, 800, 1000]);
});

test('at most `concurrency` calls run at once; the next starts when one ends', async () => {
  const { clock, gate } = setup();
  let running = 0;
  let peak = 0;
  const releases: (() => void)[] = [];
  const work = () =>
    new Promise<string>((resolve) => {
      running++;
      peak = Math.max(peak, running);
      releases.push(() => {
        running--;
        resolve('ok');
      });
    });
  const all = Promise.all(Array.from({ length: 5 }, () => gate.run('Get', work, { isRetryable: retryable })));
  await clock.flush();
  expect(running).toBe(2);
  while (releases.length) {
    releases.shift()?.();
    await clock.flush();
  }
  await all;
  expect(peak).toBe(2);
});

test('the token bucket spaces calls beyond the burst', async () => {
  const { clock, gate } = setup({ qps: 10, burst: 2, concurrency: 10 });
  const at: number[] = [];
  const all = Promise.all(Array.from({ length: 4 }, () => gate.run('Get', async () => at.push(clock.now()), { isRetryable: retryable })));
  await clock.advance(1000);
  await all;
  expect(at).toEqual([0, 0, 100, 200]);
});

test('retryable failures are retried after a backoff, each attempt counted', async () => {
  const { clock, calls, gate } = setup();
  let n = 0;
  const p = gate.run('BatchGetSecretValue', async () => {
    if (++n < 3) throw new Error('throttled');
    return 'ok';
  }, { isRetryable: retryable });
  await clock.advance(74); // first backoff: 50 + 0.5 * 50 = 75
  expect(n).toBe(1);
  await clock.advance(1);
  expect(n).toBe(2);
  await clock.advance(150);
  await expect(p).resolves.toBe('ok');
  expect(calls).toEqual(['BatchGetSecretValue:error', 'BatchGetSecretValue:error', 'BatchGetSecretValue:success']);
});

test('after the last attempt the failure is rethrown; non-retryable ones at once', async () => {
  const { clock, calls, gate } = setup();
  const p = gate.run('Get', async () => {
    throw new Error('throttled');
  }, { isRetryable: retryable });
  const settled = p.catch((e: Error) => e);
  await clock.advance(10_000);
  expect((await settled).message).toBe('throttled');
  expect(calls).toHaveLength(3);
  calls.length = 0;
  await expect(gate.run('Get', async () => {
    throw new Error('denied');
  }, { isRetryable: retryable })).rejects.toThrow('denied');
  expect(calls).toEqual(['Get:error']);
});

test('typed errors raised before a request leaves are not counted as calls', async () => {
  const { calls, gate } = setup();
  await expect(gate.run('Get', async () => {
    throw new SourceAuthError('reading the keys failed');
  }, { isRetryable: retryable })).rejects.toThrow(SourceAuthError);
  expect(calls).toEqual([]);
});

test('onSlot runs once, when the first attempt holds its slot', async () => {
  const { clock, gate } = setup({ concurrency: 1 });
  let block!: () => void;
  const first = gate.run('Get', () => new Promise<void>((r) => (block = r)), { isRetryable: retryable });
  const slots: number[] = [];
  let n = 0;
  const second = gate.run('Get', async () => {
    if (++n < 2) throw new Error('throttled');
  }, { isRetryable: retryable, onSlot: () => slots.push(n) });
  await clock.flush();
  expect(slots).toEqual([]); // still waiting for the slot
  block();
  await clock.advance(1000);
  await Promise.all([first, second]);
  expect(slots).toEqual([0]);
});

test('close() fails callers waiting for a slot or a backoff, and later calls', async () => {
  const { clock, gate } = setup({ concurrency: 1 });
  const hold = gate.run('Get', () => new Promise<void>(() => undefined), { isRetryable: retryable });
  void hold.catch(() => undefined);
  const waiting = gate.run('Get', async () => 'never', { isRetryable: retryable });
  await clock.flush();
  gate.close();
  await expect(waiting).rejects.toBeInstanceOf(SourceUnavailableError);
  await expect(gate.run('Get', async () => 'x', { isRetryable: retryable })).rejects.toThrow(/closed/);

  const other = setup();
  const backingOff = other.gate.run('Get', async () => {
    throw new Error('throttled');
  }, { isRetryable: retryable });
  await other.clock.flush();
  other.gate.close();
  await expect(backingOff).rejects.toThrow(/closed/);
});
