import { CronExpressionParser } from 'cron-parser';
import { nextRotationAfter, rotationDue, type ScheduleSpec } from '../../../../src/secretsync/rotation/schedule.js';

const at = (s: string) => new Date(s);
const iso = (d: Date) => d.toISOString();

/** Every tick in (from, to], by asking for the next one again and again. */
function ticks(spec: ScheduleSpec, from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = nextRotationAfter(spec, at(from)); t <= at(to); t = nextRotationAfter(spec, t)) out.push(iso(t));
  return out;
}

/** The answer does not depend on when it is asked: from any moment, the first listed tick after it. */
function expectStateless(spec: ScheduleSpec, from: string, to: string): void {
  const list = ticks(spec, from, to).map((s) => at(s).getTime());
  const probes = new Set<number>();
  for (let t = at(from).getTime(); t < list[list.length - 1]!; t += 10 * 60_000) probes.add(t);
  for (const t of list) for (const d of [-1000, -1, 0, 1, 1000]) probes.add(t + d);
  for (const p of probes) {
    if (p < at(from).getTime() || p >= list[list.length - 1]!) continue;
    const want = list.find((t) => t > p)!;
    expect([new Date(p).toISOString(), iso(nextRotationAfter(spec, new Date(p)))]).toEqual([new Date(p).toISOString(), new Date(want).toISOString()]);
  }
}

describe('nextRotationAfter', () => {
  test('5 fields, UTC by default, strictly after', () => {
    const s = { schedule: '0 3 * * *' };
    expect(iso(nextRotationAfter(s, at('2026-01-10T02:59:59.999Z')))).toBe('2026-01-10T03:00:00.000Z');
    expect(iso(nextRotationAfter(s, at('2026-01-10T03:00:00.000Z')))).toBe('2026-01-11T03:00:00.000Z');
    expect(ticks({ schedule: '0 0 1 * *' }, '2026-01-15T00:00:00Z', '2026-04-01T00:00:00Z')).toEqual([
      '2026-02-01T00:00:00.000Z',
      '2026-03-01T00:00:00.000Z',
      '2026-04-01T00:00:00.000Z',
    ]);
  });

  test('6 fields: seconds first', () => {
    expect(ticks({ schedule: '*/20 * * * * *' }, '2026-01-10T10:00:05.500Z', '2026-01-10T10:01:00Z')).toEqual([
      '2026-01-10T10:00:20.000Z',
      '2026-01-10T10:00:40.000Z',
      '2026-01-10T10:01:00.000Z',
    ]);
    expect(iso(nextRotationAfter({ schedule: '30 15 4 * * *' }, at('2026-01-10T05:00:00Z')))).toBe('2026-01-11T04:15:30.000Z');
  });

  test('the time zone: 03:00 Berlin is 02:00 UTC in winter, 01:00 UTC in summer', () => {
    const s = { schedule: '0 3 * * *', timeZone: 'Europe/Berlin' };
    expect(iso(nextRotationAfter(s, at('2026-01-10T12:00:00Z')))).toBe('2026-01-11T02:00:00.000Z');
    expect(iso(nextRotationAfter(s, at('2026-07-10T12:00:00Z')))).toBe('2026-07-11T01:00:00.000Z');
    expect(iso(nextRotationAfter({ schedule: '0 9 * * 1', timeZone: 'America/New_York' }, at('2026-01-07T00:00:00Z')))).toBe(
      '2026-01-12T14:00:00.000Z',
    );
  });
});

