// Envelope encryption of a SecretSync's content, and the layout of the envelope Secret
// (docs/envelope-format.md is the reference; a test decodes a stored Secret by it alone).
// node:crypto only: AES-256-GCM with a fresh data key per version and a random 96-bit
// nonce per value; the additional authenticated data binds each ciphertext to where it
// belongs (namespace, SecretSync name and uid, key, version), so a ciphertext copied to
// another Secret, namespace or version fails to open instead of opening as the wrong value.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { TargetTemplate } from '../api/template.js';

export const ENVELOPE_SECRET_TYPE = 'secretsync.io/envelope';
export const ENVELOPE_FORMAT = 'secretsync.io/envelope/v1';
/**
 * Version 2: version 1, plus version entries that carry a sealed template (spec.target.template)
 * the agent renders inside the pod. Written only while an entry with a template is held, so
 * an agent that knows only v1 refuses such a Secret instead of writing unrendered values.
 */
export const ENVELOPE_FORMAT_V2 = 'secretsync.io/envelope/v2';
const FORMATS = [ENVELOPE_FORMAT, ENVELOPE_FORMAT_V2];
/** The name the template is sealed under in the additional data: not a Secret key (those never hold "/"). */
export const TEMPLATE_AAD_KEY = '/template';

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const AAD_PREFIX = 'secretsync.io/envelope/v1';
/** The additional data of a templated entry's values and template: they never open as an entry without one. */
const AAD_PREFIX_V2 = 'secretsync.io/envelope/v2';

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
  /** envelope/v2: the template (JSON of spec.target.template) sealed like a value, under the key "/template". */
  template?: string;
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

/**
 * The additional authenticated data of one value (docs/envelope-format.md, "Additional data"):
 * `templated` for the values and the template of an entry that carries one (envelope/v2).
 */
export function additionalData(b: Binding, key: string, templated = false): Buffer {
  return Buffer.from([templated ? AAD_PREFIX_V2 : AAD_PREFIX, b.namespace, b.secretsync, b.uid, key, String(b.version)].join('\0'), 'utf8');
}

/** A fresh random data key (tests and callers that mint locally; the operator mints through a KeyEncrypter). */
export function randomDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

function checkKey(dataKey: Buffer): void {
  if (dataKey.length !== KEY_BYTES) throw new EnvelopeError(`a data key must be ${KEY_BYTES} bytes, got ${dataKey.length}`);
}

function sealOne(dataKey: Buffer, aad: Buffer, value: Buffer): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(ALGORITHM, dataKey, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(value), cipher.final()]);
  return Buffer.concat([nonce, ct, cipher.getAuthTag()]).toString('base64');
}

/** Encrypts every value of `content` under `dataKey`, each with its own nonce. */
export function seal(dataKey: Buffer, b: Binding, content: Record<string, Buffer>, templated = false): Record<string, string> {
  checkKey(dataKey);
  const out: Record<string, string> = {};
  for (const key of Object.keys(content).sort()) out[key] = sealOne(dataKey, additionalData(b, key, templated), content[key] ?? Buffer.alloc(0));
  return out;
}

/** The values and, when given, the template of one version entry, sealed (a template makes it an envelope/v2 entry). */
export function sealEntry(dataKey: Buffer, b: Binding, content: Record<string, Buffer>, template?: TargetTemplate): Pick<VersionEnvelope, 'values' | 'template'> {
  const values = seal(dataKey, b, content, template !== undefined);
  if (template === undefined) return { values };
  return { values, template: sealOne(dataKey, additionalData(b, TEMPLATE_AAD_KEY, true), Buffer.from(JSON.stringify({ data: template.data }), 'utf8')) };
}

