// Observe: everything the reconciler decides from, read from the informer caches and this
// process's memory in one place, with no decision and no I/O. The pure steps (due.ts,
// plan.ts, deletion.ts) take an Observed and `now`.
import { sourceRefOf, type SourceRef } from '../api/source-ref.js';
import type { AnySource, SecretSync } from '../api/types.js';
import { objectMacKeys, type HmacKey, type ObjectMacKeys } from './content.js';
import type { KubeSecret, KubeWorkload, SyncReader } from './ports.js';
import { grantName, type KubeRole, type KubeRoleBinding } from './grants.js';
import { kekRefOf, type KekRef } from './kek.js';
import { isOwnedBy, targetName } from './target.js';

/** What this process remembers between reconciles of one key (lost on restart, by design). */
export interface Memory {
  /** When this process last read the source for this SecretSync, or first saw it healthy. */
  lastCheck: Date;
  /** `uid/generation` of the source at that time. */
  sourceVersion: string;
}

export interface Observed {
  key: string;
  now: Date;
  ss: SecretSync;
  sourceRef: SourceRef;
  source: AnySource | undefined;
  /**
   * Why the provider refuses the source's spec (e.g. an aws source without credentials of
   * its own, stored before the schema required them); undefined when it accepts it.
   */
  sourceInvalid?: unknown;
  /** `uid/generation` of the source; '' when it is missing. */
  sourceVersion: string;
  /** Labels of the SecretSync's namespace (for a ClusterSecretSource's namespaceSelector). */
  namespaceLabels: Record<string, string> | undefined;
  /** The cached Secret named like the target, if it carries the operator's labels (anyone's). */
  target: KubeSecret | undefined;
  /** Other Secrets this SecretSync controls: targets of an earlier spec.target.name. */
  strays: KubeSecret[];
  memory: Memory | undefined;
  /** This SecretSync's MAC keys (derived from the operator's root key for its namespace and uid). */
  macKeys: ObjectMacKeys;
  /** Names of the operator's own Secrets in this SecretSync's namespace (none outside the operator's namespace). */
  operatorSecrets?: readonly string[];
  /** The provider batches reads, so the syncs of one source share one refresh moment. */
  alignRefreshes: boolean;
  /** spec.access: the cached Role and RoleBinding named for this SecretSync (anyone's). */
  grant: { role: KubeRole | undefined; binding: KubeRoleBinding | undefined };
  /** Deployments, StatefulSets and DaemonSets of the namespace (rollouts, the in-use hold). */
  workloads: KubeWorkload[];
  /** Envelope mode: the KEK, the source it is reached through, and its newest version known to this process. */
  kek?: { ref: KekRef; source: AnySource | undefined; latest: string | undefined; sourceInvalid?: unknown };
}

export interface ObserveDeps {
  reader: SyncReader;
  hmacKey: HmacKey;
  alignsRefreshes(source: AnySource): boolean;
  /** The operator's own Secrets (HMAC key, webhook TLS): no SecretSync may target them. */
  operatorSecrets?: { namespace: string; names: readonly string[] };
  /** The newest version of a KEK this process knows of (from mints, re-wraps and the KEK watcher). */
  kekLatest?(kekId: string): string | undefined;
  /** The provider's semantic checks of a source (no I/O): the error, or undefined when it passes. */
  sourceProblem?(source: AnySource): unknown;
}

export function observe(d: ObserveDeps, key: string, memory: Memory | undefined, now: Date): Observed | undefined {
  const [namespace = '', name = ''] = key.split('/');
  const ss = d.reader.getSecretSync(namespace, name);
  if (!ss) return undefined;
  const sourceRef = sourceRefOf(ss);
  const source = d.reader.getSource(sourceRef);
  const target = d.reader.getManagedSecret(namespace, targetName(ss));
  const uid = ss.metadata.uid ?? '';
  let kek: Observed['kek'];
  try {
    const ref = kekRefOf(ss);
    if (ref) {
      const kekSource = d.reader.getSource(ref.sourceRef);
      const invalid = kekSource ? d.sourceProblem?.(kekSource) : undefined;
      kek = { ref, source: kekSource, latest: d.kekLatest?.(ref.id), ...(invalid !== undefined ? { sourceInvalid: invalid } : {}) };
    }
  } catch {
    kek = undefined; // a spec the schema should have refused; validation reports it
  }
  const sourceInvalid = source ? d.sourceProblem?.(source) : undefined;
  return {
    key,
    now,
    ss,
    sourceRef,
    source,
    ...(sourceInvalid !== undefined ? { sourceInvalid } : {}),
    sourceVersion: source ? `${source.metadata.uid ?? ''}/${source.metadata.generation ?? ''}` : '',
    namespaceLabels: d.reader.getNamespaceLabels(namespace),
    target,
    strays: d.reader.secretsOwnedBy(namespace, uid).filter((s) => s.metadata.name !== targetName(ss) && isOwnedBy(s, uid)),
    memory,
    macKeys: objectMacKeys(d.hmacKey, namespace, uid),
    ...(d.operatorSecrets?.namespace === namespace ? { operatorSecrets: d.operatorSecrets.names } : {}),
    alignRefreshes: source ? d.alignsRefreshes(source) : false,
    workloads: d.reader.workloadsIn(namespace),
    grant: { role: d.reader.getManagedRole(namespace, grantName(ss)), binding: d.reader.getManagedRoleBinding(namespace, grantName(ss)) },
    ...(kek ? { kek } : {}),
  };
}
