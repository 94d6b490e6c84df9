// How providers and the registry name a source: in cache keys and at the start of every
// error message, so a condition says which SecretSource / ClusterSecretSource failed.
import type { AnySource } from '../api/types.js';

/** `SecretSource/<namespace>/<name>` or `ClusterSecretSource/<name>`. */
export function sourceKey(source: Pick<AnySource, 'kind' | 'metadata'>): string {
  return source.kind === 'ClusterSecretSource'
    ? `ClusterSecretSource/${source.metadata.name}`
    : `SecretSource/${source.metadata.namespace ?? ''}/${source.metadata.name}`;
}
