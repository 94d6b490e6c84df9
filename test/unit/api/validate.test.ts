import { parseDuration } from '../../../src/api/duration.js';
import type { SecretSync } from '../../../src/api/types.js';
import { validateSecretSync } from '../../../src/api/validate.js';
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

test.each(['', '1d', '10', 'h', '1h x'])('rejects duration "%s"', (text) => expect(parseDuration(text)).toBeUndefined());

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
