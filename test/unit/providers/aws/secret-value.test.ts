// From a Secrets Manager secret version to contract values: SecretString as-is or a
// property of its JSON (dotted paths), SecretBinary as bytes, and errors that never
// quote the value.
import { InvalidValueError, KeyNotFoundError } from '../../../../src/errors.js';
import { remoteMap, remoteValue } from '../../../../src/providers/aws/secret-value.js';

const CANARY = 'canary-3c1f9e0a7b';
const what = 'SecretSource/ns/src: AWS secret "prod/db"';
const json = { password: CANARY, port: 5432, tls: { mode: 'verify-full', ca: 'pem' }, 'tls.mode': 'literal' };
const str = (secretString: string) => ({ name: 'prod/db', versionId: 'v-1', secretString });

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

test('without property the SecretString comes back byte for byte, with the VersionId', () => {
  const text = ` ${JSON.stringify(json)}\n`;
  const got = remoteValue(str(text), { path: 'prod/db' }, what);
  expect(got.value.toString('utf8')).toBe(text);
  expect(got.version).toBe('v-1');
  expect(remoteValue(str(CANARY), { path: 'prod/db' }, what).value.toString()).toBe(CANARY);
});

test('a property of a JSON object: strings as UTF-8, others as JSON, dotted paths unless a literal key exists', () => {
  const s = str(JSON.stringify(json));
  const get = (property: string) => remoteValue(s, { path: 'prod/db', property }, what).value.toString('utf8');
  expect(get('password')).toBe(CANARY);
  expect(get('port')).toBe('5432');
  expect(JSON.parse(get('tls'))).toEqual(json.tls);
  expect(get('tls.ca')).toBe('pem');
  expect(get('tls.mode')).toBe('literal');
});

test('a missing property is KeyNotFound naming it', () => {
  const err = message(() => remoteValue(str(JSON.stringify(json)), { path: 'prod/db', property: 'tls.nope' }, what));
  expect(err).toBe(`${what} has no property "tls.nope"`);
  expect(() => remoteValue(str('{}'), { path: 'p', property: 'x' }, what)).toThrow(KeyNotFoundError);
});

test('a property of a value that is not a JSON object is InvalidValue, without quoting the value', () => {
  for (const text of [CANARY, `"${CANARY}"`, `[${JSON.stringify(CANARY)}]`, `{"a": "${CANARY}"`]) {
    expect(() => remoteValue(str(text), { path: 'prod/db', property: 'a' }, what)).toThrow(InvalidValueError);
    const msg = message(() => remoteValue(str(text), { path: 'prod/db', property: 'a' }, what));
    expect(msg).toContain('"a"');
    expect(msg).not.toContain(CANARY);
  }
});

test('SecretBinary: its bytes as-is; a property of it is InvalidValue', () => {
  const bytes = new Uint8Array([0, 1, 2, 255]);
  const got = remoteValue({ versionId: 'v-2', secretBinary: bytes }, { path: 'bin' }, what);
  expect([...got.value]).toEqual([0, 1, 2, 255]);
  expect(got.version).toBe('v-2');
  expect(() => remoteValue({ secretBinary: bytes }, { path: 'bin', property: 'x' }, what)).toThrow(InvalidValueError);
});

test('every top-level property of a JSON object (dataFrom); anything else is InvalidValue', () => {
  const map = remoteMap(str(JSON.stringify(json)), what);
  expect(Object.keys(map.values).sort()).toEqual(['password', 'port', 'tls', 'tls.mode']);
  expect(map.values.password?.toString()).toBe(CANARY);
  expect(map.version).toBe('v-1');
  for (const s of [str(CANARY), str('[1,2]'), str('null'), { secretBinary: new Uint8Array([1]) }]) {
    expect(() => remoteMap(s, what)).toThrow(InvalidValueError);
    expect(message(() => remoteMap(s, what))).not.toContain(CANARY);
  }
});
