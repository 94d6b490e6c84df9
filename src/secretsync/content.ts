// The synced content as the operator compares it: a keyed HMAC (never a bare hash, which
// would let anyone with status access confirm a guessed value), its size, and the
// conversions to and from a Secret's base64 data. The HMAC names the key it was made
// with, so a status written under a key that is gone (the key Secret deleted, restored
// from a backup, the operator moved) is recognised as such instead of as new content.
import { createHash, createHmac } from 'node:crypto';
import { SizeLimitError } from '../errors.js';

export type Content = Record<string, Buffer>;

/** The operator's HMAC key and a short public id of it (a hash, useless for guessing values). */
export interface HmacKey {
  key: Buffer;
  id: string;
}

const PREFIX = 'hmac-sha256';

export function hmacKey(key: Buffer): HmacKey {
  const id = createHash('sha256').update('secretsync/hmac-key-id/v1\0').update(key).digest('base64url').slice(0, 8);
  return { key, id };
}

/** `hmac-sha256:<key id>:<digest>` over the keys and values, length-prefixed so no two contents collide. */
export function contentHmac(k: HmacKey, content: Content): string {
  const h = createHmac('sha256', k.key);
  for (const name of Object.keys(content).sort()) {
    const v = content[name] ?? Buffer.alloc(0);
    const kb = Buffer.from(name, 'utf8');
    const len = Buffer.alloc(8);
    len.writeUInt32BE(kb.length, 0);
    len.writeUInt32BE(v.length, 4);
    h.update(len).update(kb).update(v);
  }
  return `${PREFIX}:${k.id}:${h.digest('base64url')}`;
}

/** The key id an HMAC was made with; undefined for the older format without one. */
export function hmacKeyIdOf(hmac: string | undefined): string | undefined {
  const parts = (hmac ?? '').split(':');
  return parts.length === 3 && parts[0] === PREFIX ? parts[1] : undefined;
}

export function contentSize(content: Content): number {
  return Object.entries(content).reduce((n, [k, v]) => n + Buffer.byteLength(k) + v.length, 0);
}

export function checkSize(content: Content, maxBytes: number): void {
  const size = contentSize(content);
  if (size > maxBytes) {
    throw new SizeLimitError(
      `synced content is ${size} bytes, over spec.target.maxSizeBytes (${maxBytes}): sync fewer keys or raise the limit (at most 1048576)`,
    );
  }
}

/** Byte-for-byte equality of two contents (same keys, same values). */
export function sameContent(a: Content, b: Content): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => {
    const x = a[k];
    const y = b[k];
    return x !== undefined && y !== undefined && x.equals(y);
  });
}

/** Secret .data (base64) → Content. */
export function fromSecretData(data: Record<string, string> | undefined): Content {
  const out: Content = {};
  for (const [k, v] of Object.entries(data ?? {})) out[k] = Buffer.from(v, 'base64');
  return out;
}

export function toSecretData(content: Content): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(content).sort()) out[k] = (content[k] ?? Buffer.alloc(0)).toString('base64');
  return out;
}
