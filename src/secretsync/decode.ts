// spec.data[].decodingStrategy and spec.dataFrom[].decodingStrategy: values stored encoded at
// the source (certificates, binary keys) decoded before they are synced, with External
// Secrets Operator's names and meanings. Pure. Decoding is strict: Buffer.from(s, 'base64')
// skips characters it does not know, so a value that is not base64 would come out as
// garbage instead of an error; here it must match the alphabet and the padding exactly.
// Line breaks are ignored, as Go's decoder ignores them (`base64` wraps at 76 columns).
import { DecodingFailedError, InvalidSpecError } from '../errors.js';

export type Strategy = 'None' | 'Base64' | 'Base64URL' | 'Auto';

const NAMES: readonly Strategy[] = ['None', 'Base64', 'Base64URL', 'Auto'];

const PADDED_STD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const PADDED_URL = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?$/;
const UNPADDED_URL = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2,3})?$/;

/** The strategy a spec names (any case; absent: None). `field` names it in the error. */
export function strategyOf(written: string | undefined, field: string): Strategy {
  if (written === undefined || written === '') return 'None';
  const found = NAMES.find((n) => n.toLowerCase() === written.toLowerCase());
  if (!found) throw new InvalidSpecError(`${field} "${written.slice(0, 32)}" is not a decoding strategy: write None, Base64, Base64URL or Auto`);
  return found;
}

function text(value: Buffer): string | undefined {
  // base64 text is ASCII: anything else (e.g. a binary value) does not decode.
  for (const b of value) if (b > 0x7e) return undefined;
  return value.toString('latin1').replace(/[\r\n]/g, '');
}

/** The decoded bytes, or undefined when `value` is not valid under `strategy` (None and Auto always decode). */
export function tryDecode(value: Buffer, strategy: Strategy): Buffer | undefined {
  if (strategy === 'None') return value;
  const s = text(value);
  const std = s !== undefined && PADDED_STD.test(s);
  switch (strategy) {
    case 'Base64':
      return std ? Buffer.from(s as string, 'base64') : undefined;
    case 'Base64URL':
      return s !== undefined && (PADDED_URL.test(s) || UNPADDED_URL.test(s)) ? Buffer.from(s, 'base64url') : undefined;
    case 'Auto':
      // As ESO: Base64, then Base64URL (padded, as Go's URLEncoding), else the value as stored.
      if (std) return Buffer.from(s as string, 'base64');
      return s !== undefined && PADDED_URL.test(s) ? Buffer.from(s, 'base64url') : value;
  }
}

/**
 * `value` decoded under `strategy`, or DecodingFailedError naming `what` (the key, never
 * the value) and the strategy.
 */
export function decodeValue(value: Buffer, strategy: Strategy, what: string): Buffer {
  const out = tryDecode(value, strategy);
  if (out !== undefined) return out;
  const alphabet = strategy === 'Base64' ? 'A-Z a-z 0-9 + / with = padding' : 'A-Z a-z 0-9 - _, padding optional';
  throw new DecodingFailedError(
    `${what} is not valid ${strategy} (${alphabet}; line breaks are ignored): nothing was written. ` +
      `Store it encoded so, or change its decodingStrategy (None keeps it as stored; Auto keeps what does not decode)`,
  );
}
