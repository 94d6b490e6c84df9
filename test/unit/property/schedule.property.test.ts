// Properties of the schedules (issue 21, item 4), around daylight-saving changes in zones
// with odd rules (30-minute and 2-hour shifts, negative DST, quarter-hour offsets).
//
// Rotation (src/secretsync/rotation/schedule.ts) against an oracle that knows nothing of
// cron-parser: it walks the instants after `now` in 15-minute blocks (every offset since
// 1970 in these zones is a whole quarter hour, and so is every change), reads the wall time
// with Intl, and matches it against the sets of values the generated cron fields stand for.
// The ticks are Vixie cron's, as the module documents: a matching wall time that exists
// runs at that instant; one that is skipped runs at the change; one that happens twice
// runs at its first instant, and at the second too only for a wildcard seconds, minute or
// hour field. So nextRotationAfter(now) is strictly after now, is such a tick, and no tick
// lies between now and it; and rotationDue agrees with it.
//
// Refresh (src/secretsync/schedule.ts): interval ticks sit on the grid phase + k * interval,
// strictly after, at most one interval ahead, the same whenever asked in between;
// latestRefreshAtOrBefore is the tick whose successor is after `at`. Cron refreshes are
// the oracle's ticks (a repeated wall time once) plus the seed's jitter: strictly after,
// never a day late; latestRefreshAtOrBefore on a cron gives a tick at or before `at` whose
// successor is after it.
import fc from 'fast-check';
import { nextRotationAfter, rotationDue } from '../../../src/secretsync/rotation/schedule.js';
import { latestRefreshAtOrBefore, nextRefreshAfter, seedFraction } from '../../../src/secretsync/schedule.js';
import { cron, duration, DST_ZONES, ZONES, type Cron } from './arbitraries.js';

const BLOCK = 15 * 60_000;
const MINUTE = 60_000;
const DAY = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
/** The wall-clock time in `tz` at `t`, as epoch ms of that wall time read as UTC. */
function wall(tz: string, t: number): number {
  let f = formatters.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(tz, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(t))) p[part.type] = Number(part.value);
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) + (t % 1000);
}

/** The matching wall times (ms, read as UTC) in [lo, hi), in order. */
function matchesIn(c: Cron, lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let m = Math.floor(lo / MINUTE) * MINUTE; m < hi; m += MINUTE) {
    const d = new Date(m);
    if (!c.minute.has(d.getUTCMinutes()) || !c.hour.has(d.getUTCHours()) || !c.weekday.has(d.getUTCDay())) continue;
    for (const s of [...c.second].sort((a, b) => a - b)) {
      const w = m + s * 1000;
      if (w >= lo && w < hi) out.push(w);
    }
  }
  return out;
}

/** The first Vixie tick strictly after `after`, searched up to `horizon` ms on; undefined past it. */
function oracleNext(c: Cron, tz: string, after: number, horizon: number): number | undefined {
  // From a day before: which wall times have already happened (the repeated hour's second pass).
  let block = Math.floor((after - DAY) / BLOCK) * BLOCK;
  let offset = wall(tz, block) - block;
  let maxWall = -Infinity;
  for (; block < after + horizon; block += BLOCK) {
    const o = wall(tz, block) - block;
    // A wall time no instant shows (spring forward): its ticks run at the change, `block`.
    if (o > offset && block > after && matchesIn(c, block + offset, block + o).length > 0) return block;
    offset = o;
    for (const w of matchesIn(c, block + o, block + BLOCK + o)) {
      const t = w - o;
      const repeated = w < maxWall;
      if (t > after && (!repeated || c.wildcard)) return t;
    }
    maxWall = Math.max(maxWall, block + BLOCK + o);
  }
  return undefined;
}

/** Instants within two days of a daylight-saving change of `tz` in 2026 and 2027. */
function changesOf(tz: string): number[] {
  const out: number[] = [];
  const offset = (t: number) => wall(tz, t) - t;
  const STEP = 16 * BLOCK; // 4 hours: no zone changes twice within that
  for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2028, 0, 1); t += STEP) {
    if (offset(t) === offset(t + STEP)) continue;
    let lo = t; // the change lies in (lo, hi], on a block boundary
    let hi = t + STEP;
    while (hi - lo > BLOCK) {
      const mid = lo + Math.floor((hi - lo) / 2 / BLOCK) * BLOCK;
      if (offset(mid) === offset(lo)) lo = mid;
      else hi = mid;
    }
    out.push(hi);
  }
  return out;
}
const CHANGES = new Map<string, number[]>(DST_ZONES.map((z) => [z, changesOf(z)]));

