// Envelope mode, the domain side: the envelope a target Secret holds (if intact), what one
// reconcile must do to it — keep it, re-wrap its data keys under the KEK's newest version,
// or mint a data key for a new version — and the Secret body that carries it. Pure; the
// reconciler does the one key-service call an action needs.
//
// A data key is minted once per version, never per reconcile: a refresh that finds the
// same content keeps the stored ciphertext as it is. The operator cannot open its own
// envelopes (it never holds decrypt rights), so it recognises an intact one by a keyed
// MAC over the Secret's data, in the annotation secretsync.io/envelope-mac, made under a key
// derived for this SecretSync (content.ts): an envelope copied from another SecretSync's
// Secret does not verify. A MAC that names a key the operator does not have (or none) is
// not trusted either: the Secret is repaired as altered.
import {
  ENVELOPE_SECRET_TYPE,
  decodeEnvelope,
  encodeEnvelope,
  type Envelope,
  type KekCoordinates,
  type VersionEnvelope,
} from '../crypto/envelope.js';
import type { SecretSync } from '../api/types.js';
import { contentHmac, fromSecretData, keyOfMac, macEqual, type HmacKey, type ObjectMacKeys } from './content.js';
import { sameKek } from './kek.js';
import type { KubeSecret } from './ports.js';
import { agentAnnotations, type TargetBody } from './target.js';

export const ENVELOPE_MAC_ANNOTATION = 'secretsync.io/envelope-mac';
/** The keyed HMAC of the current version's plaintext (as in status.contentHmac): which content the envelope holds. */
export const CONTENT_HMAC_ANNOTATION = 'secretsync.io/content-hmac';

/** The content HMAC the held envelope was written for. */
export function heldContentHmac(target: KubeSecret | undefined): string | undefined {
  return target?.metadata.annotations?.[CONTENT_HMAC_ANNOTATION];
}

export function envelopeMac(k: HmacKey, data: Record<string, string>): string {
  return contentHmac(k, fromSecretData(data));
}

/**
 * The key `target`'s envelope MAC was made with, when the MAC verifies under it: the
 * per-object envelope key, or for a Secret written before per-object keys the root key
 * (legacy scheme). Undefined for a missing or wrong MAC, or one naming a key the operator
 * does not hold: nobody can tell such an envelope from a crafted one.
 */
export function heldEnvelopeKey(target: KubeSecret | undefined, keys: ObjectMacKeys): HmacKey | undefined {
  if (!target || target.type !== ENVELOPE_SECRET_TYPE) return undefined;
  const mac = target.metadata.annotations?.[ENVELOPE_MAC_ANNOTATION];
  const k = keyOfMac(keys, 'envelope', mac);
  if (!k || !macEqual(mac, envelopeMac(k, target.data ?? {}))) return undefined;
  return k;
}

/**
 * The envelope `target` holds, when it is one the operator wrote for this SecretSync and
 * nobody altered since (heldEnvelopeKey); undefined otherwise, or when its data does not decode.
 */
export function heldEnvelope(target: KubeSecret | undefined, keys: ObjectMacKeys): Envelope | undefined {
  if (!heldEnvelopeKey(target, keys)) return undefined;
  try {
    return decodeEnvelope(target?.data);
  } catch {
    return undefined;
  }
}

/** The envelope Secret's type, data and annotations; `contentHmac` is that of the current version's plaintext. */
export function envelopeBody(ss: SecretSync, e: Envelope, k: HmacKey, contentHmac: string | undefined): TargetBody {
  const data = encodeEnvelope(e);
  return {
    type: ENVELOPE_SECRET_TYPE,
    data,
    annotations: {
      ...agentAnnotations(ss, e.current.version),
      [ENVELOPE_MAC_ANNOTATION]: envelopeMac(k, data),
      ...(contentHmac ? { [CONTENT_HMAC_ANNOTATION]: contentHmac } : {}),
    },
  };
}

export type SealAction =
  /** The held envelope is right as it is. */
  | { kind: 'keep'; envelope: Envelope }
  /** The held envelope is right, but these versions' data keys are wrapped by an older KEK version. */
  | { kind: 'rewrap'; envelope: Envelope; versions: number[] }
  /** A data key must be minted for `version` (a new version, or the KEK changed, or the Secret was altered). */
  | { kind: 'mint'; version: number; previous?: VersionEnvelope };

/**
 * Whether a data key wrapped as `entry` says can be re-wrapped to `kek` by the key service,
 * without the plaintext leaving it: the same Transit key, or any key of the same KMS
 * (ReEncrypt moves a data key from one KMS key to another; Transit rewrap stays in its key).
 */
export function rewrappable(entry: KekCoordinates, kek: KekCoordinates): boolean {
  if (sameKek(entry, kek)) return true;
  return entry.type === 'aws-kms' && kek.type === 'aws-kms' && entry.region === kek.region && (entry.endpoint ?? '') === (kek.endpoint ?? '');
}

/** Versions of `e` to re-wrap: wrapped by another version of this KEK than `latest`, or by another key of the same KMS. */
export function staleVersions(e: Envelope, kek: KekCoordinates, latest: string | undefined): number[] {
  return [e.current, e.previous]
    .filter(
      (v): v is VersionEnvelope =>
        v !== undefined && rewrappable(v.kek, kek) && (!sameKek(v.kek, kek) || (latest !== undefined && v.kek.version !== latest)),
    )
    .map((v) => v.version);
}

/**
 * What to do for `version` of the content, given the envelope held (if intact), whether it
 * holds this very content (its content HMAC matches), the KEK the spec names (`kek`, its
 * version aside) and the KEK's newest known version.
 */
export function sealAction(
  held: Envelope | undefined,
  holdsContent: boolean,
  version: number,
  kek: KekCoordinates,
  latest: string | undefined,
): SealAction {
  if (held && holdsContent && held.current.version === version && rewrappable(held.current.kek, kek)) {
    const versions = staleVersions(held, kek, latest);
    return versions.length > 0 ? { kind: 'rewrap', envelope: held, versions } : { kind: 'keep', envelope: held };
  }
  // The version before this one stays readable for pods still running it (each entry
  // carries its own KEK coordinates, so it opens even when the KEK changed since).
  const previous = held && held.current.version < version ? held.current : held?.previous;
  return { kind: 'mint', version, ...(previous && previous.version < version ? { previous } : {}) };
}
