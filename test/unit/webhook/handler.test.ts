// The admission handler: SecretSyncs and targets from the caches into admitPod, and the
// answers that are not admitPod's (other kinds, a replica still starting, an internal error).
import { createLogger } from '../../../src/observability/logger.js';
import type { SecretSync } from '../../../src/api/types.js';
import { encodeEnvelope } from '../../../src/crypto/envelope.js';
import type { KubeSecret } from '../../../src/secretsync/ports.js';
import { injectionHandler, type HandlerCaches } from '../../../src/webhook/handler.js';
import { syncView } from '../../../src/webhook/sync-view.js';
import { LogSink } from '../../helpers/log-sink.js';

const ss = (o: Partial<SecretSync['spec']> = {}, ready = 'True'): SecretSync => ({
  apiVersion: 'secretsync.io/v1alpha1',
  kind: 'SecretSync',
  metadata: { name: 'db', namespace: 'ns', uid: 'u', generation: 1 },
  spec: { sourceRef: { name: 'v' }, data: [{ key: 'password', remoteRef: { path: 'p' } }], access: { serviceAccounts: ['app'] }, ...o },
  status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: ready as 'True', reason: ready === 'True' ? 'Synced' : 'SourceNotFound', message: 'm', lastTransitionTime: '' }] },
});
const review = (object: unknown, kind = 'Pod') => ({
  apiVersion: 'admission.k8s.io/v1' as const,
  kind: 'AdmissionReview' as const,
  request: { uid: 'r1', kind: { group: '', version: 'v1', kind }, namespace: 'ns', operation: 'CREATE' as const, object },
});
const pod = {
  metadata: { name: 'p', labels: { 'secretsync.io/inject': 'true' }, annotations: { 'secretsync.io/inject': 'db' } },
  spec: { serviceAccountName: 'app', containers: [{ name: 'app', image: 'x' }] },
};
const caches = (s: SecretSync | undefined, target?: KubeSecret): HandlerCaches => ({ getSecretSync: () => s, getManagedSecret: () => target });
const log = createLogger({ destination: new LogSink(), level: 'trace' });

test('a pod asking for a Ready SecretSync gets a patch; one asking for a missing one is refused with the fix', async () => {
  const ok = await injectionHandler(caches(ss()), { agentImage: 'img' }, { log })(review(pod));
  expect(ok).toMatchObject({ allowed: true, patchType: 'JSONPatch' });
  const no = await injectionHandler(caches(undefined), { agentImage: 'img', callerVerified: true }, { log })(review(pod));
  expect(no).toMatchObject({ allowed: false, status: { message: expect.stringContaining('SecretSync "db" does not exist') } });
});

test('a review whose namespace is missing or differs from the pod\'s is refused before any lookup', async () => {
  const looked: string[] = [];
  const spy: HandlerCaches = {
    getSecretSync: (ns, n) => {
      looked.push(`${ns}/${n}`);
      return ss();
    },
    getManagedSecret: () => undefined,
  };
  const h = injectionHandler(spy, { agentImage: 'img', callerVerified: true }, { log });
  const other = { ...pod, metadata: { ...pod.metadata, namespace: 'victim' } };
  expect(await h(review(other))).toMatchObject({ allowed: false, status: { code: 400, message: "request.namespace must be set and equal the pod's metadata.namespace" } });
  const none = review(pod);
  delete (none.request as { namespace?: string }).namespace;
  expect(await h(none)).toMatchObject({ allowed: false, status: { code: 400 } });
  expect(looked).toEqual([]);
  // Equal, or left to the request's (the API server fills it in before admission): looked up there.
  expect(await h(review({ ...pod, metadata: { ...pod.metadata, namespace: 'ns' } }))).toMatchObject({ allowed: true });
  expect(looked).toEqual(['ns/db']);
});

test('anything but a pod is allowed unchanged; a replica that has not synced its caches asks to retry', async () => {
  expect(await injectionHandler(caches(ss()), { agentImage: 'img' }, { log })(review({}, 'Deployment'))).toEqual({ uid: 'r1', allowed: true });
  const starting = injectionHandler(caches(ss()), { agentImage: 'img' }, { log, synced: () => false, syncWaitMs: 200 });
  expect(await starting(review(pod))).toMatchObject({ allowed: false, status: { code: 503 } });
});

