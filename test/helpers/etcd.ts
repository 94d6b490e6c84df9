// Objects as an older API server stored them: written straight into the stack's etcd (its
// v3 JSON gateway), under the key the API server uses, for objects today's CRD schema
// would refuse but that exist after an upgrade. The API server serves and watches them as
// any other stored object. Only for a stack that started its own etcd.
import { http } from '../testenv/http.js';

/** The stack's etcd client URL, or undefined on an existing cluster (SECRETSYNC_USE_EXISTING_CLUSTER). */
export function stackEtcd(): string | undefined {
  return process.env.SECRETSYNC_TESTENV_ETCD || undefined;
}

/** The etcd key of a secretsync.io custom object, as the API server stores it. */
export function storageKey(plural: string, name: string, namespace?: string): string {
  return `/registry/secretsync.io/${plural}/${namespace ? `${namespace}/` : ''}${name}`;
}

/**
 * Stores `obj` (apiVersion, kind, metadata with uid, generation and creationTimestamp;
 * no resourceVersion, which etcd's revision provides) under `key`.
 */
export async function putStored(key: string, obj: object): Promise<void> {
  const etcd = stackEtcd();
  if (!etcd) throw new Error('SECRETSYNC_TESTENV_ETCD is not set: this test needs the local stack\'s etcd');
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const r = await http(`${etcd}/v3/kv/put`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key: b64(key), value: b64(JSON.stringify(obj)) }),
  });
  if (r.status !== 200) throw new Error(`etcd put ${key} answered HTTP ${r.status}`);
}
