// Envelope encryption of a SecretSync's content, and the layout of the envelope Secret
// (docs/envelope-format.md is the reference; a test decodes a stored Secret by it alone).
// node:crypto only: AES-256-GCM with a fresh data key per version and a random 96-bit
// nonce per value; the additional authenticated data binds each ciphertext to where it
// belongs (namespace, SecretSync name and uid, key, version), so a ciphertext copied to
// another Secret, namespace or version fails to open instead of opening as the wrong value.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const ENVELOPE_SECRET_TYPE = 'secretsync.io/envelope';
export const ENVELOPE_FORMAT = 'secretsync.io/envelope/v1';

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const AAD_PREFIX = 'secretsync.io/envelope/v1';

/** Where the KEK is and how a pod reaches it: stored in each version, so the agent needs nothing else. */
export type KekCoordinates =
  | {
      type: 'vault-transit';
      /** The Vault address of the SecretSource (the agent may override it). */
      address: string;
      /** Vault Enterprise / OpenBao namespace. */
      namespace?: string;
      mount: string;
      key: string;
      /** Transit key version that wrapped the data key. */
      version: string;
      /** The Kubernetes auth the agent logs in with. */
      agentAuth: { mount: string; role: string };
    }
  | {
      type: 'aws-kms';
      region: string;
      endpoint?: string;
      /** The key as the SecretSync names it (id, ARN or alias). */
      keyId: string;
      /** ARN of the key that wrapped the data key. */
      version: string;
    };

/** What a ciphertext is bound to (the GCM additional data). */
export interface Binding {
  namespace: string;
  secretsync: string;
  uid: string;
  version: number;
}

/** One version of the content, encrypted. */
export interface VersionEnvelope {
  version: number;
  kek: KekCoordinates;
  /** The data key, wrapped by the KEK (Transit `vault:vN:…`, or base64 KMS CiphertextBlob). */
  wrappedKey: string;
  /** Per key: base64(nonce ‖ ciphertext ‖ tag). */
  values: Record<string, string>;
}

/**
 * At most this many versions in one envelope (the current one included): older versions
 * stay while a rollout may still run pods pinned to them (docs/envelope-format.md).
 */
export const MAX_ENVELOPE_VERSIONS = 3;

/** The current version and, while rollouts may still need them, older ones (newest first). */
export interface Envelope {
  current: VersionEnvelope;
  /** Older versions, newest first; at most MAX_ENVELOPE_VERSIONS - 1. */
  previous?: VersionEnvelope[];
}

/** Every version the envelope holds, current first. */
export function heldVersions(e: Envelope): VersionEnvelope[] {
  return [e.current, ...(e.previous ?? [])];
}

/** An envelope that is malformed, or a ciphertext that does not open: the message says which and why. */
export class EnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvelopeError';
  }
}

/** The additional authenticated data of one value (docs/envelope-format.md, "Additional data"). */
export function additionalData(b: Binding, key: string): Buffer {
  return Buffer.from([AAD_PREFIX, b.namespace, b.secretsync, b.uid, key, String(b.version)].join('\0'), 'utf8');
}

/** A fresh random data key (tests and callers that mint locally; the operator mints through a KeyEncrypter). */
export function randomDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

function checkKey(dataKey: Buffer): void {
  if (dataKey.length !== KEY_BYTES) throw new EnvelopeError(`a data key must be ${KEY_BYTES} bytes, got ${dataKey.length}`);
}

/** Encrypts every value of `content` under `dataKey`, each with its own nonce. */
export function seal(dataKey: Buffer, b: Binding, content: Record<string, Buffer>): Record<string, string> {
  checkKey(dataKey);
  const out: Record<string, string> = {};
  for (const key of Object.keys(content).sort()) {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(ALGORITHM, dataKey, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(b, key));
    const ct = Buffer.concat([cipher.update(content[key] ?? Buffer.alloc(0)), cipher.final()]);
    out[key] = Buffer.concat([nonce, ct, cipher.getAuthTag()]).toString('base64');
  }
  return out;
}

