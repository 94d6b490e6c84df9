import { nextRefreshAfter, refreshDue } from '../../../src/secretsync/schedule.js';

const at = (s: string) => new Date(s);
const anchor = at('2026-03-01T10:00:00Z');

test('interval refreshes sit on a grid anchored at the last sync, with a fixed jitter', () => {
  const a = nextRefreshAfter({ interval: '1h' }, anchor, anchor, 'uid-1');
  const jitter = a.getTime() - at('2026-03-01T11:00:00Z').getTime();
  expect(jitter).toBeGreaterThanOrEqual(0);
  expect(jitter).toBeLessThan(30_000);
  // The same inputs give the same answer: a restart does not move the schedule.
  expect(nextRefreshAfter({ interval: '1h' }, anchor, anchor, 'uid-1')).toEqual(a);
  // Checked at 11:20: the next tick is 12:00 (+ the same jitter), not 12:20.
  const b = nextRefreshAfter({ interval: '1h' }, anchor, at('2026-03-01T11:20:00Z'), 'uid-1');
  expect(b.getTime()).toBe(at('2026-03-01T12:00:00Z').getTime() + jitter);
});

test('the default is one hour', () => {
  const n = nextRefreshAfter(undefined, anchor, anchor, 'x');
  expect(n.getTime() - anchor.getTime()).toBeGreaterThanOrEqual(3_600_000);
  expect(n.getTime() - anchor.getTime()).toBeLessThan(3_600_000 + 30_000);
});

test('different objects get different jitter', () => {
  const a = nextRefreshAfter({ interval: '1h' }, anchor, anchor, 'uid-1').getTime();
  const b = nextRefreshAfter({ interval: '1h' }, anchor, anchor, 'uid-2').getTime();
  expect(a).not.toBe(b);
});

test('cron schedules follow the time zone', () => {
  // 03:00 in Berlin (CET, UTC+1 in March before DST) is 02:00 UTC.
  const n = nextRefreshAfter({ schedule: '0 3 * * *', timeZone: 'Europe/Berlin' }, anchor, anchor, 'x');
  expect(n.getTime()).toBeGreaterThanOrEqual(at('2026-03-02T02:00:00Z').getTime());
  expect(n.getTime()).toBeLessThan(at('2026-03-02T02:00:30Z').getTime());
});

test('ticks missed while the operator was down make one refresh due, not one per tick', () => {
  const lastCheck = anchor;
  const now = at('2026-03-01T15:30:00Z'); // five hourly ticks missed
  expect(refreshDue({ interval: '1h' }, anchor, lastCheck, now, 'x')).toBe(true);
  // After that one refresh (lastCheck = now), nothing is due until the next grid tick.
  expect(refreshDue({ interval: '1h' }, anchor, now, at('2026-03-01T15:45:00Z'), 'x')).toBe(false);
  expect(refreshDue({ interval: '1h' }, anchor, now, at('2026-03-01T16:01:00Z'), 'x')).toBe(true);
});
