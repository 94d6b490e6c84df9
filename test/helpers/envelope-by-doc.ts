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
}

export interface DocSecret {
  type?: string;
  metadata: { namespace?: string; ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[] };
  data?: Record<string, string>;
}

const text = (b64: string | undefined) => (b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8'));

/** The entries of an envelope Secret: `current` and, if present, the one other `v<N>`. */
export function entriesByDoc(s: DocSecret): { format: string; current: DocEntry; previous?: DocEntry } {
  if (s.type !== 'secretsync.io/envelope') throw new Error(`type is ${s.type}`);
  const data = s.data ?? {};
  const format = text(data.format) ?? '';
  const cur = Number(text(data.current));
  const current = JSON.parse(text(data[`v${cur}`]) ?? 'null') as DocEntry;
  const other = Object.keys(data).find((k) => /^v\d+$/.test(k) && k !== `v${cur}`);
  return { format, current, ...(other ? { previous: JSON.parse(text(data[other]) ?? 'null') as DocEntry } : {}) };
}

/** Opens every value of `entry` for SecretSync `name` in `namespace` with the unwrapped data key. */
export function openByDoc(s: DocSecret, name: string, entry: DocEntry, dataKey: Buffer): Record<string, Buffer> {
  const owner = (s.metadata.ownerReferences ?? []).find((o) => o.kind === 'SecretSync' && o.controller === true);
  if (!owner || owner.name !== name) throw new Error('not controlled by that SecretSync');
  const out: Record<string, Buffer> = {};
  for (const [key, b64] of Object.entries(entry.values)) {
    const raw = Buffer.from(b64, 'base64');
    const aad = ['secretsync.io/envelope/v1', s.metadata.namespace ?? '', name, owner.uid, key, String(entry.version)].join('\0');
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
