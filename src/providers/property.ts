// Picking one property out of a map-shaped secret (Vault KV data, a JSON secret) and
// encoding values as bytes. Shared by providers so `property` means the same everywhere:
// a top-level key first, else a dotted path into nested objects; strings as UTF-8,
// anything else as JSON. Rotation writes go the other way: new values must be UTF-8 text.

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

/** A value as bytes: a string as UTF-8, anything else (numbers, objects, null) as JSON. */
export function encodeValue(value: unknown): Buffer {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value) ?? 'null', 'utf8');
}

/** Every top-level property, encoded. */
export function encodeMap(data: Record<string, unknown>): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(data)) out[k] = encodeValue(v);
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