describe('daylight saving: Europe/Berlin (2026-03-29 02:00 CET → 03:00 CEST; 2026-10-25 03:00 CEST → 02:00 CET)', () => {
  test('what cron-parser alone answers (why this module maps wall times itself)', () => {
    const next = (expr: string, after: string) =>
      iso(CronExpressionParser.parse(expr, { currentDate: at(after), tz: 'Europe/Berlin' }).next().toDate());
    // Fall back: asked from inside the repeated hour, the second 02:30 (a second rotation that day).
    expect(next('30 2 * * *', '2026-10-25T00:00:00Z')).toBe('2026-10-25T00:30:00.000Z');
    expect(next('30 2 * * *', '2026-10-25T01:10:00Z')).toBe('2026-10-25T01:30:00.000Z');
    // Spring forward: 02:30 becomes 03:30, which a question asked from 03:00..03:29 does not see.
    expect(next('30 2 * * *', '2026-03-29T00:00:00Z')).toBe('2026-03-29T01:30:00.000Z');
    expect(next('30 2 * * *', '2026-03-29T01:10:00Z')).toBe('2026-03-30T00:30:00.000Z');
  });

  test('spring forward: a daily 02:30 (which does not exist that day) runs once, at the transition (03:00 CEST)', () => {
    const s = { schedule: '30 2 * * *', timeZone: 'Europe/Berlin' };
    expect(ticks(s, '2026-03-27T12:00:00Z', '2026-03-30T12:00:00Z')).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST, the transition
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
    expectStateless(s, '2026-03-28T12:00:00Z', '2026-03-30T12:00:00Z');
  });

  test('fall back: a daily 02:30 (which happens twice that day) runs once, at the first 02:30', () => {
    const s = { schedule: '30 2 * * *', timeZone: 'Europe/Berlin' };
    expect(ticks(s, '2026-10-23T12:00:00Z', '2026-10-26T12:00:00Z')).toEqual([
      '2026-10-24T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T00:30:00.000Z', // the first 02:30 (CEST); not 01:30Z, the second (CET)
      '2026-10-26T01:30:00.000Z', // 02:30 CET
    ]);
    expectStateless(s, '2026-10-24T12:00:00Z', '2026-10-26T12:00:00Z');
    // The same in 6 fields.
    expect(ticks({ ...s, schedule: '0 30 2 * * *' }, '2026-10-24T12:00:00Z', '2026-10-26T12:00:00Z')).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
  });

  test('a fixed hour list runs once per listed hour: 01, 02 (first), 03', () => {
    const s = { schedule: '0 1-3 * * *', timeZone: 'Europe/Berlin' };
    expect(ticks(s, '2026-10-24T22:30:00Z', '2026-10-25T12:00:00Z')).toEqual([
      '2026-10-24T23:00:00.000Z',
      '2026-10-25T00:00:00.000Z',
      '2026-10-25T02:00:00.000Z',
    ]);
  });

  test('hourly and minutely schedules tick at both instants of the repeated hour', () => {
    const hourly = { schedule: '0 * * * *', timeZone: 'Europe/Berlin' };
    expect(ticks(hourly, '2026-10-24T22:30:00Z', '2026-10-25T03:00:00Z')).toEqual([
      '2026-10-24T23:00:00.000Z', // 01:00 CEST
      '2026-10-25T00:00:00.000Z', // 02:00 CEST
      '2026-10-25T01:00:00.000Z', // 02:00 CET
      '2026-10-25T02:00:00.000Z', // 03:00 CET
      '2026-10-25T03:00:00.000Z',
    ]);
    expectStateless(hourly, '2026-10-24T22:30:00Z', '2026-10-25T03:00:00Z');
    const minutely = { schedule: '* * * * *', timeZone: 'Europe/Berlin' };
    expect(ticks(minutely, '2026-10-25T00:00:00Z', '2026-10-25T02:00:00Z')).toHaveLength(120);
    const everyTenSeconds = { schedule: '*/10 * * * * *', timeZone: 'Europe/Berlin' };
    expect(ticks(everyTenSeconds, '2026-10-25T00:59:40Z', '2026-10-25T01:00:20Z')).toEqual([
      '2026-10-25T00:59:50.000Z',
      '2026-10-25T01:00:00.000Z',
      '2026-10-25T01:00:10.000Z',
      '2026-10-25T01:00:20.000Z',
    ]);
    // A wildcard minute field confined to the repeated hour (Vixie's rule: a wildcard job).
    expect(ticks({ schedule: '*/20 2 * * *', timeZone: 'Europe/Berlin' }, '2026-10-24T12:00:00Z', '2026-10-25T12:00:00Z')).toEqual([
      '2026-10-25T00:00:00.000Z',
      '2026-10-25T00:20:00.000Z',
      '2026-10-25T00:40:00.000Z',
      '2026-10-25T01:00:00.000Z',
      '2026-10-25T01:20:00.000Z',
      '2026-10-25T01:40:00.000Z',
    ]);
  });

  test('hourly in the skipped hour: every real hour once; a schedule confined to that hour runs once, at the transition', () => {
    const hourly = { schedule: '0 * * * *', timeZone: 'Europe/Berlin' };
    expect(ticks(hourly, '2026-03-28T23:30:00Z', '2026-03-29T02:00:00Z')).toEqual([
      '2026-03-29T00:00:00.000Z', // 01:00 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST (02:00 does not exist)
      '2026-03-29T02:00:00.000Z', // 04:00 CEST
    ]);
    expect(ticks({ schedule: '*/20 2 * * *', timeZone: 'Europe/Berlin' }, '2026-03-28T12:00:00Z', '2026-03-29T12:00:00Z')).toEqual([
      '2026-03-29T01:00:00.000Z',
    ]);
  });
});