function openOne(dataKey: Buffer, b: Binding, key: string, text: string, templated: boolean): Buffer {
  const what = key === TEMPLATE_AAD_KEY ? 'the template' : `value "${key}"`;
  const raw = Buffer.from(text, 'base64');
  if (raw.length < NONCE_BYTES + TAG_BYTES) throw new EnvelopeError(`${what} of version ${b.version} is too short to be a ciphertext`);
  const decipher = createDecipheriv(ALGORITHM, dataKey, raw.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(additionalData(b, key, templated));
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new EnvelopeError(
      `${what} of version ${b.version} does not open for SecretSync ${b.namespace}/${b.secretsync} (uid ${b.uid}): ` +
        'it was altered, or copied from another Secret, namespace or version',
    );
  }
}

/** Decrypts every value; throws EnvelopeError naming the first key that does not open. */
export function open(dataKey: Buffer, b: Binding, values: Record<string, string>, templated = false): Record<string, Buffer> {
  checkKey(dataKey);
  const out: Record<string, Buffer> = {};
  for (const [key, text] of Object.entries(values)) out[key] = openOne(dataKey, b, key, text, templated);
  return out;
}

/** Opens a version entry: its values and, for an envelope/v2 entry, its template. */
export function openEntry(dataKey: Buffer, b: Binding, entry: Pick<VersionEnvelope, 'values' | 'template'>): { values: Record<string, Buffer>; template?: TargetTemplate } {
  const templated = entry.template !== undefined;
  const values = open(dataKey, b, entry.values, templated);
  if (!templated) return { values };
  const raw = openOne(dataKey, b, TEMPLATE_AAD_KEY, entry.template as string, true);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new EnvelopeError(`the template of version ${b.version} is not JSON`);
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (typeof data !== 'object' || data === null || Object.values(data).some((t) => typeof t !== 'string')) {
    throw new EnvelopeError(`the template of version ${b.version} is not a template ({"data": {key: text}})`);
  }
  return { values, template: { data: data as Record<string, string> } };
}

const versionEntry = (v: number) => `v${v}`;

/** The envelope as Secret `.data` (base64 values, as the API stores them). */
export function encodeEnvelope(e: Envelope): Record<string, string> {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  const templated = heldVersions(e).some((v) => v.template !== undefined);
  const data: Record<string, string> = {
    format: b64(templated ? ENVELOPE_FORMAT_V2 : ENVELOPE_FORMAT),
    current: b64(String(e.current.version)),
    [versionEntry(e.current.version)]: b64(JSON.stringify(e.current)),
  };
  for (const p of e.previous ?? []) if (p.version !== e.current.version) data[versionEntry(p.version)] = b64(JSON.stringify(p));
  return data;
}

function parseVersion(text: string, entry: string, format: string): VersionEnvelope {
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
    typeof kek.version !== 'string' ||
    (o.template !== undefined && typeof o.template !== 'string')
  ) {
    throw new EnvelopeError(`entry ${entry} is not a version envelope (${format})`);
  }
  // A v1 reader must never see a template; the format says whether one may be there.
  if (o.template !== undefined && format === ENVELOPE_FORMAT) throw new EnvelopeError(`entry ${entry} carries a template, which ${ENVELOPE_FORMAT} does not`);
  if (versionEntry(o.version) !== entry) throw new EnvelopeError(`entry ${entry} holds version ${o.version}`);
  return o as VersionEnvelope;
}

/** Reads an envelope Secret's `.data`; throws EnvelopeError saying what is wrong. */
export function decodeEnvelope(data: Record<string, string> | undefined): Envelope {
  const text = (k: string) => (data?.[k] === undefined ? undefined : Buffer.from(data[k] as string, 'base64').toString('utf8'));
  const format = text('format');
  if (format === undefined || !FORMATS.includes(format)) {
    throw new EnvelopeError(format === undefined ? 'not an envelope: it has no "format" entry' : `unknown envelope format "${format.slice(0, 64)}" (this agent reads ${FORMATS.join(' and ')})`);
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
  const previous = others.map((k) => parseVersion(text(k) as string, k, format)).sort((a, b) => b.version - a.version);
  return { current: parseVersion(cur, versionEntry(current), format), ...(previous.length > 0 ? { previous } : {}) };
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
