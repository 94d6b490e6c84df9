// The pure parts of a KV v2 rotation write: the checks before any call, the check-and-set
// body, the write answer and Vault's check-and-set refusal.
import { InvalidSpecError, InvalidValueError } from '../../../../src/errors.js';
import type { RotationWrite } from '../../../../src/providers/provider.js';
import { isCasMismatch, kvWriteBody, kvWritePath, parseKvWriteAnswer } from '../../../../src/providers/vault/kv-write.js';

const v2 = { mount: 'secret', version: 2 as const };
const SRC = 'SecretSource/apps/vault';
const write = (over: Partial<RotationWrite> = {}): RotationWrite => ({
  path: 'app/db',
  id: '4f1c2f5e-3a55-4d4e-9a53-2f8f5b8c1d11',
  basedOn: '3',
  set: { password: Buffer.from('new-pw') },
  ...over,
});

function vaultError(status: number, message: string): Error {
  return Object.assign(new Error(message), { response: { statusCode: status } });
}

test('the write goes to the data path of a KV v2 mount, encoded as reads are', () => {
  expect(kvWritePath(v2, write(), SRC)).toBe('secret/data/app/db');
  expect(kvWritePath({ mount: 'team/kv', version: 2 }, write({ path: 'a b?c' }), SRC)).toBe('team/kv/data/a%20b%3Fc');
  expect(() => kvWritePath(v2, write({ path: 'a/../b' }), SRC)).toThrow(InvalidSpecError);
});

test('a KV v1 mount is refused: rotation needs versions and check-and-set', () => {
  const err = (() => {
    try {
      kvWritePath({ mount: 'kv1', version: 1 }, write(), SRC);
    } catch (e) {
      return e as Error;
    }
    throw new Error('expected a throw');
  })();
  expect(err).toBeInstanceOf(InvalidSpecError);
  expect(err.message).toContain(SRC);
  expect(err.message).toContain('rotation needs a KV v2 mount (versions and check-and-set)');
});

test('a whole value is refused (a KV secret is a map), and so is a basedOn that is no KV v2 version', () => {
  expect(() => kvWritePath(v2, write({ set: {}, whole: Buffer.from('x') }), SRC)).toThrow(/name a property/);
  expect(() => kvWritePath(v2, write({ set: {}, whole: Buffer.from('x') }), SRC)).toThrow(InvalidSpecError);
  for (const basedOn of ['', '0', 'unversioned', '1.5', '01']) {
    expect(() => kvWritePath(v2, write({ basedOn }), SRC)).toThrow(InvalidSpecError);
  }
});

test('the body sets the new properties over the current data, keeps the others as they are, and sends cas', () => {
  const current = { username: 'app', password: 'old', port: 5432, tls: { mode: 'verify-full' } };
  const body = kvWriteBody(current, write({ set: { password: Buffer.from('n€w'), extra: Buffer.from('e') } }), 'x');
  expect(body).toEqual({
    options: { cas: 3 },
    data: { username: 'app', password: 'n€w', port: 5432, tls: { mode: 'verify-full' }, extra: 'e' },
  });
});

test('a key named __proto__ stays a plain property', () => {
  const body = kvWriteBody({}, write({ set: Object.fromEntries([['__proto__', Buffer.from('v')]]) }), 'x');
  const data = body.data as Record<string, unknown>;
  expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
  expect(Object.keys(data)).toEqual(['__proto__']);
});

test('a new value that is not UTF-8 is an InvalidValueError naming the property, never the bytes', () => {
  const bad = Buffer.from([0x70, 0x77, 0xff, 0xfe]);
  let err: Error | undefined;
  try {
    kvWriteBody({}, write({ set: { password: bad } }), `${SRC}: rotating Vault secret "app/db"`);
  } catch (e) {
    err = e as Error;
  }
  expect(err).toBeInstanceOf(InvalidValueError);
  expect(err?.message).toContain('property "password" is not valid UTF-8');
  expect(err?.message).toContain('"app/db"');
  expect(err?.message).not.toContain('pw');
});

test('the write answer reports the new version', () => {
  expect(parseKvWriteAnswer({ data: { version: 4, created_time: '2025-01-01T00:00:00Z' } }, 'x')).toBe('4');
  expect(() => parseKvWriteAnswer({ data: {} }, 'x')).toThrow(InvalidValueError);
  expect(() => parseKvWriteAnswer(null, 'x')).toThrow(InvalidValueError);
});

test("Vault's check-and-set refusal is told apart from other 400s", () => {
  expect(isCasMismatch(vaultError(400, 'check-and-set parameter did not match the current version'))).toBe(true);
  expect(isCasMismatch(vaultError(400, 'no data provided'))).toBe(false);
  expect(isCasMismatch(vaultError(403, 'check-and-set parameter did not match the current version'))).toBe(false);
  expect(isCasMismatch(new Error('check-and-set parameter did not match the current version'))).toBe(false);
});