/** A zone and a moment near one of its changes (or any moment in 2026-2027 for zones without). */
const zoneAndMoment = fc
  .tuple(fc.constantFrom(...ZONES), fc.nat(), fc.integer({ min: -2 * DAY, max: 2 * DAY }), fc.constantFrom(0, 0, 1, 999, 30_000))
  .map(([tz, pick, delta, ms]) => {
    const changes = CHANGES.get(tz) ?? [Date.UTC(2026, 0, 1) + (pick % 700) * DAY];
    const base = changes[pick % changes.length] as number;
    // Land often exactly on whole minutes and on the change itself.
    const at = delta % 7 === 0 ? base + Math.round(delta / MINUTE) * MINUTE : base + delta;
    return { tz, at: Math.floor(at / 1000) * 1000 + ms };
  });

const iso = (t: number | undefined) => (t === undefined ? 'none' : new Date(t).toISOString());

test('the oracle: four daylight-saving changes in 2026-2027 in each DST zone, and the hand-checked ticks of rotation/schedule.test.ts', () => {
  for (const z of DST_ZONES) expect([z, CHANGES.get(z)?.length]).toEqual([z, 4]);
  const all = (lo: number, hi: number) => new Set(Array.from({ length: hi - lo + 1 }, (_, i) => lo + i));
  const daily0230: Cron = { text: '30 2 * * *', second: new Set([0]), minute: new Set([30]), hour: new Set([2]), weekday: all(0, 6), wildcard: false };
  const hourly: Cron = { text: '0 * * * *', second: new Set([0]), minute: new Set([0]), hour: all(0, 23), weekday: all(0, 6), wildcard: true };
  const next = (c: Cron, tz: string, after: string) => iso(oracleNext(c, tz, Date.parse(after), 9 * DAY));
  // Berlin fall-back: the first 02:30 only; spring forward: at the change (03:00 CEST).
  expect(next(daily0230, 'Europe/Berlin', '2026-10-25T00:00:00Z')).toBe('2026-10-25T00:30:00.000Z');
  expect(next(daily0230, 'Europe/Berlin', '2026-10-25T00:30:00Z')).toBe('2026-10-26T01:30:00.000Z');
  expect(next(daily0230, 'Europe/Berlin', '2026-03-29T00:00:00Z')).toBe('2026-03-29T01:00:00.000Z');
  // Hourly: both passes of the repeated hour.
  expect(next(hourly, 'Europe/Berlin', '2026-10-25T00:00:00Z')).toBe('2026-10-25T01:00:00.000Z');
  // New York fall-back at 06:00Z: asked at 01:40 EDT, the next tick is 01:00 EST.
  expect(next({ ...hourly, minute: new Set([0, 30]) }, 'America/New_York', '2026-11-01T05:40:00Z')).toBe('2026-11-01T06:00:00.000Z');
});

test('nextRotationAfter: strictly after, a tick of the cron in its zone, and no tick skipped in between (DST changes included)', () => {
  fc.assert(
    fc.property(cron, zoneAndMoment, (c, { tz, at }) => {
      const want = oracleNext(c, tz, at, 9 * DAY);
      const got = nextRotationAfter({ schedule: c.text, timeZone: tz }, new Date(at)).getTime();
      expect(got).toBeGreaterThan(at);
      // Print the instants, not epoch numbers, in a counterexample.
      expect(iso(got)).toBe(iso(want));
    }),
    { numRuns: 200 },
  );
});

