// The synced content as the operator compares it: a keyed HMAC (never a bare hash, which
// would let anyone with status access confirm a guessed value) and its size.
import { createHmac } from 'node:crypto';
import { SizeLimitError } from '../errors.js';

export type Content = Record<string, Buffer>;

/** HMAC-SHA256 over the keys and values, length-prefixed so that no two contents collide. */
export function contentHmac(key: Buffer, content: Content): string {
  const h = createHmac('sha256', key);
  for (const k of Object.keys(content).sort()) {
    const v = content[k] ?? Buffer.alloc(0);
    const kb = Buffer.from(k, 'utf8');
    const len = Buffer.alloc(8);
    len.writeUInt32BE(kb.length, 0);
    len.writeUInt32BE(v.length, 4);
    h.update(len).update(kb).update(v);
  }
  return `hmac-sha256:${h.digest('base64url')}`;
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
