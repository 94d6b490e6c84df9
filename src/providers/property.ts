// Picking one property out of a map-shaped secret (Vault KV data, a JSON secret) and
// encoding values as bytes. Shared by providers so `property` means the same everywhere:
// a top-level key first, else a dotted path into nested objects; strings as UTF-8,
// anything else as JSON. Rotation writes go the other way: new values must be UTF-8 text.

import { InvalidValueError } from '../errors.js';

export type Lookup = { found: true; value: unknown } | { found: false };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `property` of `data`: the top-level key with that literal name if there is one, else (for
 * `a.b.c`) a walk through nested objects (array elements by index). Own keys only, so
 * `__proto__` or `constructor` never reach the prototype.
 */
export function lookupProperty(data: Record<string, unknown>, property: string): Lookup {
  if (Object.hasOwn(data, property)) return { found: true, value: data[property] };
  if (!property.includes('.')) return { found: false };
  let cur: unknown = data;
  for (const seg of property.split('.')) {
    if (isObject(cur) && Object.hasOwn(cur, seg)) cur = cur[seg];
    else if (Array.isArray(cur) && /^(0|[1-9]\d*)$/.test(seg) && Number(seg) < cur.length) cur = cur[Number(seg)];
    else return { found: false };
  }
  return { found: true, value: cur };
}

/**
 * A value as bytes: a string as UTF-8, anything else (numbers, objects, null) as JSON.
 * InvalidValueError for a value nested too deeply for JSON.stringify (JSON.parse takes any
 * depth, stringify recurses): a hostile source must not make that an internal error.
 */
export function encodeValue(value: unknown): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    throw new InvalidValueError('a value is JSON nested too deeply to store: keep the secret\'s values flat (strings), or read a shallower property');
  }
  return Buffer.from(text ?? 'null', 'utf8');
}

/**
 * A property that cannot be a key of the target Secret: "__proto__". Content is held in
 * plain objects from here to the agent's files (envelope, HMAC, Secret data), where
 * assigning it sets the prototype instead of a key, so it would vanish without a word.
 * Refused instead, saying how to sync it under another name.
 */
export const REFUSED_PROPERTY = '__proto__';

/** Every top-level property, encoded; InvalidValueError (naming `what`, the secret) for a property named "__proto__". */
export function encodeMap(data: Record<string, unknown>, what: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(data)) {
    if (k === REFUSED_PROPERTY) {
      throw new InvalidValueError(
        `${what} has a property "${REFUSED_PROPERTY}", which cannot be a key of the target Secret: rename it in the source, or sync it with spec.data (remoteRef.property "${REFUSED_PROPERTY}") under another key`,
      );
    }
    out[k] = encodeValue(v);
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `bytes` as a string if they are valid UTF-8 (a value to store as text), else undefined. */
export function utf8Text(bytes: Buffer): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}
