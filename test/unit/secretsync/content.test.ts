import { checkSize, contentHmac, derivedKey, fromSecretData, hmacKey, hmacKeyIdOf, keyOfMac, macEqual, macScheme, macVerifies, objectMacKeys, sameContent, toSecretData } from '../../../src/secretsync/content.js';
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

describe('per-object keys (HKDF-SHA256 of the operator key, bound to namespace and uid)', () => {
  const c = { password: b('same value') };

  test('equal content under two objects has unequal HMACs; the same object is stable', () => {
    const a = contentHmac(objectMacKeys(key, 'team-a', 'uid-1').content, c);
    expect(a).toMatch(/^v2:hmac-sha256:[A-Za-z0-9_-]{8}:[A-Za-z0-9_-]{43}$/);
    expect(contentHmac(objectMacKeys(key, 'team-a', 'uid-1').content, c)).toBe(a);
    expect(contentHmac(objectMacKeys(key, 'team-b', 'uid-1').content, c)).not.toBe(a);
    expect(contentHmac(objectMacKeys(key, 'team-a', 'uid-2').content, c)).not.toBe(a);
    expect(contentHmac(key, c)).not.toBe(a.slice(3));
  });

  test('namespace and uid are length-prefixed: shifting characters between them gives another key', () => {
    const k1 = derivedKey(key, 'content', 'ab', 'c').key;
    const k2 = derivedKey(key, 'content', 'a', 'bc').key;
    const k3 = derivedKey(key, 'content', 'a\0\0\0\u0002', 'c').key;
    expect(k1.equals(k2)).toBe(false);
    expect(k1.equals(k3)).toBe(false);
  });

  test('content and envelope MACs use separate keys', () => {
    const k = objectMacKeys(key, 'ns', 'u');
    expect(k.content.key.equals(k.envelope.key)).toBe(false);
    expect(k.legacy.key.equals(key.key)).toBe(true);
  });

  test.each([
    ['v2 of this root', () => contentHmac(objectMacKeys(key, 'ns', 'u').content, c), { scheme: 'v2', keyId: key.id }],
    ['legacy of this root', () => contentHmac(key, c), { scheme: 'legacy', keyId: key.id }],
    ['no key id', () => `hmac-sha256:${'A'.repeat(43)}`, undefined],
    ['garbage', () => 'v2:sha256:x:y', undefined],
  ])('the mark says the scheme: %s', (_, mac, want) => {
    expect(macScheme(mac())).toEqual(want);
  });

  test('a MAC verifies only under the key it names', () => {
    const keys = objectMacKeys(key, 'ns', 'u');
    expect(macVerifies(keys, 'content', contentHmac(keys.content, c), c)).toBe(true);
    expect(macVerifies(keys, 'content', contentHmac(keys.legacy, c), c)).toBe(true);
    expect(macVerifies(keys, 'content', contentHmac(keys.envelope, c), c)).toBe(false);
    expect(macVerifies(keys, 'content', contentHmac(keys.content, c), { password: b('other') })).toBe(false);
    expect(keyOfMac(keys, 'content', contentHmac(objectMacKeys(hmacKey(Buffer.alloc(32, 9)), 'ns', 'u').content, c))).toBeUndefined();
  });
});

test('MACs compare in constant time, and unequal lengths or undefined are simply unequal', () => {
  expect(macEqual('abc', 'abc')).toBe(true);
  expect(macEqual('abc', 'abd')).toBe(false);
  expect(macEqual('abc', 'abcd')).toBe(false);
  expect(macEqual(undefined, 'abc')).toBe(false);
  expect(macEqual(undefined, undefined)).toBe(false);
});
