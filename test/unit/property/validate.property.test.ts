// Properties of the spec validator (issue 21, item 4): whatever strings an object of the
// CRD's shape carries, validateSecretSync refuses with its own InvalidSpecError and nothing
// else (a TypeError or a cron-parser error would reach the status as an unexplained failure);
// it accepts what the schema's own patterns accept (durations of 10s and more, crons whose
// ticks are 10s apart or more, IANA zones); and parseDuration agrees with the schema's
// DURATION pattern.
import fc from 'fast-check';
import { CronExpressionParser } from 'cron-parser';
import { parseDuration } from '../../../src/api/duration.js';
import type { SecretSync } from '../../../src/api/types.js';
import { MIN_REFRESH_MS, shortestTickGapMs, validateSecretSync } from '../../../src/api/validate.js';
import { InvalidSpecError } from '../../../src/errors.js';
import { cron, cronField, duration, ZONES } from './arbitraries.js';

const NUM_RUNS = 300;
/** The CRD's pattern for spec.refresh.interval (src/api/schema.ts DURATION). */
const DURATION = /^([0-9]+(ms|(\.[0-9]+)?(s|m|h)))+$/;

const ss = (spec: Partial<SecretSync['spec']>): SecretSync => ({
  apiVersion: 'secretsync.io/v1alpha1',
  kind: 'SecretSync',
  metadata: { name: 'x', namespace: 'ns' },
  spec: { sourceRef: { name: 'src' }, ...spec },
});

/** Throws only InvalidSpecError, or nothing; says which. */
function outcome(s: SecretSync): 'accepted' | 'refused' {
  try {
    validateSecretSync(s);
    return 'accepted';
  } catch (err) {
    if (err instanceof InvalidSpecError) return 'refused';
    throw err;
  }
}

/** Strings near what users and attackers write in each field. */
const cronish = fc.oneof(
  cron.map((c) => c.text),
  fc.array(fc.oneof(fc.constantFrom('*', '?', 'L', 'W', '#', '-', '/', ',', 'MON', 'JAN', '@daily', '60', '99999999999999999999', '-1', '0x10', '1e3'), fc.nat(100).map(String), fc.string({ maxLength: 4 })), { minLength: 1, maxLength: 8 }).map((p) => p.join(' ')),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
);
const zoneish = fc.oneof(
  fc.constantFrom(...ZONES, 'utc', 'Etc/GMT+14', 'Etc/GMT-14', 'EST5EDT', 'Europe/Kyiv', 'Europe/Kiev', 'US/Pacific', 'GMT', 'Z', 'Local', '+05:30', 'UTC+1', 'Mars/Olympus', '', ' UTC'),
  fc.string({ maxLength: 20 }),
);
const durationish = fc.oneof(duration.map((d) => d.text), fc.stringMatching(/^[0-9.a-z]{0,12}$/), fc.string({ maxLength: 12 }));

test('whatever strings a CRD-shaped spec carries, validateSecretSync throws nothing but InvalidSpecError', () => {
  const refresh = fc.record({ schedule: cronish, interval: durationish, timeZone: zoneish }, { requiredKeys: [] });
  const data = fc.array(fc.record({ key: fc.string({ maxLength: 6 }), remoteRef: fc.record({ path: fc.string({ maxLength: 6 }) }) }), { maxLength: 4 });
  fc.assert(
    fc.property(fc.option(refresh, { nil: undefined }), fc.option(data, { nil: undefined }), (r, d) => {
      outcome(ss({ ...(r !== undefined ? { refresh: r } : {}), ...(d !== undefined ? { data: d } : {}) }));
    }),
    { numRuns: 2000 },
  );
});

/** Whether `v` has the CRD's types at spec.refresh and spec.data (what the API server lets through). */
function crdTyped(refresh: unknown, data: unknown): boolean {
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  const str = (x: unknown) => x === undefined || typeof x === 'string';
  const refreshOk = refresh === undefined || (isObj(refresh) && str(refresh.schedule) && str(refresh.interval) && str(refresh.timeZone));
  const dataOk =
    data === undefined || (Array.isArray(data) && data.every((d) => isObj(d) && typeof d.key === 'string' && isObj(d.remoteRef) && typeof d.remoteRef.path === 'string'));
  return refreshOk && dataOk;
}

