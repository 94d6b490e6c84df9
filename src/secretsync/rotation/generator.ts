// New secret values for rotation. Each character is drawn with crypto.randomInt, which
// rejection-samples: every character of the alphabet is equally likely. Indexing the
// alphabet with `randomBytes()[i] % n` would not be (256 is not a multiple of 62, so the
// first 8 characters would come up 25% more often than the rest).
import { randomInt } from 'node:crypto';
import type { RotationCharset } from '../../api/types.js';

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';

/** The 94 printable ASCII characters 0x21..0x7e (no space). */
const PRINTABLE = String.fromCharCode(...Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => 0x21 + i));

/** The characters each charset draws from. base64 is its alphabet only: no `=` padding. */
export const ALPHABETS: Readonly<Record<RotationCharset, string>> = {
  alphanumeric: UPPER + LOWER + DIGITS,
  'ascii-printable': PRINTABLE,
  hex: '0123456789abcdef',
  base64: UPPER + LOWER + DIGITS + '+/',
};

export const CHARSETS: readonly RotationCharset[] = Object.keys(ALPHABETS) as RotationCharset[];
export const DEFAULT_LENGTH = 32;
export const DEFAULT_CHARSET: RotationCharset = 'alphanumeric';
export const MIN_LENGTH = 8;
export const MAX_LENGTH = 4096;

/** `length` characters drawn uniformly and independently from `charset`'s alphabet. */
export function generate(length: number = DEFAULT_LENGTH, charset: RotationCharset = DEFAULT_CHARSET): Buffer {
  if (!Number.isInteger(length) || length < MIN_LENGTH || length > MAX_LENGTH) {
    throw new RangeError(`length ${length} is not an integer in ${MIN_LENGTH}..${MAX_LENGTH}`);
  }
  const alphabet = ALPHABETS[charset];
  if (alphabet === undefined) throw new RangeError(`charset "${String(charset)}" is not one of ${CHARSETS.join(', ')}`);
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = alphabet.charCodeAt(randomInt(alphabet.length));
  return out;
}
