// What an admitted namespace may do through a ClusterSecretSource (spec.namespaceScopes):
// which remote paths it may read, which it may rotate (write), which KEKs it may use.
// Admission (access.ts) decides whether a namespace may use the source at all; scopes
// only narrow that, except rotation, which a ClusterSecretSource allows only through
// rotationPaths. Pure: the reconcile's due and rotation steps call these before any
// provider I/O, so a provider never sees a refused path or key.
//
// Prefixes are plain string prefixes of the path as written, which is the path the
// provider uses once the shapes that a provider or an HTTP client would rewrite are
// refused (empty, "." and ".." segments, a leading "/", backslashes, percent-encoding,
// control characters): with those gone, "payments/../billing/db" cannot pass a
// "payments/" prefix and then reach billing/db.
import type { AnySource, ClusterSecretSource, NamespaceScopeEntry, SecretSync } from '../api/types.js';
import { KekNotAllowedError, PathNotAllowedError, RotationNotAllowedError } from '../errors.js';
import { admitsNamespace, matchesSelector } from './access.js';
import type { KekRef } from './kek.js';
import { rotationTargets } from './rotation/targets.js';

export interface NamespaceScope {
  /** Path prefixes the namespace may read; undefined: any path. */
  paths: string[] | undefined;
  /** Path prefixes the namespace may rotate; empty: none. */
  rotationPaths: string[];
  /** KEKs the namespace may use; undefined: any. */
  keys: string[] | undefined;
  /** The source lists namespaceScopes: paths are checked for shape too. */
  scoped: boolean;
  /** The source lists namespaceScopes and none of them matches the namespace. */
  unmatched: boolean;
}

function hasRules(sel: NamespaceScopeEntry['namespaceSelector']): boolean {
  return !!sel && (Object.keys(sel.matchLabels ?? {}).length > 0 || (sel.matchExpressions ?? []).length > 0);
}

/** Whether `entry` applies to the namespace (by name, or by labels: an empty selector matches none, as for admission). */
export function entryMatches(entry: NamespaceScopeEntry, namespace: string, labels: Record<string, string> | undefined): boolean {
  if (entry.namespaces?.includes(namespace)) return true;
  return hasRules(entry.namespaceSelector) && labels !== undefined && matchesSelector(entry.namespaceSelector ?? {}, labels);
}

/** Union of a field over entries: undefined (anything) as soon as one entry leaves it out. */
function unionOrAny(entries: NamespaceScopeEntry[], field: 'paths' | 'keys'): string[] | undefined {
  const out = new Set<string>();
  for (const e of entries) {
    const list = e[field];
    if (list === undefined) return undefined;
    for (const x of list) out.add(x);
  }
  return [...out];
}

/** The namespace's scope on `src` (admission is checked elsewhere). */
export function scopeOf(src: ClusterSecretSource, namespace: string, labels: Record<string, string> | undefined): NamespaceScope {
  const all = src.spec.namespaceScopes;
  if (all === undefined) return { paths: undefined, rotationPaths: [], keys: undefined, scoped: false, unmatched: false };
  const mine = all.filter((e) => entryMatches(e, namespace, labels));
  if (mine.length === 0) return { paths: [], rotationPaths: [], keys: [], scoped: true, unmatched: true };
  return {
    paths: unionOrAny(mine, 'paths'),
    rotationPaths: [...new Set(mine.flatMap((e) => e.rotationPaths ?? []))],
    keys: unionOrAny(mine, 'keys'),
    scoped: true,
    unmatched: false,
  };
}

/** Which provider reads the path: the shape rules differ only for AWS ARNs. */
function providerOf(src: AnySource): 'vault' | 'aws' | 'other' {
  return src.spec.vault ? 'vault' : src.spec.aws ? 'aws' : 'other';
}

/**
 * Why `path` cannot be judged against prefixes (a shape a client or provider could turn
 * into another path), or undefined. `restricted`: the namespace has path prefixes.
 */
export function pathShapeProblem(path: string, provider: 'vault' | 'aws' | 'other', restricted: boolean): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'has a control character';
  if (path.startsWith('/')) return 'starts with "/"';
  if (path.includes('\\')) return 'has a backslash';
  if (path.includes('%')) return 'has a "%" (percent-encoding)';
  const segments = path.split('/');
  if (segments.some((s) => s === '')) return 'has an empty segment ("//" or a trailing "/")';
  if (segments.some((s) => s === '.' || s === '..')) return 'has a "." or ".." segment';
  if (provider === 'aws' && restricted && path.toLowerCase().startsWith('arn:')) return 'is an ARN';
  return undefined;
}

