import { checkSize, contentHmac, fromSecretData, hmacKey, hmacKeyIdOf, sameContent, toSecretData } from '../../../src/secretsync/content.js';
import { SizeLimitError } from '../../../src/errors.js';

const key = hmacKey(Buffer.alloc(32, 7));
const b = (s: string) => Buffer.from(s);

test('the HMAC is keyed, names its key, is order-independent and sensitive to every byte', () => {
  const h = contentHmac(key, { a: b('1'), b: b('2') });
  expect(h).toMatch(/^hmac-sha256:[A-Za-z0-9_-]{8}:[A-Za-z0-9_-]{43}$/);
  expect(hmacKeyIdOf(h)).toBe(key.id);
  expect(contentHmac(key, { b: b('2'), a: b('1') })).toBe(h);
  expect(contentHmac(key, { a: b('1'), b: b('3') })).not.toBe(h);
  const other = hmacKey(Buffer.alloc(32, 8));
  expect(other.id).not.toBe(key.id);
  expect(contentHmac(other, { a: b('1'), b: b('2') })).not.toBe(h);
  // Length prefixes: moving a byte between key and value changes the HMAC.
  expect(contentHmac(key, { ab: b('c') })).not.toBe(contentHmac(key, { a: b('bc') }));
});

test('an HMAC in the older format (no key id) names no key', () => {
  expect(hmacKeyIdOf(`hmac-sha256:${'A'.repeat(43)}`)).toBeUndefined();
  expect(hmacKeyIdOf(undefined)).toBeUndefined();
});

test('the key id is a hash of the key, not the key', () => {
  expect(key.id).toHaveLength(8);
  expect(Buffer.from(key.id, 'base64url').equals(key.key.subarray(0, 6))).toBe(false);
});

test('content compares byte for byte', () => {
  expect(sameContent({ a: b('1'), b: b('2') }, { b: b('2'), a: b('1') })).toBe(true);
  expect(sameContent({ a: b('1') }, { a: b('1'), b: b('2') })).toBe(false);
  expect(sameContent({ a: b('1') }, { a: b('2') })).toBe(false);
  expect(sameContent({ a: b('1') }, { b: b('1') })).toBe(false);
});

test('size limit error says the size, the limit and what to do', () => {
  expect(() => checkSize({ k: Buffer.alloc(100) }, 101)).not.toThrow();
  expect(() => checkSize({ k: Buffer.alloc(100) }, 100)).toThrow(SizeLimitError);
  expect(() => checkSize({ k: Buffer.alloc(100) }, 100)).toThrow(/101 bytes, over spec.target.maxSizeBytes \(100\)/);
});

test('Secret data round-trips through base64', () => {
  const c = { x: b('\u0000binary\u00ff'), y: b('text') };
  expect(fromSecretData(toSecretData(c))).toEqual(c);
});
