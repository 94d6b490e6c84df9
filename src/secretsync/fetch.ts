// Reads everything a SecretSync asks for through one provider: data entries (one value
// each) and dataFrom entries (every property), data winning over dataFrom on a clash.
import type { SecretSync } from '../api/types.js';
import type { SecretProvider } from '../providers/provider.js';
import type { Content } from './content.js';

export interface Fetched {
  content: Content;
  /** remote path (with @version when pinned) → provider version id */
  sourceVersions: Record<string, string>;
}

function versionKey(path: string, version?: string): string {
  return version ? `${path}@${version}` : path;
}

export async function fetchContent(ss: SecretSync, provider: SecretProvider): Promise<Fetched> {
  const content: Content = {};
  const sourceVersions: Record<string, string> = {};
  for (const entry of ss.spec.dataFrom ?? []) {
    const m = await provider.getSecretMap(entry.remoteRef);
    Object.assign(content, m.values);
    sourceVersions[versionKey(entry.remoteRef.path, entry.remoteRef.version)] = m.version;
  }
  for (const entry of ss.spec.data ?? []) {
    const v = await provider.getSecret(entry.remoteRef);
    content[entry.key] = v.value;
    sourceVersions[versionKey(entry.remoteRef.path, entry.remoteRef.version)] = v.version;
  }
  return { content, sourceVersions };
}