test('arbitrary JSON at spec.refresh and spec.data: InvalidSpecError, or a shape the API server refuses before the operator sees it', () => {
  const json = fc.jsonValue({ maxDepth: 3 });
  const refresh = fc.oneof(json, fc.record({ schedule: fc.oneof(cronish, json), interval: fc.oneof(durationish, json), timeZone: fc.oneof(zoneish, json) }, { requiredKeys: [] }));
  const data = fc.oneof(json, fc.array(fc.record({ key: fc.oneof(fc.string({ maxLength: 4 }), json), remoteRef: fc.oneof(fc.record({ path: fc.string({ maxLength: 4 }) }), json) }), { maxLength: 3 }));
  let typed = 0;
  fc.assert(
    fc.property(refresh, data, (r, d) => {
      const s = ss({ refresh: r as SecretSync['spec']['refresh'], data: d as SecretSync['spec']['data'] });
      if (crdTyped(r, d)) {
        typed++;
        outcome(s);
        return;
      }
      try {
        validateSecretSync(s);
      } catch {
        // A TypeError here is possible (spec.refresh.schedule: 5) and harmless: the schema refuses it first.
      }
    }),
    { numRuns: 1000 },
  );
  // Enough typed inputs to mean something (42-64 of 1000 in six runs measured; 20 is over four standard deviations below).
  expect(typed).toBeGreaterThan(20);
});

test('an interval the schema accepts is accepted from 10s up, refused with InvalidSpecError below', () => {
  fc.assert(
    fc.property(duration, (d) => {
      expect(DURATION.test(d.text)).toBe(true);
      expect(outcome(ss({ refresh: { interval: d.text } }))).toBe(d.ms >= MIN_REFRESH_MS ? 'accepted' : 'refused');
    }),
    { numRuns: NUM_RUNS },
  );
});

test('parseDuration is defined exactly where the schema pattern matches, and gives the value written', () => {
  fc.assert(
    fc.property(duration, (d) => expect(parseDuration(d.text)).toBe(d.ms)),
    { numRuns: NUM_RUNS },
  );
  fc.assert(
    fc.property(fc.oneof(durationish, fc.stringMatching(/^[0-9]{1,400}h$/)), (text) => {
      const ms = parseDuration(text);
      if (!DURATION.test(text)) expect(ms).toBeUndefined();
      // The pattern matches but a number too large for a double is refused, not Infinity.
      else if (ms === undefined) expect(text.length).toBeGreaterThan(300);
      else expect(Number.isFinite(ms) && ms >= 0).toBe(true);
    }),
    { numRuns: NUM_RUNS },
  );
});

test('a cron in any IANA zone is accepted when its ticks are 10s apart or more, refused with InvalidSpecError when closer', () => {
  fc.assert(
    fc.property(cron, fc.option(fc.constantFrom(...ZONES), { nil: undefined }), (c, timeZone) => {
      // A day that never comes in the months drawn (31 in April, 30 in February) has no ticks:
      // cron-parser refuses it, and so must the validator.
      let gap: number;
      try {
        gap = shortestTickGapMs(c.text, timeZone);
      } catch {
        gap = -1;
      }
      const refresh = { schedule: c.text, ...(timeZone !== undefined ? { timeZone } : {}) };
      expect(outcome(ss({ refresh }))).toBe(gap >= MIN_REFRESH_MS ? 'accepted' : 'refused');
    }),
    { numRuns: NUM_RUNS },
  );
});

test('shortestTickGapMs is a lower bound of the gaps between real ticks (all five fields drawn)', () => {
  const anyCron = fc
    .tuple(fc.boolean(), cronField(0, 59), cronField(0, 59), cronField(0, 23), cronField(1, 31), cronField(1, 12), cronField(0, 6))
    .map(([six, s, m, h, dom, mon, dow]) => [...(six ? [s.text] : []), m.text, h.text, dom.text, mon.text, dow.text].join(' '));
  fc.assert(
    fc.property(anyCron, fc.date({ min: new Date('2026-01-01T00:00:00Z'), max: new Date('2027-12-31T00:00:00Z'), noInvalidDate: true }), (expr, start) => {
      const bound = shortestTickGapMs(expr);
      let it;
      try {
        it = CronExpressionParser.parse(expr, { currentDate: start, tz: 'UTC' });
        let prev = it.next().toDate().getTime();
        for (let i = 0; i < 50; i++) {
          const t = it.next().toDate().getTime();
          expect(t - prev).toBeGreaterThanOrEqual(bound);
          prev = t;
        }
      } catch (err) {
        // A day that never comes (31 February): cron-parser gives up; nothing to measure.
        if (!(err instanceof Error) || !/Invalid explicit day of month|Invalid date|Unable to find/i.test(err.message)) throw err;
      }
    }),
    { numRuns: 200 },
  );
});

test('a cron whose day never comes in its months (drawn once: * 0 31 4-4/1 *) is refused with InvalidSpecError', () => {
  for (const schedule of ['* 0 31 4-4/1 *', '0 0 30 2 *']) expect(outcome(ss({ refresh: { schedule } }))).toBe('refused');
});
