// What a target Secret means for one --sync, decided from the Secret and the uid of the
// SecretSync as the API server gives it (pure): is it controlled by that very SecretSync
// (whose uid the ciphertexts are bound to; a Secret naming a SecretSync of the same name
// but another uid was copied from a deleted one, or crafted), which version to
// deliver, and in plain mode the files themselves; in envelope mode the version entry to
// unwrap and open. Every refusal is an AgentError whose line says what to do.
import { MOUNT_ANNOTATION, VERSION_ANNOTATION } from '../api/annotations.js';
import { GROUP } from '../api/types.js';
import { DEFAULT_FILE_MODE, parseMountAnnotation } from '../api/delivery.js';
import {
  ENVELOPE_SECRET_TYPE,
  EnvelopeError,
  decodeEnvelope,
  heldText,
  heldVersions,
  pickVersion,
  type Binding,
  type VersionEnvelope,
} from '../crypto/envelope.js';
import type { KeyContext } from '../crypto/key-encrypter.js';
import type { KubeSecret } from '../secretsync/ports.js';
import type { FileOwnership } from './atomic-writer.js';
import { AgentCode, AgentError } from './errors.js';

export interface DeliveryRequest {
  /** The pod's namespace (the SecretSync's and the Secret's). */
  namespace: string;
  /** The SecretSync name (--sync NAME). */
  sync: string;
  /** The uid of SecretSync `sync`, read from the API server (never from the Secret). */
  syncUid: string;
  /** The target Secret (--sync NAME=SECRET). */
  secret: string;
  /** --version, if pinned. */
  version?: number;
}

interface Common {
  /** The version delivered (undefined only for a plain Secret without the version annotation). */
  version: number | undefined;
  ownership: FileOwnership;
  /**
   * What the delivered files are a function of (the selected ciphertexts or the Secret's
   * resourceVersion, and the mount annotation): the watch re-delivers only when it changes.
   */
  fingerprint: string;
}

export type Delivery =
  | (Common & { mode: 'plain'; files: Record<string, Buffer> })
  | (Common & { mode: 'envelope'; version: number; entry: VersionEnvelope; binding: Binding; context: KeyContext });

const where = (r: DeliveryRequest) => `Secret ${r.namespace}/${r.secret}`;

/**
 * The uid of SecretSync `r.sync` when it is the Secret's controller: the controller
 * reference names that SecretSync and carries the uid the API server gave for it
 * (r.syncUid). Refuses otherwise.
 */
export function controllerUid(secret: KubeSecret, r: DeliveryRequest): string {
  const ctl = (secret.metadata.ownerReferences ?? []).find((o) => o.controller === true);
  const named = ctl && ctl.kind === 'SecretSync' && ctl.apiVersion.split('/')[0] === GROUP && ctl.name === r.sync;
  if (named && ctl.uid && ctl.uid === r.syncUid) return r.syncUid;
  if (named) {
    throw new AgentError(
      AgentCode.NotControlled,
      `${where(r)} names SecretSync ${r.namespace}/${r.sync} as its controller, but with uid ${ctl.uid || '(none)'}, ` +
        `while that SecretSync's uid is ${r.syncUid}: the Secret was written for an earlier SecretSync of that name, or copied or crafted. ` +
        `Nothing was delivered; delete the Secret so the operator writes it again for SecretSync ${r.sync}`,
    );
  }
  const actual = ctl ? `its controller is ${ctl.kind} ${ctl.name}` : 'it has no controller';
  throw new AgentError(
    AgentCode.NotControlled,
    `${where(r)} is not controlled by SecretSync ${r.namespace}/${r.sync} (${actual}): ` +
      `only a Secret the operator writes for that SecretSync is delivered; check --sync ${r.sync}=SECRET, and do not copy Secrets between SecretSyncs`,
  );
}

export function ownershipOf(secret: KubeSecret, r: DeliveryRequest): FileOwnership {
  let m;
  try {
    m = parseMountAnnotation(secret.metadata.annotations?.[MOUNT_ANNOTATION]);
  } catch (err) {
    throw new AgentError(
      AgentCode.InvalidContent,
      `${where(r)}: annotation ${MOUNT_ANNOTATION} is malformed (${(err as Error).message.slice(0, 120)}): fix spec.mount of SecretSync ${r.sync}`,
    );
  }
  return { mode: parseInt(m.mode ?? DEFAULT_FILE_MODE, 8), ...(m.uid !== undefined ? { uid: m.uid } : {}), ...(m.gid !== undefined ? { gid: m.gid } : {}) };
}

