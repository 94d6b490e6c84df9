// What the cache keeps of a workload: everything rollouts and the in-use hold read, and
// nothing else (managed fields, images, commands, other env and volumes are dropped).
import { slimWorkload } from '../../../src/kube/workloads.js';
import { inUseBy, usesOf } from '../../../src/secretsync/rollout.js';
import { aSecretSync } from '../secretsync/fixtures.js';

const full = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'api',
    namespace: 'ns',
    uid: 'd1',
    generation: 4,
    resourceVersion: '77',
    labels: { app: 'api' },
    annotations: { 'deployment.kubernetes.io/revision': '3' },
    managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:spec': {} } }],
  },
  spec: {
    replicas: 2,
    progressDeadlineSeconds: 60,
    selector: { matchLabels: { app: 'api' } },
    template: {
      metadata: { labels: { app: 'api', 'secretsync.io/inject': 'true' }, annotations: { 'secretsync.io/inject': 'db', 'secretsync.io/version-db': '3' } },
      spec: {
        volumes: [{ name: 'cfg', configMap: { name: 'c' } }, { name: 's', secret: { secretName: 'db' } }, { name: 'p', projected: { sources: [{ configMap: { name: 'c' } }, { secret: { name: 'tls' } }] } }],
        initContainers: [{ name: 'migrate', image: 'm:1', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'mig', key: 'k' } } }] }],
        containers: [{ name: 'app', image: 'a:1', command: ['run'], env: [{ name: 'PLAIN', value: 'v' }, { name: 'PW', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }], envFrom: [{ configMapRef: { name: 'c' } }, { secretRef: { name: 'api-keys' } }] }],
      },
    },
  },
  status: { observedGeneration: 4, replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1, conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }] },
};

test('keeps identity, replicas, the template labels and annotations, Secret references and the status; drops the rest', () => {
  const w = slimWorkload(full);
  expect(w).toEqual({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: 'ns', uid: 'd1', generation: 4, resourceVersion: '77' },
    spec: {
      replicas: 2,
      progressDeadlineSeconds: 60,
      template: {
        metadata: full.spec.template.metadata,
        spec: {
          volumes: [{ name: 's', secret: { secretName: 'db' } }, { name: 'p', projected: { sources: [{ secret: { name: 'tls' } }] } }],
          initContainers: [{ name: 'migrate', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'mig', key: 'k' } } }] }],
          containers: [{ name: 'app', env: [{ name: 'PW', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }], envFrom: [{ secretRef: { name: 'api-keys' } }] }],
        },
      },
    },
    status: full.status,
  });
  expect(JSON.stringify(w).length).toBeLessThan(JSON.stringify(full).length);
});

test('the slim object answers every usage question as the full one does', () => {
  const fullAsWorkload = full as unknown as Parameters<typeof usesOf>[0];
  for (const [target, sync] of [['db', 'db'], ['tls', 'x'], ['mig', 'x'], ['api-keys', 'x'], ['c', 'x'], ['other', 'other']] as const) {
    expect(usesOf(slimWorkload(full), target, sync)).toEqual(usesOf(fullAsWorkload, target, sync));
  }
  const ss = aSecretSync({}, { name: 'db' });
  expect(inUseBy(ss, [slimWorkload(full)])).toEqual(inUseBy(ss, [fullAsWorkload]));
});

test('a workload without a template spec or status still comes out whole', () => {
  expect(slimWorkload({ kind: 'DaemonSet', metadata: { name: 'd', namespace: 'ns' }, spec: { template: {} } })).toEqual({
    kind: 'DaemonSet',
    metadata: { name: 'd', namespace: 'ns' },
    spec: { template: { metadata: {}, spec: { containers: [] } } },
  });
});

test('of the workload\'s own annotations only the rollout opt-in is kept', () => {
  const optedIn = { ...full, metadata: { ...full.metadata, annotations: { ...full.metadata.annotations, 'secretsync.io/rollout-from': 'db,cache' } } };
  expect(slimWorkload(optedIn).metadata.annotations).toEqual({ 'secretsync.io/rollout-from': 'db,cache' });
  expect(slimWorkload(full).metadata.annotations).toBeUndefined();
});
