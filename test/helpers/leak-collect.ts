// What every integration file leaves for the suite-wide leak scan at its end, before its
// own afterAll deletes its namespaces and stops its operators: /metrics of each operator
// still running, and the cluster's objects a secret value must never reach: every Event,
// every SecretSync, SecretSource and ClusterSecretSource (status included), every Pod
// (what the injection webhook's responses made of them) and the logs of each container
// that ran on the node (operator pods, agent init containers), and every Secret of type
// secretsync.io/envelope (ciphertext only). Plain Secrets hold values by design and are
// not scanned. The objects found are scanned at once (a failure names the object) and kept
// for the final scan's count.
import type { KubeConfig } from '@kubernetes/client-node';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { suiteCanary } from './canary.js';
import { LEAK_DIR_ENV, recordCost, recordPlace } from './leak-record.js';
import { describeFinding, registeredValues, scanPlaces } from './leak-scan.js';
import { recordRunningOperatorsMetrics } from './operator.js';

const G = { group: 'secretsync.io', version: 'v1alpha1' };

interface Obj {
  kind?: string;
  metadata?: { namespace?: string; name?: string };
}

const placeOf = (kind: string, o: Obj) => `${kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name ?? '?'}`;

/** `[place, JSON]` for each object in the cluster the scan covers (a kind whose list fails is skipped). */
export async function clusterPlaces(kc: KubeConfig): Promise<[string, string][]> {
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const list = async (kind: string, get: () => Promise<{ items: Obj[] }>): Promise<[string, string][]> => {
    const r = await get().catch(() => ({ items: [] as Obj[] }));
    return r.items.map((o) => [placeOf(kind, o), JSON.stringify(o)]);
  };
  const parts = await Promise.all([
    list('Event', () => core.listEventForAllNamespaces()),
    list('Pod', () => core.listPodForAllNamespaces()),
    list('envelope Secret', () => core.listSecretForAllNamespaces({ fieldSelector: 'type=secretsync.io/envelope' })),
    list('SecretSync', () => custom.listCustomObjectForAllNamespaces({ ...G, plural: 'secretsyncs' }) as Promise<{ items: Obj[] }>),
    list('SecretSource', () => custom.listCustomObjectForAllNamespaces({ ...G, plural: 'secretsources' }) as Promise<{ items: Obj[] }>),
    list('ClusterSecretSource', () => custom.listClusterCustomObject({ ...G, plural: 'clustersecretsources' }) as Promise<{ items: Obj[] }>),
  ]);
  return [...parts.flat(), ...(await podLogs(core))];
}

interface ContainerStatus {
  name: string;
  restartCount?: number;
  state?: { running?: unknown; terminated?: unknown };
}

/**
 * `[place, log]` for every container that ran on the stack's node (operator pods of the
 * chart, the agent's init containers), the one before a restart too; none without a node.
 */
async function podLogs(core: CoreV1Api): Promise<[string, string][]> {
  const pods = await core.listPodForAllNamespaces().catch(() => ({ items: [] }));
  const reads: Promise<[string, string] | undefined>[] = [];
  for (const pod of pods.items) {
    const { name = '', namespace = '' } = pod.metadata ?? {};
    if (!pod.spec?.nodeName) continue;
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])] as ContainerStatus[];
    for (const c of statuses) {
      const runs = [...(c.state?.running || c.state?.terminated ? [false] : []), ...((c.restartCount ?? 0) > 0 ? [true] : [])];
      for (const previous of runs) {
        reads.push(
          core
            .readNamespacedPodLog({ name, namespace, container: c.name, previous })
            .then((log): [string, string] => [`Pod log ${namespace}/${name} ${c.name}${previous ? ' (previous)' : ''}`, log])
            .catch(() => undefined),
        );
      }
    }
  }
  return (await Promise.all(reads)).filter((x) => x !== undefined);
}

/** The shared afterAll of every integration file: keeps and scans what is listed above. */
export async function leakScanAtFileEnd(kc: KubeConfig): Promise<void> {
  const t0 = performance.now();
  await recordRunningOperatorsMetrics();
  const places = await clusterPlaces(kc);
  const isLog = ([p]: [string, string]) => p.startsWith('Pod log ');
  recordPlace('cluster', 'objects', places.filter((x) => !isLog(x)).map(([p, json]) => `${p}\t${json}`).join('\n'));
  for (const [p, log] of places.filter(isLog)) recordPlace('pod-logs', p, log);
  const dir = process.env[LEAK_DIR_ENV];
  const found = scanPlaces(places, [suiteCanary(), ...(dir ? registeredValues(dir) : [])]);
  recordCost(performance.now() - t0);
  if (found.length) throw new Error(`the suite's canary leaked: ${found.map(describeFinding).join('; ')}`);
}