/** A path for a message: no control characters, not too long. */
function shown(path: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = path.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > 256 ? `${clean.slice(0, 256)}…` : clean;
}

const list = (xs: string[]) => xs.map((x) => `"${shown(x)}"`).join(', ');
const within = (path: string, prefixes: string[]) => prefixes.some((p) => path.startsWith(p));

/** Every remote path a SecretSync reads, with the field it is written in. */
export function remotePaths(ss: SecretSync): { field: string; path: string }[] {
  return [
    ...(ss.spec.data ?? []).map((e, i) => ({ field: `spec.data[${i}].remoteRef.path`, path: e.remoteRef?.path ?? '' })),
    ...(ss.spec.dataFrom ?? []).flatMap((e, i) =>
      e.find ? (e.find.path === undefined ? [] : [{ field: `spec.dataFrom[${i}].find.path`, path: e.find.path }]) : [{ field: `spec.dataFrom[${i}].remoteRef.path`, path: e.remoteRef?.path ?? '' }],
    ),
  ];
}

/** The path prefixes the SecretSync's namespace may read through `src`; undefined: any path (also for a SecretSource). */
export function readPrefixes(ss: SecretSync, src: AnySource | undefined, labels: Record<string, string> | undefined): string[] | undefined {
  if (src?.kind !== 'ClusterSecretSource') return undefined;
  return scopeOf(src, ss.metadata.namespace ?? '', labels).paths;
}

function shapeAdvice(problem: string): string {
  return problem === 'is an ARN'
    ? 'write the secret name instead (e.g. payments/db)'
    : 'write the path as plain segments separated by single slashes, without ".", "..", "%", backslashes or control characters';
}

/**
 * Whether the SecretSync may read what it asks for through `src`: undefined when it may
 * (or `src` is not a ClusterSecretSource), else a PathNotAllowedError saying what to do.
 */
export function readScopeProblem(ss: SecretSync, src: AnySource, labels: Record<string, string> | undefined): PathNotAllowedError | undefined {
  if (src.kind !== 'ClusterSecretSource') return undefined;
  const namespace = ss.metadata.namespace ?? '';
  const scope = scopeOf(src, namespace, labels);
  if (!scope.scoped) return undefined;
  const name = `ClusterSecretSource ${src.metadata.name}`;
  if (scope.unmatched) {
    return new PathNotAllowedError(
      `${name} has spec.namespaceScopes and none of its entries applies to namespace ${namespace}, so nothing may be read through it from here: ` +
        `the platform team must add a namespaceScopes entry for ${namespace} (namespaces or namespaceSelector) with the paths it may read`,
    );
  }
  const provider = providerOf(src);
  // A find lists what lies under its path: with prefixes, that path must be within one, so
  // the listing itself (not only the reads) stays inside (fetch.ts filters what it lists too).
  const unbounded = (ss.spec.dataFrom ?? []).findIndex((e) => e.find !== undefined && e.find.path === undefined);
  if (scope.paths !== undefined && unbounded >= 0) {
    return new PathNotAllowedError(
      `spec.dataFrom[${unbounded}].find has no path, so it would list every secret of the source, and namespace ${namespace} may read only under prefixes ${list(scope.paths)} through ${name}: ` +
        'set find.path to a path under one of them',
    );
  }
  for (const { field, path } of remotePaths(ss)) {
    // find.path may end in one "/" (a name prefix such as payments/ for AWS).
    const shape = pathShapeProblem(field.endsWith('.find.path') ? path.replace(/\/$/, '') : path, provider, scope.paths !== undefined);
    if (shape) {
      return new PathNotAllowedError(`${field} "${shown(path)}" ${shape}, which ${name} refuses because it scopes paths per namespace: ${shapeAdvice(shape)}`);
    }
    if (scope.paths !== undefined && !within(path, scope.paths)) {
      return new PathNotAllowedError(
        `${field} "${shown(path)}" is outside the paths namespace ${namespace} may read through ${name} (prefixes ${list(scope.paths)}): ` +
          `read a path under one of them, or the platform team must add its prefix to a namespaceScopes entry for ${namespace}`,
      );
    }
  }
  return undefined;
}

