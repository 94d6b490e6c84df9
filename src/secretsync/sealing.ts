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
import { CONTENT_HMAC_ANNOTATION, ENVELOPE_MAC_ANNOTATION } from '../api/annotations.js';
import {
  ENVELOPE_SECRET_TYPE,
  MAX_ENVELOPE_VERSIONS,
  decodeEnvelope,
  encodeEnvelope,
  heldVersions,
  type Envelope,
  type KekCoordinates,
  type VersionEnvelope,
} from '../crypto/envelope.js';
import type { RolloutTargetStatus, SecretSync } from '../api/types.js';
import { contentHmac, fromSecretData, keyOfMac, macEqual, type HmacKey, type ObjectMacKeys } from './content.js';
import { sameKek } from './kek.js';
import type { KubeSecret } from './ports.js';
import { agentAnnotations, type TargetBody } from './target.js';

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
  /**
   * A data key must be minted for `version` (a new version, or the KEK changed, or the
   * Secret was altered); `previous` are the older versions kept (newest first), `dropped`
   * the versions still in use by a rollout that the bound (MAX_ENVELOPE_VERSIONS) pushes out.
   */
  | { kind: 'mint'; version: number; previous?: VersionEnvelope[]; dropped?: number[] };

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
  return heldVersions(e)
    .filter((v) => rewrappable(v.kek, kek) && (!sameKek(v.kek, kek) || (latest !== undefined && v.kek.version !== latest)))
    .map((v) => v.version);
}

/**
 * Which older versions an envelope for `version` keeps, given the versions it held and
 * status.rollout.targets (as they stood before this version). Always the newest one below
 * `version` (pods not covered by any rollout, e.g. bare injected pods, keep one version of
 * grace, as before). Beyond it, a version stays while a rollout may still run pods pinned
 * to it: a workload recorded on it (e.g. waiting for minInterval), or one whose rollout is
 * not Complete (Progressing or Failed) and whose old pods may still be on it. A Missing or
 * NotUsing entry (the workload is gone or was never rolled) keeps nothing. At most
 * MAX_ENVELOPE_VERSIONS in all: past that the oldest needed versions are `dropped`.
 */
export function keptVersions(held: number[], version: number, targets: readonly RolloutTargetStatus[]): { keep: number[]; dropped: number[] } {
  const older = [...new Set(held)].filter((v) => v < version).sort((a, b) => b - a);
  const needed = older.filter(
    (v, i) =>
      i === 0 ||
      targets.some(
        (t) => (t.state === 'Complete' && t.version === v) || ((t.state === 'Progressing' || t.state === 'Failed') && t.version >= v),
      ),
  );
  const room = MAX_ENVELOPE_VERSIONS - 1;
  return { keep: needed.slice(0, room), dropped: needed.slice(room) };
}

/**
 * What to do for `version` of the content, given the envelope held (if intact), whether it
 * holds this very content (its content HMAC matches), the KEK the spec names (`kek`, its
 * version aside), the KEK's newest known version, and status.rollout.targets (which older
 * versions rollouts may still need, see keptVersions).
 */
export function sealAction(
  held: Envelope | undefined,
  holdsContent: boolean,
  version: number,
  kek: KekCoordinates,
  latest: string | undefined,
  rollouts: readonly RolloutTargetStatus[] = [],
): SealAction {
  if (held && holdsContent && held.current.version === version && rewrappable(held.current.kek, kek)) {
    const versions = staleVersions(held, kek, latest);
    return versions.length > 0 ? { kind: 'rewrap', envelope: held, versions } : { kind: 'keep', envelope: held };
  }
  // Older versions stay readable for pods still running them (each entry carries its own
  // KEK coordinates, so it opens even when the KEK changed since).
  const entries = held ? heldVersions(held) : [];
  const { keep, dropped } = keptVersions(entries.map((v) => v.version), version, rollouts);
  const previous = keep.map((v) => entries.find((e) => e.version === v) as VersionEnvelope);
  return { kind: 'mint', version, ...(previous.length > 0 ? { previous } : {}), ...(dropped.length > 0 ? { dropped } : {}) };
}