/** Decrypts every value; throws EnvelopeError naming the first key that does not open. */
export function open(dataKey: Buffer, b: Binding, values: Record<string, string>): Record<string, Buffer> {
  checkKey(dataKey);
  const out: Record<string, Buffer> = {};
  for (const [key, text] of Object.entries(values)) {
    const raw = Buffer.from(text, 'base64');
    if (raw.length < NONCE_BYTES + TAG_BYTES) throw new EnvelopeError(`value "${key}" of version ${b.version} is too short to be a ciphertext`);
    const decipher = createDecipheriv(ALGORITHM, dataKey, raw.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData(b, key));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    try {
      out[key] = Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new EnvelopeError(
        `value "${key}" of version ${b.version} does not open for SecretSync ${b.namespace}/${b.secretsync} (uid ${b.uid}): ` +
          'it was altered, or copied from another Secret, namespace or version',
      );
    }
  }
  return out;
}

const versionEntry = (v: number) => `v${v}`;

/** The envelope as Secret `.data` (base64 values, as the API stores them). */
export function encodeEnvelope(e: Envelope): Record<string, string> {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  const data: Record<string, string> = {
    format: b64(ENVELOPE_FORMAT),
    current: b64(String(e.current.version)),
    [versionEntry(e.current.version)]: b64(JSON.stringify(e.current)),
  };
  for (const p of e.previous ?? []) if (p.version !== e.current.version) data[versionEntry(p.version)] = b64(JSON.stringify(p));
  return data;
}

function parseVersion(text: string, entry: string): VersionEnvelope {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new EnvelopeError(`entry ${entry} is not JSON`);
  }
  const o = v as Partial<VersionEnvelope> | null;
  const kek = o?.kek as Partial<KekCoordinates> | undefined;
  if (
    !o ||
    typeof o.version !== 'number' ||
    typeof o.wrappedKey !== 'string' ||
    typeof o.values !== 'object' ||
    o.values === null ||
    Object.values(o.values).some((x) => typeof x !== 'string') ||
    !kek ||
    (kek.type !== 'vault-transit' && kek.type !== 'aws-kms') ||
    typeof kek.version !== 'string'
  ) {
    throw new EnvelopeError(`entry ${entry} is not a version envelope (${ENVELOPE_FORMAT})`);
  }
  if (versionEntry(o.version) !== entry) throw new EnvelopeError(`entry ${entry} holds version ${o.version}`);
  return o as VersionEnvelope;
}

/** Reads an envelope Secret's `.data`; throws EnvelopeError saying what is wrong. */
export function decodeEnvelope(data: Record<string, string> | undefined): Envelope {
  const text = (k: string) => (data?.[k] === undefined ? undefined : Buffer.from(data[k] as string, 'base64').toString('utf8'));
  const format = text('format');
  if (format !== ENVELOPE_FORMAT) {
    throw new EnvelopeError(format === undefined ? 'not an envelope: it has no "format" entry' : `unknown envelope format "${format.slice(0, 64)}" (this agent reads ${ENVELOPE_FORMAT})`);
  }
  const current = Number(text('current'));
  if (!Number.isSafeInteger(current) || current < 1) throw new EnvelopeError('the "current" entry is not a version number');
  const entries = Object.keys(data ?? {}).filter((k) => /^v\d+$/.test(k));
  const cur = text(versionEntry(current));
  if (cur === undefined) throw new EnvelopeError(`the current version ${current} has no entry v${current}`);
  const others = entries.filter((k) => k !== versionEntry(current));
  if (entries.length > MAX_ENVELOPE_VERSIONS) {
    throw new EnvelopeError(`it holds ${entries.length} versions; an envelope holds the current and at most ${MAX_ENVELOPE_VERSIONS - 1} older ones`);
  }
  const previous = others.map((k) => parseVersion(text(k) as string, k)).sort((a, b) => b.version - a.version);
  return { current: parseVersion(cur, versionEntry(current)), ...(previous.length > 0 ? { previous } : {}) };
}

/** The version entry asked for; EnvelopeError naming the versions the Secret holds. */
export function pickVersion(e: Envelope, version?: number): VersionEnvelope {
  if (version === undefined) return e.current;
  const found = heldVersions(e).find((v) => v.version === version);
  if (found) return found;
  throw new EnvelopeError(`version ${version} is not in the Secret (it holds version ${heldText(e)})`);
}

/** "4", "4 and 3", "4, 3 and 2": the versions an envelope holds, for messages. */
export function heldText(e: Envelope): string {
  const all = heldVersions(e).map((v) => String(v.version));
  return all.length === 1 ? all[0]! : `${all.slice(0, -1).join(', ')} and ${all.at(-1)!}`;
}