/**
 * Whether spec.rotation may write at `src`: a ClusterSecretSource allows it only for
 * paths under the rotationPaths of the namespace's entries. Undefined when it may.
 */
export function rotationScopeProblem(ss: SecretSync, src: AnySource | undefined, labels: Record<string, string> | undefined): RotationNotAllowedError | undefined {
  if (!ss.spec.rotation || src?.kind !== 'ClusterSecretSource') return undefined;
  const namespace = ss.metadata.namespace ?? '';
  const scope = scopeOf(src, namespace, labels);
  const name = `ClusterSecretSource ${src.metadata.name}`;
  if (scope.rotationPaths.length === 0) {
    return new RotationNotAllowedError(
      `spec.rotation writes new versions at the source, and ${name} allows no rotation from namespace ${namespace}: ` +
        `the platform team must add rotationPaths for ${namespace} to the source's spec.namespaceScopes, or rotate through a SecretSource of this namespace with credentials of its own`,
    );
  }
  let targets: string[];
  try {
    targets = rotationTargets(ss).map((t) => t.path);
  } catch {
    return undefined; // an invalid spec.rotation: validateRotation reports it
  }
  for (const path of targets) {
    const shape = pathShapeProblem(path, providerOf(src), true);
    if (shape) {
      return new RotationNotAllowedError(`spec.rotation would write "${shown(path)}", which ${shape}, and ${name} refuses that because it scopes paths per namespace: ${shapeAdvice(shape)}`);
    }
    if (!within(path, scope.rotationPaths)) {
      return new RotationNotAllowedError(
        `spec.rotation would write "${shown(path)}", which is outside the paths namespace ${namespace} may rotate through ${name} (rotationPaths ${list(scope.rotationPaths)}): ` +
          `rotate a path under one of them, or the platform team must add its prefix to the rotationPaths of a namespaceScopes entry for ${namespace}`,
      );
    }
  }
  return undefined;
}

/** The name a namespaceScopes `keys` entry gives a KEK: Transit `<mount>/<key>`, KMS the keyId as written. */
export function kekScopeName(kek: KekRef): string {
  return kek.spec.kind === 'vaultTransit' ? `${kek.spec.mount}/${kek.spec.key}` : kek.spec.keyId;
}

/** Whether the SecretSync may use its KEK through `src` (the KEK's source). Undefined when it may. */
export function kekScopeProblem(ss: SecretSync, kek: KekRef, src: AnySource, labels: Record<string, string> | undefined): KekNotAllowedError | undefined {
  if (src.kind !== 'ClusterSecretSource') return undefined;
  const namespace = ss.metadata.namespace ?? '';
  const scope = scopeOf(src, namespace, labels);
  const name = `ClusterSecretSource ${src.metadata.name}`;
  const field = `spec.target.encryption.kek.${kek.spec.kind}`;
  if (scope.unmatched) {
    return new KekNotAllowedError(
      `${field}.sourceRef names ${name}, which has spec.namespaceScopes and none of its entries applies to namespace ${namespace}, so no key may be used through it from here: ` +
        `the platform team must add a namespaceScopes entry for ${namespace} with the keys it may use`,
    );
  }
  if (scope.keys === undefined) return undefined;
  const key = kekScopeName(kek);
  if (scope.keys.includes(key)) return undefined;
  const what = kek.spec.kind === 'vaultTransit' ? `Transit key "${shown(key)}" (<mount>/<key>)` : `KMS key "${shown(key)}"`;
  return new KekNotAllowedError(
    `${field} names ${what}, which namespace ${namespace} may not use through ${name} (keys ${list(scope.keys)}): ` +
      `use one of those, or the platform team must add it to the keys of a namespaceScopes entry for ${namespace}`,
  );
}

/** Whether the SecretSync may use its KEK through `src` at all: admitted (ClusterSecretSource) and within its keys. */
export function kekUsable(ss: SecretSync, kek: KekRef, src: AnySource, labels: Record<string, string> | undefined): boolean {
  const namespace = ss.metadata.namespace ?? '';
  if (src.kind === 'SecretSource') return src.metadata.namespace === namespace;
  return admitsNamespace(src, namespace, labels) && kekScopeProblem(ss, kek, src, labels) === undefined;
}
