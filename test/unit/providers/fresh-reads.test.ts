// The fresh-enough read cache on a fake clock: who shares a read (by when it started),
// that a failed read is never served again, expiry, the size cap and invalidation.
import { FreshReads } from '../../../src/providers/fresh-reads.js';
import { FakeClock, flushPromises } from '../../../src/runtime/testing/fake-clock.js';
import { rejection } from '../../helpers/rejection.js';

function setup(o: { ttlMs?: number; maxEntries?: number } = {}) {
  const clock = new FakeClock(1_000_000);
  const cache = new FreshReads<string>({ clock, ...o });
  let n = 0;
  const starts: string[] = [];
  const load = (key: string) => () => {
    starts.push(key);
    return Promise.resolve(`${key}#${++n}`);
  };
  return { clock, cache, starts, load };
}

test('a read that started at or after notBefore is shared, in flight and after it settled', async () => {
  const { clock, cache, starts, load } = setup();
  const t = clock.now();
  const a = cache.get('k', t, load('k'));
  const b = cache.get('k', t, load('k')); // in flight
  expect(await a).toBe('k#1');
  expect(await b).toBe('k#1');
  await clock.advance(5_000);
  expect(await cache.get('k', t, load('k'))).toBe('k#1'); // settled, still fresh enough
  expect(await cache.get('k', t - 60_000, load('k'))).toBe('k#1');
  expect(starts).toEqual(['k']);
});

test('a read that started before notBefore is not shared: a new one starts and replaces it', async () => {
  const { clock, cache, starts, load } = setup();
  await cache.get('k', clock.now(), load('k'));
  await clock.advance(1);
  expect(await cache.get('k', clock.now(), load('k'))).toBe('k#2');
  expect(await cache.get('k', clock.now(), load('k'))).toBe('k#2');
  expect(starts).toEqual(['k', 'k']);
});

test('a notBefore in the future starts a read now, which later callers with that notBefore do not share', async () => {
  const { clock, cache, load } = setup();
  const later = clock.now() + 1_000;
  expect(await cache.get('k', later, load('k'))).toBe('k#1');
  expect(await cache.get('k', later, load('k'))).toBe('k#2');
});

test('keys are independent', async () => {
  const { clock, cache, starts, load } = setup();
  await Promise.all([cache.get('a', clock.now(), load('a')), cache.get('b', clock.now(), load('b'))]);
  expect(starts).toEqual(['a', 'b']);
});

test('a failed read reaches only the callers sharing it in flight; the next caller reads again', async () => {
  const { clock, cache } = setup();
  let fail = true;
  let loads = 0;
  const load = () => {
    loads++;
    return fail ? Promise.reject(new Error('unavailable')) : Promise.resolve('ok');
  };
  const t = clock.now();
  const a = cache.get('k', t, load);
  const b = cache.get('k', t, load);
  expect((await rejection(a)).message).toBe('unavailable');
  expect((await rejection(b)).message).toBe('unavailable');
  expect(loads).toBe(1);
  expect(cache.size()).toBe(0);
  fail = false;
  expect(await cache.get('k', t, load)).toBe('ok');
  expect(loads).toBe(2);
});

test('a load that throws at once is a rejection and records nothing', async () => {
  const { clock, cache } = setup();
  const err = await rejection(
    cache.get('k', clock.now(), () => {
      throw new Error('invalid path');
    }),
  );
  expect(err.message).toBe('invalid path');
  expect(cache.size()).toBe(0);
});

test('entries expire ttl after their read started, and are swept without timers', async () => {
  const { clock, cache, starts, load } = setup({ ttlMs: 10_000 });
  const t = clock.now();
  await cache.get('k', t, load('k'));
  await clock.advance(9_999);
  expect(await cache.get('k', t, load('k'))).toBe('k#1');
  await clock.advance(1);
  expect(await cache.get('k', t, load('k'))).toBe('k#2'); // expired, even for an old notBefore
  expect(starts).toEqual(['k', 'k']);
  await cache.get('other', t, load('other'));
  await clock.advance(10_000);
  await cache.get('fresh', clock.now(), load('fresh'));
  expect(cache.size()).toBe(1);
  expect(clock.pendingTimers()).toBe(0);
});

test('past maxEntries the oldest read is dropped', async () => {
  const { clock, cache, load } = setup({ maxEntries: 2 });
  const t = clock.now();
  await cache.get('a', t, load('a'));
  await cache.get('b', t, load('b'));
  await cache.get('c', t, load('c'));
  expect(cache.size()).toBe(2);
  expect(await cache.get('b', t, load('b'))).toBe('b#2');
  expect(await cache.get('a', t, load('a'))).toBe('a#4'); // a was dropped
});

test('invalidate, invalidateWhere and clear make the next caller read again', async () => {
  const { clock, cache, load } = setup();
  const t = clock.now();
  await Promise.all(['a', 'a?version=1', 'b'].map((k) => cache.get(k, t, load(k))));
  cache.invalidate('b');
  expect(await cache.get('b', t, load('b'))).toBe('b#4');
  cache.invalidateWhere((k) => k === 'a' || k.startsWith('a?'));
  expect(await cache.get('a', t, load('a'))).toBe('a#5');
  expect(await cache.get('a?version=1', t, load('a?version=1'))).toBe('a?version=1#6');
  cache.clear();
  expect(cache.size()).toBe(0);
});

test('a read in flight when it is invalidated still answers its callers, and is not put back when it settles', async () => {
  const { clock, cache } = setup();
  let resolve!: (v: string) => void;
  const first = cache.get('k', clock.now(), () => new Promise<string>((r) => (resolve = r)));
  cache.invalidate('k');
  resolve('old');
  expect(await first).toBe('old');
  await flushPromises();
  expect(await cache.get('k', clock.now(), () => Promise.resolve('new'))).toBe('new');
});
