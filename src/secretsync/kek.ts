// The key-encryption key of an envelope-mode SecretSync, as the rest of the domain sees
// it: which source it is reached through, an id naming it (for the version cache and the
// watcher), the coordinates stored in each envelope version (so pods need nothing else),
// and the status.keyId text. Pure.
import { sourceRefIn, sourceRefKey, type SourceRef } from '../api/source-ref.js';
import { DEFAULTS, type AnySource, type SecretSync } from '../api/types.js';
import type { KekCoordinates } from '../crypto/envelope.js';
import { InvalidSpecError } from '../errors.js';
import { sameJson } from './same-json.js';

export type KekSpec =
  | { kind: 'vaultTransit'; mount: string; key: string; agentAuth: { mount: string; role: string } }
  | { kind: 'awsKms'; keyId: string };

export interface KekRef {
  sourceRef: SourceRef;
  spec: KekSpec;
  /** Names this KEK (source + key) for the version cache and the watcher. */
  id: string;
}

/** The KEK of an envelope-mode SecretSync; undefined in plain mode. */
export function kekRefOf(ss: SecretSync): KekRef | undefined {
  const kek = ss.spec.target?.encryption?.kek;
  if (!kek) return undefined;
  if (kek.vaultTransit) {
    const t = kek.vaultTransit;
    const sourceRef = sourceRefIn(ss.metadata.namespace ?? '', t.sourceRef);
    const mount = t.mount || DEFAULTS.transitMount;
    return {
      sourceRef,
      spec: { kind: 'vaultTransit', mount, key: t.key, agentAuth: { mount: t.agentAuth.kubernetes.mount || DEFAULTS.kubernetesAuthMount, role: t.agentAuth.kubernetes.role } },
      id: `${sourceRefKey(sourceRef)}|transit:${mount}/${t.key}`,
    };
  }
  if (kek.awsKms) {
    const sourceRef = sourceRefIn(ss.metadata.namespace ?? '', kek.awsKms.sourceRef);
    return { sourceRef, spec: { kind: 'awsKms', keyId: kek.awsKms.keyId }, id: `${sourceRefKey(sourceRef)}|kms:${kek.awsKms.keyId}` };
  }
  return undefined;
}

/** What the provider's keyEncrypter() takes. */
export function encrypterSpec(spec: KekSpec): { mount: string; key: string } | { keyId: string } {
  return spec.kind === 'vaultTransit' ? { mount: spec.mount, key: spec.key } : { keyId: spec.keyId };
}

/** The coordinates stored with a version wrapped by `version` of this KEK. */
export function coordinates(kek: KekRef, source: AnySource, version: string): KekCoordinates {
  if (kek.spec.kind === 'vaultTransit') {
    const v = source.spec.vault;
    if (!v) throw new InvalidSpecError(`spec.target.encryption.kek.vaultTransit.sourceRef names ${sourceRefKey(kek.sourceRef)}, which has no vault block: point it at a Vault source`);
    return {
      type: 'vault-transit',
      address: v.address,
      ...(v.namespace ? { namespace: v.namespace } : {}),
      mount: kek.spec.mount,
      key: kek.spec.key,
      version,
      agentAuth: kek.spec.agentAuth,
    };
  }
  const a = source.spec.aws;
  if (!a) throw new InvalidSpecError(`spec.target.encryption.kek.awsKms.sourceRef names ${sourceRefKey(kek.sourceRef)}, which has no aws block: point it at an AWS source`);
  return { type: 'aws-kms', region: a.region, ...(a.endpoint ? { endpoint: a.endpoint } : {}), keyId: kek.spec.keyId, version };
}

/** The same KEK (everything but its version) — an entry wrapped by it can be re-wrapped by it. */
export function sameKek(a: KekCoordinates, b: KekCoordinates): boolean {
  return sameJson({ ...a, version: '' }, { ...b, version: '' });
}

/** status.keyId: `vault-transit:<mount>/<key>:v<N>` or `aws-kms:<key ARN>`. */
export function keyIdOf(c: KekCoordinates): string {
  return c.type === 'vault-transit' ? `vault-transit:${c.mount}/${c.key}:v${c.version}` : `aws-kms:${c.version}`;
}
