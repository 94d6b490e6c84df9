// The operator's own Secrets in its namespace, the root HMAC key and the webhook TLS
// bundle, are found by name; the name alone does not say who wrote them. Their provenance
// mark is what the operator sets when it creates them: its labels, no owner reference but
// its own Deployment's (--owner-deployment; a Secret a SecretSync writes is owned by that
// SecretSync, and a SecretSync cannot name these Secrets as its target: see due.ts), and
// the type it writes. A Secret of that name without the
// mark was created by someone else (squatting the name before the operator's first start,
// or after the original was deleted): the operator refuses to use it, and says how to fix
// it, rather than key every MAC with a key someone chose or serve TLS with a CA someone
// holds. It does not overwrite it either: whoever could create a Secret in the operator's
// namespace is an administrator, and their object may be deliberate (a restored backup).
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../api/annotations.js';

export const COMPONENT_LABEL = 'app.kubernetes.io/component';
export const NAME_LABEL = 'app.kubernetes.io/name';

export interface OperatorSecretKind {
  /** What the Secret is, for messages. */
  what: string;
  /** The labels the operator sets on it, all required. */
  labels: Record<string, string>;
  type: string;
}

export const HMAC_KEY_KIND: OperatorSecretKind = {
  what: 'the root key of the HMACs in status',
  labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [COMPONENT_LABEL]: 'hmac-key' },
  type: 'Opaque',
};

export const WEBHOOK_TLS_KIND: OperatorSecretKind = {
  what: "the injection webhook's TLS certificates and CA",
  labels: { [NAME_LABEL]: 'secretsync', [COMPONENT_LABEL]: 'webhook' },
  type: 'kubernetes.io/tls',
};

interface SecretLike {
  type?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
}

/**
 * Why `s` does not carry the operator's mark for `kind`; undefined when it does. `deployment`:
 * the operator's --owner-deployment, the one owner its Secrets may have. Pure.
 */
export function provenanceProblem(s: SecretLike, kind: OperatorSecretKind, deployment?: string): string | undefined {
  const missing = Object.entries(kind.labels).filter(([k, v]) => s.metadata?.labels?.[k] !== v);
  if (missing.length) return `it lacks the label${missing.length > 1 ? 's' : ''} ${missing.map(([k, v]) => `${k}=${v}`).join(', ')} the operator sets`;
  const owners = s.metadata?.ownerReferences ?? [];
  const own = (o: { kind: string; name: string }) => deployment !== undefined && o.kind === 'Deployment' && o.name === deployment;
  const other = owners.find((o) => !own(o));
  if (other) {
    return `it is owned by ${other.kind} ${other.name} (the operator's own Secrets have no owner${deployment !== undefined ? ` but its Deployment ${deployment}` : ''})`;
  }
  if ((s.type ?? 'Opaque') !== kind.type) return `its type is ${s.type ?? 'Opaque'}, not ${kind.type}`;
  return undefined;
}

/** The refusal for a Secret named like one of the operator's own without its mark. */
export function untrustedSecretMessage(namespace: string, name: string, kind: OperatorSecretKind, problem: string): string {
  return (
    `Secret ${namespace}/${name} is named like ${kind.what}, but the operator did not create it: ${problem}. ` +
    `The operator does not use it. Delete it so the operator creates its own (kubectl -n ${namespace} delete secret ${name}), ` +
    `or, if it is a restored copy of the operator's own, give it the operator's labels (${Object.entries(kind.labels).map(([k, v]) => `${k}=${v}`).join(', ')})`
  );
}