test('rotationDue: due exactly when a tick lies in (last, now]; next is the first tick after now when due, else after last', () => {
  fc.assert(
    fc.property(cron, zoneAndMoment, fc.integer({ min: 0, max: 3 * DAY }), (c, { tz, at }, gap) => {
      const spec = { schedule: c.text, timeZone: tz };
      const last = new Date(at);
      const now = new Date(at + gap);
      const first = nextRotationAfter(spec, last);
      const d = rotationDue(spec, last, now);
      expect(d.due).toBe(first.getTime() <= now.getTime());
      expect(iso(d.next.getTime())).toBe(iso((d.due ? nextRotationAfter(spec, now) : first).getTime()));
      expect(d.next.getTime()).toBeGreaterThan(d.due ? now.getTime() : last.getTime());
    }),
    { numRuns: 100 },
  );
});

test('refresh intervals: on a fixed grid, strictly after, at most one interval ahead, the same answer whenever asked', () => {
  // Whole milliseconds: the schema also takes "0.25ms1h", whose grid of fractional instants
  // Date truncates, so asked at such a tick the answer is that tick again (reported on issue 21).
  const interval = duration.filter((d) => d.ms >= 10_000 && d.ms <= 400 * DAY && Number.isInteger(d.ms));
  fc.assert(
    fc.property(interval, fc.string({ maxLength: 12 }), fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (d, seed, now, frac) => {
      const r = { interval: d.text };
      const t = now.getTime();
      const next = nextRefreshAfter(r, now, seed).getTime();
      expect(next).toBeGreaterThan(t);
      expect(next - t).toBeLessThanOrEqual(d.ms);
      // Asked again anywhere in (previous tick, next): the same tick; at the tick: exactly one interval on.
      const earlier = next - 1 - Math.floor(frac * (d.ms - 1));
      expect(nextRefreshAfter(r, new Date(earlier), seed).getTime()).toBe(next);
      expect(nextRefreshAfter(r, new Date(next), seed).getTime()).toBe(next + d.ms);
      // The latest tick at or before `now` is the one before `next`.
      expect(latestRefreshAtOrBefore(r, now, seed, now)?.getTime()).toBe(next - d.ms);
    }),
    { numRuns: 500 },
  );
});

test('refresh crons: strictly after, and never a day late: at most the zone\'s DST shift plus the jitter after the first new wall-clock tick', () => {
  fc.assert(
    fc.property(cron, zoneAndMoment, fc.string({ maxLength: 12 }), (c, { tz, at }, seed) => {
      const r = { schedule: c.text, timeZone: tz };
      const next = nextRefreshAfter(r, new Date(at), seed).getTime();
      expect(next).toBeGreaterThan(at);
      // The first wall time after `at` that has not been seen before (a repeated hour's second
      // pass may or may not refresh again); a skipped one counts at the change.
      const first = oracleNext({ ...c, wildcard: false }, tz, at, 9 * DAY) as number;
      expect(iso(next)).toBe(iso(Math.min(next, first + 2 * 3_600_000 + 30_000)));
      // Exactly: a cron tick (a repeated wall time once) plus the seed's jitter, the first after `at`.
      const once = { ...c, wildcard: false };
      const period = (oracleNext(once, tz, first, 9 * DAY) as number) - first;
      const jitter = Math.floor(Math.min(period / 10, 30_000) * seedFraction(seed));
      expect(iso(next)).toBe(iso((oracleNext(once, tz, at - jitter, 9 * DAY) as number) + jitter));
    }),
    { numRuns: 150 },
  );
});

test('latestRefreshAtOrBefore on a cron: a tick at or before `at` whose next tick is after `at`', () => {
  fc.assert(
    fc.property(cron, zoneAndMoment, fc.string({ maxLength: 12 }), fc.integer({ min: 1, max: 3 * DAY }), (c, { tz, at }, seed, back) => {
      const r = { schedule: c.text, timeZone: tz };
      // `from` is a tick at or before `at`, as due.ts passes it.
      const from = nextRefreshAfter(r, new Date(at - back), seed);
      fc.pre(from.getTime() <= at);
      const latest = latestRefreshAtOrBefore(r, new Date(at), seed, from);
      // Undefined only when too many ticks lie between (the caller then uses `at`).
      if (latest === undefined) return;
      expect(latest.getTime()).toBeGreaterThanOrEqual(from.getTime());
      expect(latest.getTime()).toBeLessThanOrEqual(at);
      expect(nextRefreshAfter(r, latest, seed).getTime()).toBeGreaterThan(at);
    }),
    { numRuns: 100 },
  );
});
