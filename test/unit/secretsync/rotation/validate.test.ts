import type { RotationSpec } from '../../../../src/api/types.js';
import { InvalidSpecError } from '../../../../src/errors.js';
import { validateRotation } from '../../../../src/secretsync/rotation/validate.js';
import { aSecretSync } from '../fixtures.js';

const withRotation = (r: Partial<RotationSpec>) => aSecretSync({ rotation: { schedule: '0 3 * * *', keys: ['password'], ...r } });

function refusal(r: Partial<RotationSpec>): string {
  try {
    validateRotation(withRotation(r));
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidSpecError);
    return (err as Error).message;
  }
  throw new Error('expected an InvalidSpecError');
}

test('a valid rotation returns its targets; none without spec.rotation', () => {
  expect(validateRotation(withRotation({ timeZone: 'Europe/Berlin', generator: { length: 64, charset: 'hex' } }))).toEqual([
    { path: 'db', properties: ['password'], whole: false, keys: ['password'] },
  ]);
  expect(validateRotation(withRotation({ schedule: '0 0 3 * * 1' }))).toHaveLength(1);
  expect(validateRotation(aSecretSync())).toEqual([]);
});

test('refused: a schedule that is not 5 or 6 cron fields, or not cron', () => {
  expect(refusal({ schedule: '@daily' })).toMatch(/^spec\.rotation\.schedule "@daily" has 1 fields: write 5/);
  expect(refusal({ schedule: '0 25 * * *' })).toMatch(/^spec\.rotation\.schedule "0 25 \* \* \*" is not a valid cron expression/);
});

test('refused: a time zone that is not IANA', () => {
  expect(refusal({ timeZone: 'Mars/Olympus' })).toBe('spec.rotation.timeZone "Mars/Olympus" is not an IANA time zone: use e.g. UTC or Europe/Berlin');
});

test('refused: a generator length outside 8..4096, or an unknown charset', () => {
  expect(refusal({ generator: { length: 7 } })).toBe('spec.rotation.generator.length 7 is not a whole number in 8..4096: choose one (default 32)');
  expect(refusal({ generator: { length: 4097 } })).toMatch(/^spec\.rotation\.generator\.length 4097/);
  expect(refusal({ generator: { length: 12.5 } })).toMatch(/^spec\.rotation\.generator\.length 12\.5/);
  expect(refusal({ generator: { charset: 'base32' as never } })).toBe(
    'spec.rotation.generator.charset "base32" is not known: use one of alphanumeric, ascii-printable, hex, base64',
  );
});

test('refused: what rotationTargets refuses', () => {
  expect(refusal({ keys: ['nope'] })).toMatch(/^spec\.rotation\.keys\[0\] "nope" is not a key of spec\.data/);
});

test('a schedule rotating more often than once a minute is refused; once a minute at a chosen second is not', () => {
  const ss = (schedule: string) => aSecretSync({ rotation: { schedule, keys: ['password'] } });
  expect(() => validateRotation(ss('* * * * * *'))).toThrow(/more often than once a minute/);
  expect(() => validateRotation(ss('0,30 * * * * *'))).toThrow(/more often than once a minute/);
  expect(() => validateRotation(ss('30 * * * * *'))).not.toThrow();
  expect(() => validateRotation(ss('* * * * *'))).not.toThrow();
});
