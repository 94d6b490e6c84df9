// The one rule for Secrets a source refers to (credentials, service accounts): they
// resolve in the source's own namespace (the operator's for a ClusterSecretSource) and
// nowhere else, so a SecretSource can never make the operator read another namespace.
// Providers read Secrets only through resolveSecretRef + ProviderKube.readSecretKey.
import type { SecretKeySelector } from '../api/types.js';
import { ForbiddenError, InvalidSpecError } from '../errors.js';

export interface ResolvedSecretRef {
  namespace: string;
  name: string;
  key: string;
}

/**
 * The namespace a reference resolves in: `secretNamespace`, whether `namespace` is unset or
 * names it. Any other namespace is a ForbiddenError that says how to fix the spec.
 */
export function resolveRefNamespace(namespace: string | undefined, secretNamespace: string, what: string): string {
  if (namespace === undefined || namespace === '' || namespace === secretNamespace) return secretNamespace;
  throw new ForbiddenError(
    `${what} names namespace "${namespace}", but references of this source resolve only in namespace "${secretNamespace}": ` +
      `remove the namespace field or set it to "${secretNamespace}", and keep the object in that namespace`,
  );
}

/** Where to read `sel` from; ForbiddenError when it points outside `secretNamespace`. */
export function resolveSecretRef(sel: SecretKeySelector, secretNamespace: string): ResolvedSecretRef {
  if (!sel.name) throw new InvalidSpecError('a Secret reference has no name: set name (and key) of a Secret in the source namespace');
  if (!sel.key) throw new InvalidSpecError(`the reference to Secret "${sel.name}" has no key: set key to the Secret's data key`);
  const namespace = resolveRefNamespace(sel.namespace, secretNamespace, `the reference to Secret "${sel.name}"`);
  return { namespace, name: sel.name, key: sel.key };
}

/** Where a service account reference points; same namespace rule as Secret references. */
export function resolveServiceAccountRef(
  ref: { name: string; namespace?: string },
  secretNamespace: string,
): { namespace: string; name: string } {
  if (!ref.name) throw new InvalidSpecError('serviceAccountRef has no name: set the name of a ServiceAccount in the source namespace');
  const namespace = resolveRefNamespace(ref.namespace, secretNamespace, `serviceAccountRef "${ref.name}"`);
  return { namespace, name: ref.name };
}
