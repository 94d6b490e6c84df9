// fast-check arbitraries shared by the property tests: cron expressions that carry the set
// of values each field matches (so a test has an oracle independent of cron-parser), time
// zones with odd daylight-saving rules, and durations as the CRD schema writes them.
import fc from 'fast-check';

export interface CronField {
  text: string;
  values: ReadonlySet<number>;
  /** The field starts with `*` (Vixie cron's "wildcard job" rule for daylight saving). */
  star: boolean;
}

const range = (lo: number, hi: number, step = 1) => {
  const out: number[] = [];
  for (let v = lo; v <= hi; v += step) out.push(v);
  return out;
};

/** One cron field over [lo, hi]: `*`, `*\/n`, `a-b`, `a-b/n` or a list. */
export function cronField(lo: number, hi: number): fc.Arbitrary<CronField> {
  const value = fc.integer({ min: lo, max: hi });
  const span = fc.tuple(value, value).map(([a, b]): [number, number] => (a <= b ? [a, b] : [b, a]));
  const step = fc.integer({ min: 1, max: Math.max(1, Math.ceil((hi - lo + 1) / 2)) });
  return fc.oneof(
    fc.constant({ text: '*', values: new Set(range(lo, hi)), star: true }),
    step.map((n) => ({ text: `*/${n}`, values: new Set(range(lo, hi, n)), star: true })),
    span.map(([a, b]) => ({ text: `${a}-${b}`, values: new Set(range(a, b)), star: false })),
    fc.tuple(span, step).map(([[a, b], n]) => ({ text: `${a}-${b}/${n}`, values: new Set(range(a, b, n)), star: false })),
    fc.uniqueArray(value, { minLength: 1, maxLength: 4 }).map((vs) => ({ text: vs.join(','), values: new Set(vs), star: false })),
  );
}

export interface Cron {
  text: string;
  /** Seconds (just 0 for 5 fields), minutes, hours, days of week (0 = Sunday). Day of month and month are `*`. */
  second: ReadonlySet<number>;
  minute: ReadonlySet<number>;
  hour: ReadonlySet<number>;
  weekday: ReadonlySet<number>;
  wildcard: boolean;
}

/**
 * Crons of 5 or 6 fields that tick at least weekly (day of month and month are `*`, so
 * cron's day-of-month OR weekday rule never applies).
 */
export const cron: fc.Arbitrary<Cron> = fc
  .record({
    sixFields: fc.boolean(),
    second: cronField(0, 59),
    minute: cronField(0, 59),
    hour: cronField(0, 23),
    weekday: fc.oneof({ weight: 2, arbitrary: fc.constant({ text: '*', values: new Set(range(0, 6)), star: true }) }, { weight: 1, arbitrary: cronField(0, 6) }),
  })
  .map(({ sixFields, second, minute, hour, weekday }) => {
    const fields = [...(sixFields ? [second.text] : []), minute.text, hour.text, '*', '*', weekday.text];
    return {
      text: fields.join(' '),
      second: sixFields ? second.values : new Set([0]),
      minute: minute.values,
      hour: hour.values,
      weekday: weekday.values,
      wildcard: (sixFields && second.star) || minute.star || hour.star,
    };
  });

/**
 * Zones whose daylight-saving changes are unusual: a 30-minute shift (Lord Howe), a
 * 2-hour one (Troll), negative DST (Dublin), quarter-hour offsets (Chatham, Kathmandu),
 * the southern hemisphere, and the usual Europe and US zones.
 */
export const DST_ZONES = [
  'Europe/Berlin',
  'America/New_York',
  'America/St_Johns',
  'Australia/Lord_Howe',
  'Australia/Sydney',
  'Antarctica/Troll',
  'Europe/Dublin',
  'Pacific/Chatham',
  'America/Santiago',
] as const;
export const ZONES = ['UTC', 'Asia/Kathmandu', 'Asia/Kolkata', ...DST_ZONES] as const;

const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
export type DurationUnit = keyof typeof UNIT_MS;

/** A duration as the CRD pattern allows it (`^([0-9]+(ms|(\.[0-9]+)?(s|m|h)))+$`: whole milliseconds), with its value in ms. */
export const duration: fc.Arbitrary<{ text: string; ms: number }> = fc
  .array(
    fc.record({
      whole: fc.integer({ min: 0, max: 10_000 }),
      // Halves and quarters: exact in binary, so the sum is exact.
      fraction: fc.constantFrom('', '.5', '.25', '.0'),
      unit: fc.constantFrom<DurationUnit>('h', 'm', 's', 'ms'),
    }),
    { minLength: 1, maxLength: 4 },
  )
  .map((parts) => parts.map((p) => (p.unit === 'ms' ? { ...p, fraction: '' } : p)))
  .map((parts) => ({
    text: parts.map((p) => `${p.whole}${p.fraction}${p.unit}`).join(''),
    ms: parts.reduce((sum, p) => sum + Number(`${p.whole}${p.fraction}`) * UNIT_MS[p.unit], 0),
  }));
