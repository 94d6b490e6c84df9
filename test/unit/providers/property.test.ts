// `property` semantics shared by providers: literal key first, then a dotted path; value encoding.
import { encodeMap, encodeValue, lookupProperty } from '../../../src/providers/property.js';

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
  expect(Object.fromEntries(Object.entries(encodeMap({ a: 'x', b: 2 })).map(([k, v]) => [k, v.toString()]))).toEqual({ a: 'x', b: '2' });
});
