// How a SecretSync's sourceRef, and a source itself, are named everywhere: in caches, in
// queue keys, in provider clients and at the start of error messages. One format:
// `SecretSource/<namespace>/<name>` or `ClusterSecretSource/<name>`.
import type { AnySource, SecretSync, SourceRefSpec } from './types.js';

export type SourceKind = 'SecretSource' | 'ClusterSecretSource';

export interface SourceRef {
  kind: SourceKind;
  /** The SecretSync's namespace for a SecretSource; '' for a ClusterSecretSource. */
  namespace: string;
  name: string;
}

/** A `sourceRef` block of an object in `namespace` (kind defaults to SecretSource, in that namespace). */
export function sourceRefIn(namespace: string, ref: SourceRefSpec): SourceRef {
  const kind = ref.kind ?? 'SecretSource';
  return { kind, namespace: kind === 'SecretSource' ? namespace : '', name: ref.name };
}

/** The source a SecretSync reads through (kind defaults to SecretSource, in its own namespace). */
export function sourceRefOf(ss: Pick<SecretSync, 'metadata' | 'spec'>): SourceRef {
  return sourceRefIn(ss.metadata.namespace ?? '', ss.spec.sourceRef);
}

/** The reference to a source object. */
export function refOfSource(src: Pick<AnySource, 'kind' | 'metadata'>): SourceRef {
  return {
    kind: src.kind,
    namespace: src.kind === 'SecretSource' ? (src.metadata.namespace ?? '') : '',
    name: src.metadata.name,
  };
}

export function sourceRefKey(ref: SourceRef): string {
  return ref.kind === 'ClusterSecretSource' ? `ClusterSecretSource/${ref.name}` : `SecretSource/${ref.namespace}/${ref.name}`;
}

/** `SecretSource/<namespace>/<name>` or `ClusterSecretSource/<name>`. */
export function sourceKey(src: Pick<AnySource, 'kind' | 'metadata'>): string {
  return sourceRefKey(refOfSource(src));
}

/** The inverse of sourceRefKey; undefined for anything else. */
export function parseSourceKey(key: string): SourceRef | undefined {
  const parts = key.split('/');
  if (parts[0] === 'ClusterSecretSource' && parts.length === 2 && parts[1]) {
    return { kind: 'ClusterSecretSource', namespace: '', name: parts[1] };
  }
  if (parts[0] === 'SecretSource' && parts.length === 3 && parts[1] && parts[2]) {
    return { kind: 'SecretSource', namespace: parts[1], name: parts[2] };
  }
  return undefined;
}

export function sameSourceRef(a: SourceRef, b: SourceRef): boolean {
  return a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;
}

/** How a condition message names a source: `SecretSource vault` / `ClusterSecretSource shared`. */
export function describeSourceRef(ref: SourceRef): string {
  return `${ref.kind} ${ref.name}`;
}
