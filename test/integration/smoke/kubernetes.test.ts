// The local apiserver and controller-manager are real: CRDs, custom objects, watches
// and the Deployment -> ReplicaSet controller all work through @kubernetes/client-node.
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  VersionApi,
  Watch,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { eventually } from '../../helpers/eventually.js';
import { uniqueName } from '../../helpers/stack.js';
import { readVersions } from '../../testenv/config.js';

const kc = new KubeConfig();
kc.loadFromDefault();
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const ext = kc.makeApiClient(ApiextensionsV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);

const group = 'smoke.secretsync.io';
const plural = 'widgets';
const crdName = `${plural}.${group}`;
let namespace: string;

beforeAll(async () => {
  namespace = uniqueName('smoke');
  await core.createNamespace({ body: { metadata: { name: namespace } } });
});

afterAll(async () => {
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  await ext.deleteCustomResourceDefinition({ name: crdName }).catch(() => undefined);
});

test('the apiserver reports the pinned Kubernetes release', async () => {
  const version = await kc.makeApiClient(VersionApi).getCode();
  if (process.env.SECRETSYNC_USE_EXISTING_CLUSTER === '1') expect(version.gitVersion).toMatch(/^v1\.\d+\./);
  else expect(version.gitVersion).toBe(`v${readVersions().K8S_VERSION}`);
});

test('a CRD becomes Established, and an object of it is seen through a watch', async () => {
  const crd: V1CustomResourceDefinition = {
    metadata: { name: crdName },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural, singular: 'widget', kind: 'Widget' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } },
            },
          },
        },
      ],
    },
  };
  await ext.createCustomResourceDefinition({ body: crd });
  await eventually(
    async () => {
      const got = await ext.readCustomResourceDefinition({ name: crdName });
      const ok = (t: string) => got.status?.conditions?.some((c) => c.type === t && c.status === 'True');
      return ok('NamesAccepted') && ok('Established') ? true : undefined;
    },
    { what: 'CRD NamesAccepted and Established' },
  );

  const widget = (name: string) =>
    custom.createNamespacedCustomObject({
      group,
      version: 'v1',
      namespace,
      plural,
      body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name }, spec: { size: 3 } },
    });
  // The CRD's endpoint can answer 429 for a moment after Established; retry the first create.
  // Watching only after a write has gone through avoids attaching to storage that the
  // apiserver is about to replace (it rebuilds a new CRD's storage once its status settles).
  await eventually(() => widget('w1'), { what: 'first custom object created' });

  const seen: string[] = [];
  const waiters = new Map<string, () => void>();
  const added = (name: string) => new Promise<void>((resolve) => waiters.set(name, resolve));
  const w1 = added('w1');
  const w2 = added('w2');
  const watch = await new Watch(kc).watch(
    `/apis/${group}/v1/namespaces/${namespace}/${plural}`,
    {},
    (type: string, obj: { metadata?: { name?: string } }) => {
      const name = obj.metadata?.name ?? '';
      seen.push(`${type} ${name}`);
      if (type === 'ADDED') waiters.get(name)?.();
    },
    () => undefined,
  );
  try {
    await w1; // the initial state of a watch without resourceVersion
    await widget('w2');
    await w2; // a live event
  } finally {
    watch.abort();
  }
  expect(seen).toEqual(['ADDED w1', 'ADDED w2']);

  const got = (await custom.getNamespacedCustomObject({ group, version: 'v1', namespace, plural, name: 'w1' })) as {
    spec: { size: number };
  };
  expect(got.spec.size).toBe(3);
});

test('kube-controller-manager turns a Deployment into a ReplicaSet', async () => {
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'web' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'registry.invalid/web:1' }] },
        },
      },
    },
  });
  const rs = await eventually(
    async () => {
      const list = await apps.listNamespacedReplicaSet({ namespace, labelSelector: 'app=web' });
      return list.items.find((r) => r.metadata?.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === 'web'));
    },
    { timeoutMs: 60_000, what: 'a ReplicaSet owned by Deployment web' },
  );
  expect(rs.spec?.replicas).toBe(1);
});
