import { describeRefresh, nextRefreshAfter, seedFraction } from '../../../src/secretsync/schedule.js';

const at = (s: string) => new Date(s);
const t0 = at('2026-03-01T10:00:00Z');

test('interval refreshes sit on a fixed grid: the same answer whenever asked, one interval apart', () => {
  const a = nextRefreshAfter({ interval: '1h' }, t0, 'uid-1');
  expect(a.getTime()).toBeGreaterThan(t0.getTime());
  expect(a.getTime() - t0.getTime()).toBeLessThanOrEqual(3_600_000);
  // Asked again later in the same interval (a restart, another replica): the same tick.
  expect(nextRefreshAfter({ interval: '1h' }, new Date(a.getTime() - 1), 'uid-1')).toEqual(a);
  // Asked at the tick: the next one, exactly one interval later.
  expect(nextRefreshAfter({ interval: '1h' }, a, 'uid-1').getTime()).toBe(a.getTime() + 3_600_000);
});

test('the default is one hour', () => {
  const a = nextRefreshAfter(undefined, t0, 'x');
  expect(nextRefreshAfter(undefined, a, 'x').getTime() - a.getTime()).toBe(3_600_000);
});

test('each seed has its own offset inside the interval; 300 seeds cover it evenly', () => {
  const offsets = Array.from({ length: 300 }, (_, i) => nextRefreshAfter({ interval: '30s' }, t0, `SecretSync/uid-${i}`).getTime() - t0.getTime());
  for (const o of offsets) expect(o).toBeGreaterThan(0);
  for (const o of offsets) expect(o).toBeLessThanOrEqual(30_000);
  const perSecond = new Array<number>(31).fill(0);
  for (const o of offsets) perSecond[Math.floor(o / 1000)]! += 1;
  // A mean of 10 per second; no second holds three times that.
  expect(Math.max(...perSecond)).toBeLessThan(30);
  expect(new Set(offsets).size).toBeGreaterThan(250);
});

test('one seed (a batching source) gives every sync the same moment', () => {
  const a = nextRefreshAfter({ interval: '30s' }, t0, 'SecretSource/ns/aws');
  expect(nextRefreshAfter({ interval: '30s' }, new Date(t0.getTime() + 5), 'SecretSource/ns/aws')).toEqual(a);
});

test('cron schedules follow the time zone, with a small fixed jitter', () => {
  // 03:00 in Berlin (CET, UTC+1 in March before DST) is 02:00 UTC.
  const n = nextRefreshAfter({ schedule: '0 3 * * *', timeZone: 'Europe/Berlin' }, t0, 'x');
  expect(n.getTime()).toBeGreaterThanOrEqual(at('2026-03-02T02:00:00Z').getTime());
  expect(n.getTime()).toBeLessThan(at('2026-03-02T02:00:30Z').getTime());
  // Strictly after: asked at that moment, the next day's tick (same jitter).
  expect(nextRefreshAfter({ schedule: '0 3 * * *', timeZone: 'Europe/Berlin' }, n, 'x').getTime() - n.getTime()).toBe(86_400_000);
});

test('a cron tick just passed for one seed is the next one for a seed with more jitter', () => {
  const s = { schedule: '*/2 * * * *' };
  const seeds = ['a', 'b', 'c', 'd', 'e'].sort((x, y) => seedFraction(x) - seedFraction(y));
  const lo = nextRefreshAfter(s, at('2026-03-01T10:00:00Z'), seeds[0]!);
  const hi = nextRefreshAfter(s, at('2026-03-01T10:00:00Z'), seeds[4]!);
  expect(hi.getTime()).toBeGreaterThan(lo.getTime());
  expect(hi.getTime() - at('2026-03-01T10:00:00Z').getTime()).toBeLessThanOrEqual(12_000);
});

test('the schedule in words, for the Ready message', () => {
  expect(describeRefresh({ interval: '30s' })).toBe('every 30s');
  expect(describeRefresh(undefined)).toBe('every 1h');
  expect(describeRefresh({ schedule: '0 * * * *' })).toBe('on "0 * * * *" (UTC)');
});

// Two counterexamples test/unit/property/schedule.property.test.ts found: cron-parser asked in
// the zone spun to its loop limit (~1 s of CPU, then an error) near these fall-backs.
test('a refresh cron in Australia/Lord_Howe near the fall-back: the next day\'s tick', () => {
  const s = { schedule: '0 0-1 * * *', timeZone: 'Australia/Lord_Howe' };
  // 01:30:25 (+11) on 2026-04-05, in the half hour that repeats; the next tick is 00:00 (+10:30) on 2026-04-06.
  const n = nextRefreshAfter(s, new Date('2026-04-04T14:30:25Z'), '');
  expect(n.getTime()).toBeGreaterThanOrEqual(Date.parse('2026-04-05T13:30:00Z'));
  expect(n.getTime()).toBeLessThan(Date.parse('2026-04-05T13:30:30Z'));
});

test('an hourly refresh cron in Pacific/Chatham asked a minute before the fall-back: the next hour\'s tick', () => {
  const s = { schedule: '44 * * * *', timeZone: 'Pacific/Chatham' };
  // 02:44:26 (+13:45) on 2026-04-05; the change is at 03:45 (+13:45), back to 02:45 (+12:45).
  const n = nextRefreshAfter(s, new Date('2026-04-04T12:59:26.682Z'), '');
  // 03:44 (+13:45), give or take the jitter (at most 30 s).
  expect(n.getTime()).toBeGreaterThanOrEqual(Date.parse('2026-04-04T13:59:00Z'));
  expect(n.getTime()).toBeLessThan(Date.parse('2026-04-04T13:59:30Z'));
});