describe('daylight saving: America/New_York (2026-03-08 02:00 EST → 03:00 EDT; 2026-11-01 02:00 EDT → 01:00 EST)', () => {
  test('spring forward: a daily 02:30 runs once, at 03:00 EDT', () => {
    const s = { schedule: '30 2 * * *', timeZone: 'America/New_York' };
    expect(ticks(s, '2026-03-06T12:00:00Z', '2026-03-09T12:00:00Z')).toEqual([
      '2026-03-07T07:30:00.000Z', // 02:30 EST
      '2026-03-08T07:00:00.000Z', // 03:00 EDT, the transition
      '2026-03-09T06:30:00.000Z', // 02:30 EDT
    ]);
    expectStateless(s, '2026-03-07T12:00:00Z', '2026-03-09T12:00:00Z');
  });

  test('fall back: a daily 01:30 runs once, at 01:30 EDT', () => {
    const s = { schedule: '30 1 * * *', timeZone: 'America/New_York' };
    expect(ticks(s, '2026-10-30T12:00:00Z', '2026-11-02T12:00:00Z')).toEqual([
      '2026-10-31T05:30:00.000Z', // 01:30 EDT
      '2026-11-01T05:30:00.000Z', // the first 01:30 (EDT); not 06:30Z (EST)
      '2026-11-02T06:30:00.000Z', // 01:30 EST
    ]);
    expectStateless(s, '2026-10-31T12:00:00Z', '2026-11-02T12:00:00Z');
  });

  test('fall back: every 30 minutes ticks through both 01:xx hours', () => {
    const s = { schedule: '*/30 * * * *', timeZone: 'America/New_York' };
    expect(ticks(s, '2026-11-01T04:40:00Z', '2026-11-01T07:00:00Z')).toEqual([
      '2026-11-01T05:00:00.000Z', // 01:00 EDT
      '2026-11-01T05:30:00.000Z', // 01:30 EDT
      '2026-11-01T06:00:00.000Z', // 01:00 EST
      '2026-11-01T06:30:00.000Z', // 01:30 EST
      '2026-11-01T07:00:00.000Z', // 02:00 EST
    ]);
    // Asked at 01:40 EDT, whose wall time reads later than the next tick's (01:00 EST).
    expect(iso(nextRotationAfter(s, at('2026-11-01T05:40:00Z')))).toBe('2026-11-01T06:00:00.000Z');
    expectStateless(s, '2026-11-01T04:00:00Z', '2026-11-01T08:00:00Z');
  });
});

describe('rotationDue', () => {
  const every5 = { schedule: '*/5 * * * *' };

  test('not due before the first tick after last: next is that tick', () => {
    expect(rotationDue(every5, at('2026-01-10T10:00:00Z'), at('2026-01-10T10:04:59.999Z'))).toEqual({
      due: false,
      next: at('2026-01-10T10:05:00Z'),
    });
  });

  test('due exactly at the tick (the interval is (last, now]); next is the following tick', () => {
    expect(rotationDue(every5, at('2026-01-10T10:00:00Z'), at('2026-01-10T10:05:00Z'))).toEqual({
      due: true,
      next: at('2026-01-10T10:10:00Z'),
    });
  });

  test('a rotation at a tick does not count that tick again', () => {
    expect(rotationDue(every5, at('2026-01-10T10:05:00Z'), at('2026-01-10T10:05:00Z'))).toEqual({
      due: false,
      next: at('2026-01-10T10:10:00Z'),
    });
  });

  test('ten ticks missed while the operator was down: due once, then the first tick after now', () => {
    const last = at('2026-01-10T10:00:00Z');
    const now = at('2026-01-10T10:52:30Z'); // 10:05 .. 10:50 missed
    const first = rotationDue(every5, last, now);
    expect(first).toEqual({ due: true, next: at('2026-01-10T10:55:00Z') });
    // The caller records lastRotationTime = now: nothing more is due until 10:55.
    expect(rotationDue(every5, now, at('2026-01-10T10:54:59Z'))).toEqual({ due: false, next: at('2026-01-10T10:55:00Z') });
  });

  test('never rotated: counted from creation', () => {
    const daily = { schedule: '0 4 * * *', timeZone: 'Europe/Berlin' };
    expect(rotationDue(daily, at('2026-01-10T12:00:00Z'), at('2026-01-11T02:59:59Z'))).toEqual({ due: false, next: at('2026-01-11T03:00:00Z') });
    expect(rotationDue(daily, at('2026-01-10T12:00:00Z'), at('2026-01-11T03:00:00Z')).due).toBe(true);
  });

  test('fall back, operator down over the first 02:30 and back at 02:10 CET: rotates once that day, not again at the second 02:30', () => {
    const s = { schedule: '30 2 * * *', timeZone: 'Europe/Berlin' };
    const back = at('2026-10-25T01:10:00Z');
    expect(rotationDue(s, at('2026-10-24T00:30:00Z'), back)).toEqual({ due: true, next: at('2026-10-26T01:30:00Z') });
    expect(rotationDue(s, back, at('2026-10-25T01:45:00Z'))).toEqual({ due: false, next: at('2026-10-26T01:30:00Z') });
  });

  test('spring forward, last rotated (rotate-now) at 03:10 CEST: the day\'s 02:30 ran at 03:00, next is tomorrow', () => {
    const s = { schedule: '30 2 * * *', timeZone: 'Europe/Berlin' };
    expect(rotationDue(s, at('2026-03-28T01:30:00Z'), at('2026-03-29T01:00:00Z'))).toEqual({ due: true, next: at('2026-03-30T00:30:00Z') });
    expect(rotationDue(s, at('2026-03-29T01:10:00Z'), at('2026-03-29T01:45:00Z'))).toEqual({ due: false, next: at('2026-03-30T00:30:00Z') });
  });
});
