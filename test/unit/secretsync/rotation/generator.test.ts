import { randomBytes } from 'node:crypto';
import type { RotationCharset } from '../../../../src/api/types.js';
import { ALPHABETS, CHARSETS, DEFAULT_CHARSET, DEFAULT_LENGTH, generate, MAX_LENGTH, MIN_LENGTH } from '../../../../src/secretsync/rotation/generator.js';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

test('the alphabets are what the API documents', () => {
  expect(ALPHABETS.alphanumeric).toBe(ALPHANUMERIC);
  expect(ALPHABETS.hex).toBe('0123456789abcdef');
  expect(ALPHABETS.base64).toBe(`${ALPHANUMERIC}+/`);
  const printable = ALPHABETS['ascii-printable'];
  expect(printable).toHaveLength(94);
  expect(printable[0]).toBe('!');
  expect(printable[93]).toBe('~');
  expect(printable).not.toContain(' ');
  for (const a of Object.values(ALPHABETS)) expect(new Set(a).size).toBe(a.length);
  expect([...CHARSETS].sort()).toEqual(['alphanumeric', 'ascii-printable', 'base64', 'hex']);
});

test('defaults: 32 alphanumeric characters', () => {
  expect(DEFAULT_LENGTH).toBe(32);
  expect(DEFAULT_CHARSET).toBe('alphanumeric');
  const v = generate();
  expect(v).toHaveLength(32);
  for (const c of v.toString('latin1')) expect(ALPHANUMERIC).toContain(c);
});

test.each(CHARSETS)('%s: exactly the length asked, only characters of the set, and every one of them', (charset: RotationCharset) => {
  const alphabet = ALPHABETS[charset];
  for (const n of [MIN_LENGTH, 33, 1000]) expect(generate(n, charset)).toHaveLength(n);
  // 4096 draws from at most 94 characters: a given one is missing with probability < 1e-18.
  const v = generate(MAX_LENGTH, charset).toString('latin1');
  expect(v).toHaveLength(MAX_LENGTH);
  for (const c of v) expect(alphabet).toContain(c);
  expect(new Set(v).size).toBe(alphabet.length);
});

test('base64 has no padding', () => {
  expect(generate(MAX_LENGTH, 'base64').toString('latin1')).not.toContain('=');
});

test('lengths outside 8..4096, or not integers, are refused', () => {
  expect(MIN_LENGTH).toBe(8);
  expect(MAX_LENGTH).toBe(4096);
  for (const n of [0, 7, 4097, 8.5, NaN]) expect(() => generate(n, 'hex')).toThrow(RangeError);
  expect(() => generate(8, 'base32' as RotationCharset)).toThrow(RangeError);
});

// Uniformity: Pearson's chi-square statistic over the character counts of N draws. For a
// uniform generator it follows chi-square with 61 degrees of freedom; THRESHOLD is where
// its upper tail falls below 1e-6 (checked below), so a correct generator fails this test
// less than once in a million runs.
const N = 200_000;
const THRESHOLD = 130;

function chiSquare(draw: (n: number) => Buffer, alphabet: string): number {
  const index = new Map([...alphabet].map((c, i) => [c.charCodeAt(0), i]));
  const counts = new Array<number>(alphabet.length).fill(0);
  for (let done = 0; done < N; done += MAX_LENGTH) {
    for (const b of draw(Math.min(MAX_LENGTH, N - done))) counts[index.get(b)!]! += 1;
  }
  const expected = N / alphabet.length;
  return counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
}

/** P(X > x) for X chi-square with 2n+1 degrees of freedom: Q(n + 1/2, x/2), an upper bound. */
function chiSquareTailOddDf(df: number, x: number): number {
  // Q(a+1, y) = Q(a, y) + y^a e^-y / Γ(a+1), from Q(1/2, y) = erfc(√y) <= e^-y / (√y √π).
  const y = x / 2;
  let term = Math.sqrt(y) * Math.exp(-y) / (Math.sqrt(Math.PI) / 2); // y^(1/2) e^-y / Γ(3/2)
  let sum = Math.exp(-y) / (Math.sqrt(y) * Math.sqrt(Math.PI));
  for (let j = 0; j < (df - 1) / 2; j++) {
    sum += term;
    term *= y / (j + 1.5);
  }
  return sum;
}

test('the threshold: a uniform generator exceeds it with probability < 1e-6', () => {
  // Table values: chi-square(5) has 0.001 above 20.515, chi-square(9) 0.001 above 27.877.
  expect(chiSquareTailOddDf(5, 20.515)).toBeCloseTo(0.001, 5);
  expect(chiSquareTailOddDf(9, 27.877)).toBeCloseTo(0.001, 5);
  // chi-square(61) has 6.6e-7 above 130.
  expect(chiSquareTailOddDf(61, THRESHOLD)).toBeLessThan(1e-6);
  expect(chiSquareTailOddDf(61, THRESHOLD)).toBeGreaterThan(5e-7); // not needlessly loose
});

test('alphanumeric characters are uniform (chi-square over 200k draws)', () => {
  expect(chiSquare((n) => generate(n, 'alphanumeric'), ALPHANUMERIC)).toBeLessThan(THRESHOLD);
});

test('the uniformity test catches modulo bias: `randomBytes()[i] % 62` fails it', () => {
  // 256 = 4 * 62 + 8: the first 8 characters come up 5 times in 256, the others 4.
  const biased = (n: number) => Buffer.from([...randomBytes(n)].map((b) => ALPHANUMERIC.charCodeAt(b % 62)));
  expect(chiSquare(biased, ALPHANUMERIC)).toBeGreaterThan(THRESHOLD);
});
