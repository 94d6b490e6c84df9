// Builders for the pure core's table tests: a SecretSync, a source, the Secret the
// operator would have written, and the Observed state that ties them together.
import type { AnySource, SecretSync, SecretSyncStatus } from '../../../src/api/types.js';
import { sourceRefOf } from '../../../src/api/source-ref.js';
import { contentHmac, hmacKey, objectMacKeys, type Content, type HmacKey, type ObjectMacKeys } from '../../../src/secretsync/content.js';
import { steps } from '../../../src/secretsync/act.js';
import type { Memory, Observed } from '../../../src/secretsync/observe.js';
import type { Plan } from '../../../src/secretsync/plan.js';
import type { KubeSecret } from '../../../src/secretsync/ports.js';
import { successStatus } from '../../../src/secretsync/status.js';
import { desiredSecret, plainBody } from '../../../src/secretsync/target.js';

export const KEY: HmacKey = hmacKey(Buffer.alloc(32, 1));
export const T0 = new Date('2026-01-01T00:00:00Z');

/** The MAC keys of `ss` under the root key `root` (KEY unless given). */
export const keysFor = (ss: SecretSync, root: HmacKey = KEY): ObjectMacKeys => objectMacKeys(root, ss.metadata.namespace ?? '', ss.metadata.uid ?? '');

export const content = (o: Record<string, string>): Content =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Buffer.from(v)]));

export function aSecretSync(spec: Partial<SecretSync['spec']> = {}, meta: Partial<SecretSync['metadata']> = {}): SecretSync {
  return {
    apiVersion: 'secretsync.io/v1alpha1',
    kind: 'SecretSync',
    metadata: { name: 'db', namespace: 'ns', uid: 'u1', generation: 1, resourceVersion: '10', ...meta },
    spec: { sourceRef: { name: 'vault' }, data: [{ key: 'password', remoteRef: { path: 'db', property: 'password' } }], refresh: { interval: '30s' }, ...spec },
  };
}

export const vaultSource: AnySource = {
  apiVersion: 'secretsync.io/v1alpha1',
  kind: 'SecretSource',
  metadata: { name: 'vault', namespace: 'ns', uid: 's1', generation: 1 },
  spec: { vault: { address: 'https://v', auth: { token: { secretRef: { name: 't', key: 'k' } } } } },
};

/** A healthy status for `c` (version 1 unless given), as the operator would have written it (per-object HMAC unless `key` is given). */
export function syncedStatus(ss: SecretSync, c: Content, o: Partial<SecretSyncStatus> = {}, key: HmacKey = keysFor(ss).content): SecretSyncStatus {
  const base = successStatus(ss, {
    version: o.version ?? 1,
    hmac: contentHmac(key, c),
    sourceVersions: { db: '1' },
    keyCount: Object.keys(c).length,
    now: T0,
    secretWritten: true,
    forceSyncHandled: undefined,
  });
  return { ...base, ...o };
}

/** The plain-mode Secret the operator wants for `ss` holding `c` as `version`. */
export function desired(ss: SecretSync, c: Content, version = ss.status?.version ?? 1): KubeSecret {
  return desiredSecret(ss, plainBody(ss, c, version));
}

/** The Secret the operator would have created for `ss` with `c` (managedFields naming us). */
export function writtenSecret(ss: SecretSync, c: Content, rv = '5', version = ss.status?.version ?? 1): KubeSecret {
  return asWritten(desired(ss, c, version), rv);
}

/** `d` as the API server holds it once the operator created it: a uid, a resourceVersion, managedFields naming us for its labels. */
export function asWritten(d: KubeSecret, rv = '5'): KubeSecret {
  const labelKeys = Object.fromEntries(Object.keys(d.metadata.labels ?? {}).map((k) => [`f:${k}`, {}]));
  return {
    ...d,
    metadata: {
      ...d.metadata,
      uid: 'sec-1',
      resourceVersion: rv,
      managedFields: [{ manager: 'secretsync', operation: 'Update', fieldsV1: { 'f:metadata': { 'f:labels': labelKeys } } }],
    },
  };
}

export function observed(o: Partial<Observed> & { ss: SecretSync }): Observed {
  return {
    key: `${o.ss.metadata.namespace}/${o.ss.metadata.name}`,
    now: T0,
    sourceRef: sourceRefOf(o.ss),
    source: vaultSource,
    sourceVersion: 's1/1',
    namespaceLabels: {},
    target: undefined,
    strays: [],
    memory: undefined,
    macKeys: keysFor(o.ss),
    alignRefreshes: false,
    grant: { role: undefined, binding: undefined },
    workloads: [],
    ...o,
  };
}

export const remembered = (lastCheck: Date, sourceVersion = 's1/1'): Memory => ({ lastCheck, sourceVersion });

/**
 * The API writes (and events) a plan makes, in act's one order (act.ts `steps`), grants
 * and rollouts included: `secret create`, `create Role`, `roll Deployment/api to 2`, `status`, `event Synced`...
 */
export function planWrites(p: Plan): string[] {
  return steps(p).map((s) => {
    switch (s.kind) {
      case 'finalizers':
        return 'finalizer';
      case 'secret':
        return `secret ${s.write.kind}`;
      case 'grant':
        return s.write.op === 'delete' ? `delete ${s.write.kind}` : `${s.write.op} ${s.write.object.kind}`;
      case 'rollout':
        return `roll ${s.patch.kind}/${s.patch.name} to ${s.patch.value}`;
      case 'cleanup':
        return `${s.cleanup.kind} ${s.cleanup.name}`;
      case 'status':
        return 'status';
      case 'event':
        return `event ${s.event.reason}`;
    }
  });
}
