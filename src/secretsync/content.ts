// The synced content as the operator compares it: a keyed HMAC (never a bare hash, which
// would let anyone with status access confirm a guessed value), its size, and the
// conversions to and from a Secret's base64 data.
//
// Keys. The operator holds one root key (src/kube/hmac-key.ts). Each SecretSync's MACs are
// made under keys derived from it with HKDF-SHA256, bound to the SecretSync's namespace and
// uid and to the purpose (the content HMAC in status and on the Secret, the envelope MAC),
// so equal values in two objects never have equal HMACs: no team can confirm a guess about
// another team's secret by syncing the guess and comparing (issue 18, item 4). A MAC names
// its scheme and key: `v2:hmac-sha256:<root key id>:<digest>` is per object;
// `hmac-sha256:<root key id>:<digest>` (no `v2:`) is the legacy scheme, keyed directly with
// the root key, still recognised so an upgrade re-keys quietly instead of counting every
// object as changed. A status written under a root key that is gone (the key Secret
// deleted, restored from a backup, the operator moved) is recognised as such instead of as
// new content.
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { constantTimeEqual } from '../crypto/compare.js';
import { SizeLimitError } from '../errors.js';

export type Content = Record<string, Buffer>;

/** A MAC key and a short public id of the root key it is (or is derived from): a hash, useless for guessing values. */
export interface HmacKey {
  key: Buffer;
  id: string;
  /** 'v2': derived per object (the MAC says so with its `v2:` mark); absent: the legacy root key itself. */
  scheme?: 'v2';
}

/** The keys one SecretSync's MACs are made with. */
export interface ObjectMacKeys {
  /** The root key's id. */
  id: string;
  /** status.contentHmac and the content-hmac annotation. */
  content: HmacKey;
  /** The envelope Secret's MAC over its data. */
  envelope: HmacKey;
  /** The root key itself: what MACs without the `v2:` mark were made with (read-only: recognised, never written). */
  legacy: HmacKey;
}

const PREFIX = 'hmac-sha256';
const V2 = 'v2';
const HKDF_SALT = Buffer.from('secretsync.io/mac-key/v2', 'utf8');

export function hmacKey(key: Buffer): HmacKey {
  const id = createHash('sha256').update('secretsync/hmac-key-id/v1\0').update(key).digest('base64url').slice(0, 8);
  return { key, id };
}

/** Length-prefixed (4 bytes, big-endian) fields: no two tuples encode alike. */
function lengthPrefixed(fields: string[]): Buffer {
  return Buffer.concat(
    fields.flatMap((f) => {
      const b = Buffer.from(f, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length, 0);
      return [len, b];
    }),
  );
}

/** HKDF-SHA256 of the root key, bound to purpose, namespace and uid. */
export function derivedKey(root: HmacKey, purpose: 'content' | 'envelope', namespace: string, uid: string): HmacKey {
  const info = lengthPrefixed([`secretsync.io/${purpose}-mac`, namespace, uid]);
  return { key: Buffer.from(hkdfSync('sha256', root.key, HKDF_SALT, info, 32)), id: root.id, scheme: V2 };
}

/** The MAC keys of the SecretSync with this namespace and uid. */
export function objectMacKeys(root: HmacKey, namespace: string, uid: string): ObjectMacKeys {
  return {
    id: root.id,
    content: derivedKey(root, 'content', namespace, uid),
    envelope: derivedKey(root, 'envelope', namespace, uid),
    legacy: { key: root.key, id: root.id },
  };
}

/** `[v2:]hmac-sha256:<key id>:<digest>` over the keys and values, length-prefixed so no two contents collide. */
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
  return `${k.scheme === V2 ? `${V2}:` : ''}${PREFIX}:${k.id}:${h.digest('base64url')}`;
}

/** What a MAC's text says about how it was made: its scheme and root key id; undefined when it names no key. */
export function macScheme(mac: string | undefined): { scheme: 'v2' | 'legacy'; keyId: string } | undefined {
  const parts = (mac ?? '').split(':');
  if (parts.length === 4 && parts[0] === V2 && parts[1] === PREFIX && parts[2]) return { scheme: 'v2', keyId: parts[2] };
  if (parts.length === 3 && parts[0] === PREFIX && parts[1]) return { scheme: 'legacy', keyId: parts[1] };
  return undefined;
}

/** The root key id an HMAC was made with (either scheme); undefined for a format without one. */
export function hmacKeyIdOf(hmac: string | undefined): string | undefined {
  return macScheme(hmac)?.keyId;
}

/**
 * The key of `keys` that `mac` says it was made with: the per-object key of `purpose` for a
 * `v2:` MAC, the root key for a legacy one; undefined when it names another root key or none.
 */
export function keyOfMac(keys: ObjectMacKeys, purpose: 'content' | 'envelope', mac: string | undefined): HmacKey | undefined {
  const s = macScheme(mac);
  if (!s || s.keyId !== keys.id) return undefined;
  return s.scheme === 'v2' ? keys[purpose] : keys.legacy;
}

/** Constant-time equality of two MAC strings (their length is public: it follows from the format). */
export const macEqual = constantTimeEqual;

/** Whether `mac` is the MAC of `content` under the key it names (one of `keys`); false when it names another key. */
export function macVerifies(keys: ObjectMacKeys, purpose: 'content' | 'envelope', mac: string | undefined, content: Content): boolean {
  const k = keyOfMac(keys, purpose, mac);
  return k !== undefined && macEqual(mac, contentHmac(k, content));
}

/** A MAC of the legacy (global-key) scheme. */
export function isLegacyMac(mac: string | undefined): boolean {
  return macScheme(mac)?.scheme === 'legacy';
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