/**
 * A non-root agent without CAP_CHOWN can only give files its own uid and one of its groups.
 * Said before anything is written: the webhook runs the agent as spec.mount asks only for a
 * caller it verified, else as the pod's own user (see disclosure in webhook/inject.ts).
 */
export function checkOwner(own: FileOwnership, self: { uid: number; gids: readonly number[] }, r: Pick<DeliveryRequest, 'namespace' | 'sync'>): void {
  if (self.uid === 0) return;
  const wrongUid = own.uid !== undefined && own.uid !== self.uid;
  const wrongGid = own.gid !== undefined && !self.gids.includes(own.gid);
  if (!wrongUid && !wrongGid) return;
  const want = [own.uid !== undefined ? `uid ${own.uid}` : '', own.gid !== undefined ? `gid ${own.gid}` : ''].filter((s) => s).join(', ');
  throw new AgentError(
    AgentCode.Owner,
    `SecretSync ${r.namespace}/${r.sync} asks for files owned by ${want} (spec.mount), but the agent runs as uid ${self.uid}, gids ${self.gids.join(',')} ` +
      'and cannot give files away: set the pod\'s securityContext.runAsUser/runAsGroup to those values, or have the platform team ' +
      'verify the API server at the webhook (webhook.clientAuth) so the agent runs as spec.mount says',
  );
}

function versionNotHeld(r: DeliveryRequest, held: string): AgentError {
  return new AgentError(
    AgentCode.VersionNotHeld,
    `${where(r)} does not hold version ${r.version} of SecretSync ${r.sync} (it holds ${held}): ` +
      'the version this pod was pinned to is gone; restart the pod to receive the current version',
  );
}

function plainDelivery(secret: KubeSecret, r: DeliveryRequest, ownership: FileOwnership, mountText: string): Delivery {
  const text = secret.metadata.annotations?.[VERSION_ANNOTATION];
  const held = text !== undefined && /^[0-9]+$/.test(text) ? Number(text) : undefined;
  // A pin (--version) is not honoured here: a plain Secret holds only its current version, as
  // kubelet would deliver it, so a pinned pod of an old ReplicaSet gets that one rather than
  // nothing. (The verified webhook drops such pins; a blind one passes them as asked.)
  const files: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) files[k] = Buffer.from(v, 'base64');
  return {
    mode: 'plain',
    version: held,
    files,
    ownership,
    fingerprint: `plain\0${secret.metadata.uid ?? ''}\0${secret.metadata.resourceVersion ?? ''}\0${mountText}`,
  };
}

function envelopeDelivery(secret: KubeSecret, r: DeliveryRequest, uid: string, ownership: FileOwnership, mountText: string): Delivery {
  let entry: VersionEnvelope;
  try {
    const envelope = decodeEnvelope(secret.data);
    if (r.version !== undefined && !heldVersions(envelope).some((v) => v.version === r.version)) {
      throw versionNotHeld(r, `version ${heldText(envelope)}`);
    }
    entry = pickVersion(envelope, r.version);
  } catch (err) {
    if (err instanceof EnvelopeError) throw envelopeRefusal(r, err);
    throw err;
  }
  return {
    mode: 'envelope',
    version: entry.version,
    entry,
    binding: { namespace: r.namespace, secretsync: r.sync, uid, version: entry.version },
    context: { namespace: r.namespace, secretsync: r.sync },
    ownership,
    fingerprint: `envelope\0${uid}\0${JSON.stringify(entry)}\0${mountText}`,
  };
}

/** The refusal for an envelope that is malformed or does not open. */
export function envelopeRefusal(r: DeliveryRequest, err: EnvelopeError): AgentError {
  return new AgentError(
    AgentCode.Envelope,
    `${where(r)} cannot be delivered: ${err.message}. Nothing was written; if the Secret was edited or copied, ` +
      `delete it so the operator writes it again for SecretSync ${r.sync}`,
  );
}

/** Decides the delivery of `secret` for `r`; throws AgentError when it must be refused. */
export function planDelivery(secret: KubeSecret, r: DeliveryRequest): Delivery {
  const uid = controllerUid(secret, r);
  const ownership = ownershipOf(secret, r);
  const mountText = secret.metadata.annotations?.[MOUNT_ANNOTATION] ?? '';
  if (secret.type === ENVELOPE_SECRET_TYPE) return envelopeDelivery(secret, r, uid, ownership, mountText);
  return plainDelivery(secret, r, ownership, mountText);
}
