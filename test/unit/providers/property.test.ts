// `property` semantics shared by providers: literal key first, then a dotted path; value encoding.
import { encodeMap, encodeValue, lookupProperty } from '../../../src/providers/property.js';
import { InvalidValueError } from '../../../src/errors.js';

const data = { user: 'app', port: 5432, tls: { mode: 'full', ca: { pem: 'x' } }, 'tls.mode': 'literal', list: ['a', { b: 1 }], nil: null };

test('a top-level key wins over a dotted path with the same name', () => {
  expect(lookupProperty(data, 'tls.mode')).toEqual({ found: true, value: 'literal' });
  expect(lookupProperty(data, 'user')).toEqual({ found: true, value: 'app' });
});

test('dotted paths walk nested objects and arrays by index', () => {
  expect(lookupProperty(data, 'tls.ca.pem')).toEqual({ found: true, value: 'x' });
  expect(lookupProperty(data, 'list.1.b')).toEqual({ found: true, value: 1 });
  expect(lookupProperty(data, 'tls.ca')).toEqual({ found: true, value: { pem: 'x' } });
});

test('missing keys, out-of-range indexes and prototype names are not found', () => {
  for (const p of ['nope', 'tls.nope', 'list.2', 'list.-1', 'user.length', '__proto__', 'constructor', 'tls.__proto__', 'toString']) {
    expect(lookupProperty(data, p)).toEqual({ found: false });
  }
});

test('strings are UTF-8, everything else JSON', () => {
  expect(encodeValue('päss').toString('utf8')).toBe('päss');
  expect(encodeValue(5432).toString()).toBe('5432');
  expect(encodeValue(true).toString()).toBe('true');
  expect(encodeValue(null).toString()).toBe('null');
  expect(encodeValue({ a: [1] }).toString()).toBe('{"a":[1]}');
  expect(Object.fromEntries(Object.entries(encodeMap({ a: 'x', b: 2 }, 'secret p')).map(([k, v]) => [k, v.toString()]))).toEqual({ a: 'x', b: '2' });
});

// A property "__proto__" (JSON.parse makes it an own property) used to vanish: assigned to
// a plain object it set the prototype instead of a key, and the Secret lacked it silently.
test('encodeMap refuses a property named __proto__ with InvalidValueError, saying what to do', () => {
  const data = JSON.parse('{"a":"x","__proto__":"y"}') as Record<string, unknown>;
  expect(() => encodeMap(data, 'Vault secret "p"')).toThrow(InvalidValueError);
  expect(() => encodeMap(data, 'Vault secret "p"')).toThrow(
    'Vault secret "p" has a property "__proto__", which cannot be a key of the target Secret: rename it in the source, or sync it with spec.data (remoteRef.property "__proto__") under another key',
  );
  // One property: "__proto__" read through spec.data under another key keeps working.
  expect(lookupProperty(data, '__proto__')).toEqual({ found: true, value: 'y' });
});

// JSON.parse takes any depth, JSON.stringify recurses: a source answering JSON nested
// 100,000 levels deep made a RangeError, reported as an internal error.
test('encodeValue refuses a value nested too deeply to stringify with InvalidValueError', () => {
  const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
  expect(() => encodeValue(deep)).toThrow(InvalidValueError);
  expect(() => encodeValue(deep)).toThrow('a value is JSON nested too deeply to store');
  expect(encodeValue([[1]]).toString()).toBe('[[1]]');
});
