// Reads everything a SecretSync asks for through one provider: data entries (one value
// each) and dataFrom entries (every property of a named secret, or of every secret a find
// discovers), data winning over dataFrom on a clash. A find lists first (names only), keeps
// what discovery.ts selects (within the namespace's path prefixes, at most `maxSecrets`),
// then reads those like remoteRefs, all at once. Each entry's values are decoded by its
// decodingStrategy (decode.ts) before they merge. `opts.notBefore` says how old a read the
// caller accepts (the reconcile's due reason).
import type { SecretSync } from '../api/types.js';
import { FindLimitError, InvalidSpecError } from '../errors.js';
import type { ReadOptions, SecretProvider } from '../providers/provider.js';
import type { Content } from './content.js';
import { decodeValue, strategyOf } from './decode.js';
import { listingLimit, mergeDataFrom, selectFound, type DataFromRead } from './discovery.js';

export interface Fetched {
  content: Content;
  /** remote path (with @version when pinned) → provider version id */
  sourceVersions: Record<string, string>;
}

/** What bounds the dataFrom finds of one SecretSync. */
export interface FindBounds {
  /** Secrets its finds may keep in all (--find-max-secrets). */
  maxSecrets: number;
  /** The namespace's path prefixes on a ClusterSecretSource; undefined: any path. */
  prefixes?: readonly string[];
}

export const DEFAULT_FIND_MAX_SECRETS = 100;

function versionKey(path: string, version?: string): string {
  return version ? `${path}@${version}` : path;
}

/**
 * The paths each dataFrom entry reads: its remoteRef, or what its find lists and keeps. The
 * bounds are per SecretSync, not per find (a SecretSync may have 50 dataFrom entries): the
 * finds share the listing budget, and what they keep counts against one limit.
 */
async function dataFromPaths(ss: SecretSync, provider: SecretProvider, bounds: FindBounds): Promise<{ path: string; version?: string }[][]> {
  const entries = ss.spec.dataFrom ?? [];
  const finds = entries.filter((e) => e.find !== undefined).length;
  const maxListed = Math.max(bounds.maxSecrets, Math.ceil(listingLimit(bounds.maxSecrets) / Math.max(1, finds)));
  const paths = await Promise.all(
    entries.map(async (e, i) => {
      if (e.remoteRef) return [e.remoteRef];
      const find = e.find ?? {};
      if (!provider.listSecrets) throw new InvalidSpecError(`spec.dataFrom[${i}].find: this source cannot list secrets; name them with remoteRef`);
      const listed = await provider.listSecrets(find, { maxListed });
      return selectFound(listed, find, bounds.prefixes, bounds.maxSecrets, `spec.dataFrom[${i}]`).map((path) => ({ path }));
    }),
  );
  const found = new Set(paths.flatMap((refs, i) => (entries[i]?.find ? refs.map((r) => r.path) : [])));
  if (found.size > bounds.maxSecrets) {
    throw new FindLimitError(
      `spec.dataFrom's ${finds} finds found ${found.size} secrets in all, more than the ${bounds.maxSecrets} the operator allows per SecretSync (--find-max-secrets): ` +
        'narrow them, or split the SecretSync',
    );
  }
  return paths;
}

export async function fetchContent(ss: SecretSync, provider: SecretProvider, opts?: ReadOptions, bounds: FindBounds = { maxSecrets: DEFAULT_FIND_MAX_SECRETS }): Promise<Fetched> {
  const paths = await dataFromPaths(ss, provider, bounds);
  // All reads at once: a batching provider serves them in one call, and identical
  // references are de-duplicated by the provider.
  const [maps, values] = await Promise.all([
    Promise.all(paths.map((refs) => Promise.all(refs.map((r) => provider.getSecretMap(r, opts))))),
    Promise.all((ss.spec.data ?? []).map((e) => provider.getSecret(e.remoteRef, opts))),
  ]);
  const sourceVersions: Record<string, string> = {};
  const reads: DataFromRead[] = (ss.spec.dataFrom ?? []).map((entry, i) => {
    const field = `spec.dataFrom[${i}].decodingStrategy`;
    const strategy = strategyOf(entry.decodingStrategy, field);
    return {
      entry,
      secrets: (paths[i] ?? []).map((r, j) => {
        const m = maps[i]?.[j] ?? { values: {}, version: '' };
        sourceVersions[versionKey(r.path, r.version)] = m.version;
        const values = Object.fromEntries(
          Object.entries(m.values).map(([k, v]) => [k, decodeValue(v, strategy, `property "${k}" of spec.dataFrom[${i}] (path ${r.path}, ${field} ${strategy})`)]),
        );
        return { path: r.path, values, version: m.version };
      }),
    };
  });
  const content: Content = mergeDataFrom(reads);
  (ss.spec.data ?? []).forEach((entry, i) => {
    const v = values[i];
    if (!v) return;
    const field = `spec.data[${i}].decodingStrategy`;
    const strategy = strategyOf(entry.decodingStrategy, field);
    // data wins over dataFrom
    content[entry.key] = decodeValue(v.value, strategy, `key "${entry.key}" (spec.data[${i}], path ${entry.remoteRef.path}, ${field} ${strategy})`);
    sourceVersions[versionKey(entry.remoteRef.path, entry.remoteRef.version)] = v.version;
  });
  return { content, sourceVersions };
}
