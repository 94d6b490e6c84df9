// The invariants every fault is judged by, watched while it lasts: polling the API server
// (a watch would die with the very faults under test; a poll that fails is skipped and the
// next one compares), never printing a value (Secret data is compared by digest).
//   - no synced Secret deleted (gone, or recreated with another uid), emptied (fewer keys,
//     an empty value) or moved to an older version (its secretsync.io/version annotation
//     down, or content it held before a later one back);
//   - no SecretSync's status.version down;
//   - no workload rolled twice for one version (two ReplicaSets of a Deployment whose pod
//     templates carry the same secretsync.io/version-<sync>);
//   - no Secret written whose content did not change (its resourceVersion at the end of the
//     fault is the one before it).
import { createHash } from 'node:crypto';
import type { AppsV1Api, CoreV1Api, CustomObjectsApi, V1Secret } from '@kubernetes/client-node';
import type { SecretSync } from '../../src/api/types.js';
import { VERSION_ANNOTATION, VERSION_ANNOTATION_PREFIX } from '../../src/api/annotations.js';
import { eventually } from '../helpers/eventually.js';

const G = { group: 'secretsync.io', version: 'v1alpha1', plural: 'secretsyncs' };

/** One digest of a Secret's whole data (never the data itself). */
export function digestOf(data: Record<string, string> | undefined): string {
  const sorted = Object.keys(data ?? {})
    .sort()
    .map((k) => [k, data?.[k]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}

/** The digest a Secret holding `values` (plain strings) has: what a test expects after a change. */
export function digestOfValues(values: Record<string, string>): string {
  return digestOf(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString('base64')])));
}

interface Seen {
  uid: string;
  resourceVersion: string;
  version: number;
  keys: number;
  digests: string[];
}

export interface Snapshot {
  secrets: Record<string, { resourceVersion: string; digest: string }>;
  versions: Record<string, number>;
  syncs: SecretSync[];
}

export class InvariantWatch {
  readonly violations: string[] = [];
  private readonly secrets = new Map<string, Seen>();
  private readonly versions = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  polls = 0;
  failedPolls = 0;

  constructor(
    private readonly k: { core: CoreV1Api; custom: CustomObjectsApi },
    private readonly namespace: string,
    /** The synced Secrets to watch (the names of their SecretSyncs). */
    private readonly names: () => string[],
  ) {}

  start(intervalMs = 250): void {
    const tick = () => {
      this.polling = this.poll()
        .then(() => undefined)
        .catch(() => {
          this.failedPolls++;
        })
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(tick, intervalMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
  }

  private violate(what: string): void {
    if (!this.violations.includes(what)) this.violations.push(what);
  }

  /** One look, after the one before has finished: an older answer never lands after a newer one. */
  poll(): Promise<Snapshot> {
    const p = this.last.then(() => this.pollOnce());
    this.last = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  private last: Promise<void> = Promise.resolve();

  /**
   * Judges one look at synced Secret `name` (absent: `undefined`) against the ones before it.
   * poll() feeds it; a test with too many Secrets to list every 250 ms feeds it from a watch
   * instead (names then qualified by namespace), each event in order.
   */
  seeSecret(name: string, s: V1Secret | undefined): { resourceVersion: string; digest: string } | undefined {
    const before = this.secrets.get(name);
    if (!s) {
      if (before) this.violate(`Secret ${name} deleted`);
      return undefined;
    }
    const data = s.data ?? {};
    const keys = Object.keys(data).length;
    const digest = digestOf(data);
    const version = Number(s.metadata?.annotations?.[VERSION_ANNOTATION] ?? 0);
    const uid = s.metadata?.uid ?? '';
    const resourceVersion = s.metadata?.resourceVersion ?? '';
    if (keys === 0 || Object.values(data).some((v) => v === '')) this.violate(`Secret ${name} emptied (a key without a value, or no key)`);
    if (before) {
      if (before.uid !== uid) this.violate(`Secret ${name} deleted and created again`);
      if (keys < before.keys) this.violate(`Secret ${name} lost keys (${before.keys} → ${keys})`);
      if (version < before.version) this.violate(`Secret ${name} moved to an older version (${before.version} → ${version})`);
      const last = before.digests[before.digests.length - 1];
      if (digest !== last && before.digests.includes(digest)) this.violate(`Secret ${name} back to content it held before a later one`);
      if (digest !== last) before.digests.push(digest);
      Object.assign(before, { uid, resourceVersion, version, keys });
    } else {
      this.secrets.set(name, { uid, resourceVersion, version, keys, digests: [digest] });
    }
    return { resourceVersion, digest };
  }

  /** Judges one look at SecretSync `name`'s status.version; returns it. */
  seeSync(name: string, version: number): number {
    const before = this.versions.get(name) ?? 0;
    if (version < before) this.violate(`SecretSync ${name} status.version down (${before} → ${version})`);
    this.versions.set(name, Math.max(version, before));
    return version;
  }

  private async pollOnce(): Promise<Snapshot> {
    const [secretList, syncList] = await Promise.all([
      this.k.core.listNamespacedSecret({ namespace: this.namespace }),
      this.k.custom.listNamespacedCustomObject({ ...G, namespace: this.namespace }) as Promise<{ items: SecretSync[] }>,
    ]);
    const byName = new Map(secretList.items.map((s: V1Secret) => [s.metadata?.name ?? '', s]));
    const snap: Snapshot = { secrets: {}, versions: {}, syncs: syncList.items };
    for (const name of this.names()) {
      const seen = this.seeSecret(name, byName.get(name));
      if (seen) snap.secrets[name] = seen;
    }
    for (const s of syncList.items) snap.versions[s.metadata.name] = this.seeSync(s.metadata.name, s.status?.version ?? 0);
    this.polls++;
    return snap;
  }
}

export const ready = (s: SecretSync) => {
  const c = s.status?.conditions?.find((x) => x.type === 'Ready');
  return c?.status === 'True' && s.status?.observedGeneration === s.metadata.generation;
};

/**
 * Where a Deployment that rolls on SecretSync `sync` stands: its generation (each roll is one
 * template change, so one generation), its ReplicaSets and the version its template is on.
 * A fault that brought `n` new versions must leave generation + n and ReplicaSets + n, the
 * template on the sync's version: more would be a version rolled twice.
 */
export async function rollState(apps: AppsV1Api, namespace: string, name: string, sync: string) {
  // Once its controller has caught up with its last template change: before, a roll's ReplicaSet may not exist yet.
  const d = await eventually(
    async () => {
      const got = await apps.readNamespacedDeployment({ name, namespace });
      return got.status?.observedGeneration === got.metadata?.generation ? got : undefined;
    },
    { timeoutMs: 60_000, what: `Deployment ${namespace}/${name} observed by its controller` },
  );
  const sets = (await apps.listNamespacedReplicaSet({ namespace, labelSelector: `app=${name}` })).items;
  return {
    generation: d.metadata?.generation ?? 0,
    replicaSets: sets.length,
    templateVersion: Number(d.spec?.template?.metadata?.annotations?.[VERSION_ANNOTATION_PREFIX + sync] ?? 0),
  };
}
