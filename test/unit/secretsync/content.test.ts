import { checkSize, contentHmac, fromSecretData, toSecretData } from '../../../src/secretsync/content.js';
import { SizeLimitError } from '../../../src/errors.js';

const key = Buffer.alloc(32, 7);
const b = (s: string) => Buffer.from(s);

test('the HMAC is keyed, order-independent and sensitive to every byte', () => {
  const h = contentHmac(key, { a: b('1'), b: b('2') });
  expect(h).toMatch(/^hmac-sha256:[A-Za-z0-9_-]{43}$/);
  expect(contentHmac(key, { b: b('2'), a: b('1') })).toBe(h);
  expect(contentHmac(key, { a: b('1'), b: b('3') })).not.toBe(h);
  expect(contentHmac(Buffer.alloc(32, 8), { a: b('1'), b: b('2') })).not.toBe(h);
  // Length prefixes: moving a byte between key and value changes the HMAC.
  expect(contentHmac(key, { ab: b('c') })).not.toBe(contentHmac(key, { a: b('bc') }));
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
