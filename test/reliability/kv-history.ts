// What OpenBao's KV holds, in order of writing (values never printed): OpenBao -dev keeps its
// data in memory, so a restarted one is seeded again with the same versions (each path's
// versions written again in order) before the operator may reach it, as a restart with
// persistent storage would look; and the digest a synced Secret must reach is the last one's.
import { pool } from '../../bench/run.js';
import { requireEnv } from '../helpers/stack.js';
import { vaultRoot } from '../helpers/vault.js';
import { http } from '../testenv/http.js';
import { digestOfValues } from './invariants.js';

export class KvHistory {
  private readonly versions = new Map<string, Record<string, string>[]>();

  /** Writes a new version of `path` (under mount secret/) and remembers it. */
  async write(path: string, data: Record<string, string>): Promise<void> {
    await vaultRoot().write(`secret/data/${path}`, { data });
    this.versions.set(path, [...(this.versions.get(path) ?? []), data]);
  }

  has(path: string): boolean {
    return this.versions.has(path);
  }

  forget(path: string): void {
    this.versions.delete(path);
  }

  /** The digest a Secret holding `path`'s last version has. */
  digest(path: string): string {
    return digestOfValues(this.versions.get(path)?.at(-1) ?? {});
  }

  /** Writes every version again, in order per path, `concurrency` paths at a time. */
  async reseed(concurrency = 1): Promise<void> {
    const root = vaultRoot();
    await pool([...this.versions], concurrency, async ([path, versions]) => {
      for (const data of versions) await root.write(`secret/data/${path}`, { data });
    });
  }
}

export const vaultHealthy = async () => (await http(`${requireEnv('VAULT_ADDR')}/v1/sys/health`)).status === 200;
