// Reads everything a SecretSync asks for through one provider: data entries (one value
// each) and dataFrom entries (every property), data winning over dataFrom on a clash.
// `opts.notBefore` says how old a read the caller accepts (the reconcile's due reason).
// Each entry's values are decoded by its decodingStrategy (decode.ts) before they merge.
import type { SecretSync } from '../api/types.js';
import type { ReadOptions, SecretProvider } from '../providers/provider.js';
import type { Content } from './content.js';
import { decodeValue, strategyOf } from './decode.js';

export interface Fetched {
  content: Content;
  /** remote path (with @version when pinned) → provider version id */
  sourceVersions: Record<string, string>;
}

function versionKey(path: string, version?: string): string {
  return version ? `${path}@${version}` : path;
}

export async function fetchContent(ss: SecretSync, provider: SecretProvider, opts?: ReadOptions): Promise<Fetched> {
  // All reads at once: a batching provider serves them in one call, and identical
  // references are de-duplicated by the provider.
  const [maps, values] = await Promise.all([
    Promise.all((ss.spec.dataFrom ?? []).map((e) => provider.getSecretMap(e.remoteRef, opts))),
    Promise.all((ss.spec.data ?? []).map((e) => provider.getSecret(e.remoteRef, opts))),
  ]);
  const content: Content = {};
  const sourceVersions: Record<string, string> = {};
  (ss.spec.dataFrom ?? []).forEach((entry, i) => {
    const m = maps[i];
    if (!m) return;
    const field = `spec.dataFrom[${i}].decodingStrategy`;
    const strategy = strategyOf(entry.decodingStrategy, field);
    for (const [k, v] of Object.entries(m.values)) {
      content[k] = decodeValue(v, strategy, `property "${k}" of spec.dataFrom[${i}] (path ${entry.remoteRef.path}, ${field} ${strategy})`);
    }
    sourceVersions[versionKey(entry.remoteRef.path, entry.remoteRef.version)] = m.version;
  });
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