test('an internal error is a refusal with a fixed message, never the error text', async () => {
  const broken: HandlerCaches = { getSecretSync: () => { throw new Error('s3cret-in-error'); }, getManagedSecret: () => undefined };
  const r = await injectionHandler(broken, { agentImage: 'img', callerVerified: true }, { log })(review(pod));
  expect(r.allowed).toBe(false);
  expect(JSON.stringify(r)).not.toContain('s3cret');
});

test('the view: keys from the target (envelope: the current version), else the declared ones; access, mode, mount', () => {
  expect(syncView(ss(), undefined)).toMatchObject({ name: 'db', targetSecret: 'db', ready: true, keys: ['password'], serviceAccounts: ['app'] });
  const plain: KubeSecret = { metadata: { name: 'db', namespace: 'ns' }, data: { a: '', b: '' } };
  expect(syncView(ss(), plain).keys).toEqual(['a', 'b']);
  const env: KubeSecret = {
    metadata: { name: 'db', namespace: 'ns' },
    type: 'secretsync.io/envelope',
    data: encodeEnvelope({ current: { version: 1, kek: { type: 'aws-kms', region: 'r', keyId: 'k', version: 'arn' }, wrappedKey: 'w', values: { x: '', y: '' } } }),
  };
  const kek = { encryption: { kek: { awsKms: { sourceRef: { name: 'aws' }, keyId: 'k' } } } };
  expect(syncView(ss({ target: kek }), env)).toMatchObject({ keys: ['x', 'y'], kek: 'aws-kms' });
  expect(syncView(ss({ mount: { mode: '0440', uid: 1000 } }), undefined).mount).toEqual({ uid: 1000 });
  expect(syncView(ss({}, 'False'), undefined)).toMatchObject({ ready: false, readyReason: 'SourceNotFound' });
  // spec.target.template: the files are the template's keys, whatever the envelope seals (the keys it reads).
  const template = { data: { URL: '{{ x }}', 'app.yaml': '{{ y }}' } };
  expect(syncView(ss({ target: { ...kek, template } }), env).keys).toEqual(['URL', 'app.yaml']);
  expect(syncView(ss({ target: { template } }), undefined).keys).toEqual(['URL', 'app.yaml']);
});

test("a pod is served only SecretSyncs of its own namespace: another namespace's name is looked up in the pod's, and namespace/name is refused", async () => {
  const asked: string[] = [];
  const teamA: HandlerCaches = {
    getSecretSync: (namespace, name) => {
      asked.push(`${namespace}/${name}`);
      return namespace === 'team-a' ? ss() : undefined;
    },
    getManagedSecret: () => undefined,
  };
  const inTeamB = (inject: string) => {
    const r = review({ ...pod, metadata: { ...pod.metadata, annotations: { 'secretsync.io/inject': inject } } });
    return { ...r, request: { ...r.request, namespace: 'team-b' } };
  };
  const same = await injectionHandler(teamA, { agentImage: 'img', callerVerified: true }, { log })(inTeamB('db'));
  expect(same).toMatchObject({ allowed: false, status: { message: expect.stringContaining('SecretSync "db" does not exist in namespace "team-b"') } });
  const qualified = await injectionHandler(teamA, { agentImage: 'img', callerVerified: true }, { log })(inTeamB('team-a/db'));
  expect(qualified).toMatchObject({ allowed: false, status: { code: 400 } });
  expect(asked).toEqual(['team-b/db']);
});

test('an unverified caller is answered blind: no SecretSync is looked up, and the answer is the same whatever they hold', async () => {
  const asked: string[] = [];
  const spy = (view: SecretSync | undefined): HandlerCaches => ({
    getSecretSync: (namespace, name) => {
      asked.push(`${namespace}/${name}`);
      return view;
    },
    getManagedSecret: () => undefined,
  });
  const answers = [];
  for (const view of [ss(), undefined, ss({}, 'False')]) answers.push(await injectionHandler(spy(view), { agentImage: 'img' }, { log })(review(pod)));
  expect(asked).toEqual([]);
  expect(answers[0]).toMatchObject({ allowed: true });
  expect(answers[1]).toEqual(answers[0]);
  expect(answers[2]).toEqual(answers[0]);
});
