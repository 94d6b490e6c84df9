import { parseDuration } from '../../../src/api/duration.js';
import type { SecretSync } from '../../../src/api/types.js';
import { shortestTickGapMs, validateSecretSync } from '../../../src/api/validate.js';
import { InvalidSpecError } from '../../../src/errors.js';

const ss = (refresh: SecretSync['spec']['refresh'], data = [{ key: 'a', remoteRef: { path: 'p' } }]): SecretSync => ({
  apiVersion: 'secretsync.io/v1alpha1',
  kind: 'SecretSync',
  metadata: { name: 'x', namespace: 'ns' },
  spec: { sourceRef: { name: 'src' }, data, refresh },
});

test.each([
  ['30s', 30_000],
  ['1h30m', 5_400_000],
  ['1.5h', 5_400_000],
  ['250ms', 250],
])('parses duration %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

test.each(['', '1d', '10', 'h', '1h x', '0.25ms', '1h0.5ms'])('rejects duration "%s"', (text) => expect(parseDuration(text)).toBeUndefined());

test('accepts a valid spec', () => {
  expect(() => validateSecretSync(ss({ schedule: '*/15 * * * *', timeZone: 'Europe/Berlin' }))).not.toThrow();
  expect(() => validateSecretSync(ss({ interval: '10s' }))).not.toThrow();
  expect(() => validateSecretSync(ss(undefined))).not.toThrow();
});

test.each([
  [{ schedule: '61 * * * *' }, /spec.refresh.schedule "61 \* \* \* \*" is not a valid cron/],
  [{ schedule: '* * *' }, /has 3 fields: write 5/],
  [{ schedule: '0 3 * * *', timeZone: 'Mars/Olympus' }, /not an IANA time zone/],
  [{ interval: '5s' }, /shorter than 10s/],
  // Before: accepted, and 3600000.25 ms asked at a tick answered the same tick (one extra reconcile).
  [{ interval: '0.25ms1h' }, /spec.refresh.interval "0.25ms1h" is not a duration: use e.g. 30s, 15m, 1h or 1500ms \(whole milliseconds\)/],
  [{ interval: '10.0001s' }, /is not a whole number of milliseconds/],
])('rejects %j with a message that says what to fix', (refresh, msg) => {
  expect(() => validateSecretSync(ss(refresh))).toThrow(InvalidSpecError);
  expect(() => validateSecretSync(ss(refresh))).toThrow(msg);
});

test('rejects a key listed twice', () => {
  const data = [
    { key: 'a', remoteRef: { path: 'p' } },
    { key: 'a', remoteRef: { path: 'q' } },
  ];
  expect(() => validateSecretSync(ss(undefined, data))).toThrow(/appears twice/);
});

// The smallest gap between consecutive ticks, computed from the fields (not sampled from
// the next few ticks, which a gap late in the minute or across a minute boundary escapes).
test.each([
  ['*/5 * * * * *', 5_000],
  ['* * * * * *', 1_000],
  ['*/10 * * * * *', 10_000],
  ['0,30 * * * * *', 30_000],
  ['0,10,20,30,40,50,55 * * * * *', 5_000], // the short gap is the sixth of the minute
  ['0,55 * * * * *', 5_000], // :55 to the next minute's :00
  ['0,55 */2 * * * *', 55_000], // the next minute never matches
  ['0,59 0 * * * *', 59_000],
  ['0,59 0,1 * * * *', 1_000],
  ['0,5 0 0 1 1 *', 5_000], // once a year, at midnight of 1 January
  ['*/5 * 3 * * *', 5_000],
  ['0 * * * * *', 60_000],
  ['*/15 * * * *', 900_000],
  ['0 0,59 * * * *', 60_000], // 00:59 to 01:00
  ['0 */9 * * *', 21_600_000], // 18:00 to the next day's 00:00 (found by test/unit/property/validate.property.test.ts)
  ['0 3,5 * * *', 7_200_000],
])('%s has ticks %i ms apart at the closest', (expr, ms) => expect(shortestTickGapMs(expr)).toBe(ms));

test.each(['*/5 * * * * *', '* * * * * *', '0,5 0 0 1 1 *', '0,55 * * * * *'])(
  'refuses refresh.schedule "%s" (ticks closer than 10s), saying the minimum and a schedule that works',
  (schedule) => {
    expect(() => validateSecretSync(ss({ schedule }))).toThrow(InvalidSpecError);
    expect(() => validateSecretSync(ss({ schedule }))).toThrow(/closer than the minimum of 10s.*e\.g\. "\*\/10 \* \* \* \* \*"/);
  },
);

test.each(['*/10 * * * * *', '0,30 * * * * *', '0 * * * * *', '*/15 * * * *'])('accepts refresh.schedule "%s"', (schedule) => {
  expect(() => validateSecretSync(ss({ schedule }))).not.toThrow();
});

test('the CRD pattern for durations refuses a fraction of a millisecond, and takes fractions of s, m and h', async () => {
  const { secretSyncSchema } = await import('../../../src/api/schema.js');
  const pattern = new RegExp(secretSyncSchema.properties?.spec?.properties?.refresh?.properties?.interval?.pattern ?? '^$');
  for (const ok of ['10s', '1h30m', '1.5h', '250ms', '0.25s', '1h250ms']) expect(pattern.test(ok)).toBe(true);
  for (const bad of ['0.25ms1h', '1.5ms', '1h0.5ms', '1d', '']) expect(pattern.test(bad)).toBe(false);
});

describe('decodingStrategy', () => {
  const rotating = (data: SecretSync['spec']['data'], dataFrom?: SecretSync['spec']['dataFrom']): SecretSync => ({
    ...ss(undefined, data as never),
    spec: { ...ss(undefined, data as never).spec, ...(dataFrom ? { dataFrom } : {}), rotation: { schedule: '0 3 * * *', keys: ['a'] } },
  });

  test('any case of the four names is accepted; another name is InvalidSpec naming the field', () => {
    for (const s of ['None', 'base64', 'BASE64URL', 'auto']) expect(() => validateSecretSync(ss(undefined, [{ key: 'a', remoteRef: { path: 'p' }, decodingStrategy: s }] as never))).not.toThrow();
    expect(() => validateSecretSync(ss(undefined, [{ key: 'a', remoteRef: { path: 'p' }, decodingStrategy: 'hex' }] as never))).toThrow(/spec\.data\[0\]\.decodingStrategy "hex"/);
  });

  test('a rotated key is never decoded: rotation writes generated text', () => {
    expect(() => validateSecretSync(rotating([{ key: 'a', remoteRef: { path: 'p', property: 'a' }, decodingStrategy: 'Base64' }]))).toThrow(InvalidSpecError);
    expect(() => validateSecretSync(rotating([{ key: 'a', remoteRef: { path: 'p', property: 'a' }, decodingStrategy: 'Base64' }]))).toThrow(
      /spec\.rotation\.keys names "a", which spec\.data\[0\]\.decodingStrategy decodes/,
    );
    expect(() => validateSecretSync(rotating([{ key: 'a', remoteRef: { path: 'p', property: 'a' }, decodingStrategy: 'none' }]))).not.toThrow();
    // A rotated property of a dataFrom secret that decodes.
    expect(() => validateSecretSync(rotating([], [{ remoteRef: { path: 'p' }, decodingStrategy: 'Auto' }]))).toThrow(/spec\.dataFrom\[0\]\.decodingStrategy decodes/);
    // Other keys of the same SecretSync may decode.
    expect(() =>
      validateSecretSync(rotating([{ key: 'a', remoteRef: { path: 'p', property: 'a' } }, { key: 'cert', remoteRef: { path: 'c' }, decodingStrategy: 'Base64' }])),
    ).not.toThrow();
  });
});
