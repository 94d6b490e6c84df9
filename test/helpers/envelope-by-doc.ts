// An envelope decoder written from docs/envelope-format.md alone, sharing no code with
// src/crypto: if the operator's output and the document ever disagree, the tests that
// use this fail. `unwrap` is the caller's (Transit decrypt with a token, or KMS Decrypt).
import { createDecipheriv } from 'node:crypto';

export interface DocKek {
  type: string;
  version: string;
  [k: string]: unknown;
}
export interface DocEntry {
  version: number;
  kek: DocKek;
  wrappedKey: string;
  values: Record<string, string>;
  /** envelope/v2: the sealed template. */
  template?: string;
}

export interface DocSecret {
  type?: string;
  metadata: { namespace?: string; ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[] };
  data?: Record<string, string>;
}

const text = (b64: string | undefined) => (b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8'));

/**
 * The entries of an envelope Secret: `current`, the newest other `v<N>` as `previous`, and
 * every version held (`versions`, newest first; at most three entries in all).
 */
export function entriesByDoc(s: DocSecret): { format: string; current: DocEntry; previous?: DocEntry; versions: number[] } {
  if (s.type !== 'secretsync.io/envelope') throw new Error(`type is ${s.type}`);
  const data = s.data ?? {};
  const format = text(data.format) ?? '';
  const cur = Number(text(data.current));
  const current = JSON.parse(text(data[`v${cur}`]) ?? 'null') as DocEntry;
  const versions = Object.keys(data).filter((k) => /^v\d+$/.test(k)).map((k) => Number(k.slice(1))).sort((a, b) => b - a);
  if (versions.length > 3) throw new Error(`${versions.length} version entries; the document allows three`);
  const other = versions.find((v) => v !== cur);
  return { format, current, versions, ...(other !== undefined ? { previous: JSON.parse(text(data[`v${other}`]) ?? 'null') as DocEntry } : {}) };
}

/** Opens every value of `entry` for SecretSync `name` in `namespace` with the unwrapped data key. */
export function openByDoc(s: DocSecret, name: string, entry: DocEntry, dataKey: Buffer): Record<string, Buffer> {
  const owner = (s.metadata.ownerReferences ?? []).find((o) => o.kind === 'SecretSync' && o.controller === true);
  if (!owner || owner.name !== name) throw new Error('not controlled by that SecretSync');
  const out: Record<string, Buffer> = {};
  // An entry with a template: every ciphertext under the v2 prefix, the template under the key "/template".
  const prefix = entry.template === undefined ? 'secretsync.io/envelope/v1' : 'secretsync.io/envelope/v2';
  const sealed = { ...entry.values, ...(entry.template !== undefined ? { '/template': entry.template } : {}) };
  for (const [key, b64] of Object.entries(sealed)) {
    const raw = Buffer.from(b64, 'base64');
    const aad = [prefix, s.metadata.namespace ?? '', name, owner.uid, key, String(entry.version)].join('\0');
    const d = createDecipheriv('aes-256-gcm', dataKey, raw.subarray(0, 12));
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(raw.subarray(raw.length - 16));
    out[key] = Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]);
  }
  return out;
}

/** The KMS encryption context the document names. */
export const kmsContextByDoc = (namespace: string, name: string) => ({
  'secretsync.io/namespace': namespace,
  'secretsync.io/secretsync': name,
});
