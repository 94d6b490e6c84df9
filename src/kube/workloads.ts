// What the operator caches of a Deployment, StatefulSet or DaemonSet: the fields rollouts
// and the in-use hold read (replicas, the pod template's labels, annotations and the Secret
// references of its volumes and env, the rollout status, and of the workload's own
// annotations only the rollout opt-in secretsync.io/rollout-from), not the whole object with its
// managed fields and container specs. A cluster's workloads then cost a fraction of their size.
import { ROLLOUT_FROM_ANNOTATION } from '../api/annotations.js';
import type { ContainerLike, KubeWorkload, PodSpecLike } from '../secretsync/ports.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
/** `{ key: value }` when value is set, else nothing (no undefined fields in the cache). */
const opt = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> => (value === undefined ? {} : ({ [key]: value } as Record<K, V>));

function container(c: Obj): ContainerLike {
  const env = list(c.env)
    .filter((e) => obj(obj(e.valueFrom).secretKeyRef).name !== undefined)
    .map((e) => {
      const ref = obj(obj(e.valueFrom).secretKeyRef);
      return { ...opt('name', str(e.name)), valueFrom: { secretKeyRef: { ...opt('name', str(ref.name)), ...opt('key', str(ref.key)) } } };
    });
  const envFrom = list(c.envFrom)
    .filter((e) => obj(e.secretRef).name !== undefined)
    .map((e) => ({ secretRef: { ...opt('name', str(obj(e.secretRef).name)) } }));
  return { ...opt('name', str(c.name)), ...(env.length ? { env } : {}), ...(envFrom.length ? { envFrom } : {}) };
}

function podSpec(p: Obj): PodSpecLike {
  type Volume = NonNullable<PodSpecLike['volumes']>[number];
  const volumes = list(p.volumes).flatMap((v): Volume[] => {
    const secretName = str(obj(v.secret).secretName);
    if (secretName !== undefined) return [{ ...opt('name', str(v.name)), secret: { secretName } }];
    const sources = list(obj(v.projected).sources).flatMap((s) => {
      const name = str(obj(s.secret).name);
      return name === undefined ? [] : [{ secret: { name } }];
    });
    return sources.length ? [{ ...opt('name', str(v.name)), projected: { sources } }] : [];
  });
  return {
    ...(volumes.length ? { volumes } : {}),
    containers: list(p.containers).map(container),
    ...(Array.isArray(p.initContainers) ? { initContainers: list(p.initContainers).map(container) } : {}),
  };
}

export function slimWorkload(o: unknown): KubeWorkload {
  const w = obj(o);
  const m = obj(w.metadata);
  const spec = obj(w.spec);
  const t = obj(spec.template);
  const tm = obj(t.metadata);
  const optIn = str(obj(m.annotations)[ROLLOUT_FROM_ANNOTATION]);
  return {
    kind: w.kind as KubeWorkload['kind'],
    ...opt('apiVersion', str(w.apiVersion)),
    metadata: {
      name: str(m.name) ?? '',
      namespace: str(m.namespace) ?? '',
      ...opt('uid', str(m.uid)),
      ...opt('generation', typeof m.generation === 'number' ? m.generation : undefined),
      ...opt('resourceVersion', str(m.resourceVersion)),
      ...opt('deletionTimestamp', str(m.deletionTimestamp)),
      ...(optIn !== undefined ? { annotations: { [ROLLOUT_FROM_ANNOTATION]: optIn } } : {}),
    },
    spec: {
      ...opt('replicas', typeof spec.replicas === 'number' ? spec.replicas : undefined),
      ...opt('progressDeadlineSeconds', typeof spec.progressDeadlineSeconds === 'number' ? spec.progressDeadlineSeconds : undefined),
      template: {
        metadata: { ...opt('labels', tm.labels as Record<string, string> | undefined), ...opt('annotations', tm.annotations as Record<string, string> | undefined) },
        spec: podSpec(obj(t.spec)),
      },
    },
    ...opt('status', w.status as KubeWorkload['status'] | undefined),
  } as KubeWorkload;
}
