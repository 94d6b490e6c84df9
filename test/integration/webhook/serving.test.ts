// WebhookServing against the stack's real kube-apiserver, run as the operator's service
// account (so its RBAC is exercised): the API server calls it for labelled pods only, the
// patch lands on the stored Pod, certificates (serving and CA) renew under a stream of pod
// creations without one failure, and failurePolicy decides what happens when it is down.
// Only admission matters here: the pods name made-up images and never run.
import { AdmissionregistrationV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { X509Certificate } from 'node:crypto';
import { KubeWebhookCertStore } from '../../../src/kube/webhook-cert-store.js';
import { KubeWebhookConfig } from '../../../src/kube/webhook-config.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { patchResponse, pointerToken } from '../../../src/webhook/admission.js';
import { register } from '../../../src/webhook/registration.js';
import { WebhookServing, type WebhookServingOptions } from '../../../src/webhook/serving.js';
import { eventually } from '../../helpers/eventually.js';
import { createNamespace, deleteNamespace, kube } from '../../helpers/kube.js';
import { operatorIdentity, type OperatorIdentity } from '../../helpers/rbac.js';
import { uniqueName } from '../../helpers/stack.js';

const admin = kube();
const regApi = admin.kc.makeApiClient(AdmissionregistrationV1Api);
const id = uniqueName('whk');
const ns = `${id}-apps`;
const opNs = `${id}-system`;
const configName = `secretsync-test-${id}`;
const SECRET = 'secretsync-webhook-tls';
const ANNOTATION = 'test.secretsync.io/mutated';

let identity: OperatorIdentity;
let serving: WebhookServing | undefined;
let opKube: { core: CoreV1Api; reg: AdmissionregistrationV1Api };
const metrics = createMetrics();

const options: WebhookServingOptions = {
  operatorNamespace: opNs,
  secretName: SECRET,
  configName,
  port: 0,
  failurePolicy: 'Fail',
  timeoutSeconds: 5,
  // Short enough to see both renewals in one test: serving at ~13 s, the CA at ~30 s.
  servingLifetimeMs: 20_000,
  caLifetimeMs: 45_000,
  recheckMs: 3_000,
  propagationMs: 2_000,
};

function start(): Promise<WebhookServing> {
  const s = new WebhookServing(options, {
    handler: async (r) => patchResponse(r.request.uid, [{ op: 'add', path: `/metadata/annotations/${pointerToken(ANNOTATION)}`, value: 'yes' }]),
    certStore: new KubeWebhookCertStore(opKube.core, { namespace: opNs, name: SECRET }),
    webhookConfig: new KubeWebhookConfig(opKube.reg),
    metrics: metrics.webhook,
  });
  return s.start().then(() => s);
}

let podSeq = 0;
function pod(labelled: boolean): V1Pod {
  return {
    metadata: {
      name: `p-${++podSeq}-${Math.random().toString(36).slice(2, 6)}`,
      // An annotation, so the handler's add has a parent map to add to (an empty one is not sent).
      annotations: { seed: 'x' },
      labels: labelled ? { 'secretsync.io/inject': 'true' } : { other: 'x' },
    },
    spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }], automountServiceAccountToken: false },
  };
}

const createPod = (labelled: boolean, dryRun = false) =>
  admin.core.createNamespacedPod({ namespace: ns, body: pod(labelled), ...(dryRun ? { dryRun: 'All' } : {}) });

async function injected(): Promise<number> {
  const got = await metrics.registry.getSingleMetric('secretsync_webhook_requests_total')?.get();
  return got?.values.filter((v) => v.labels.result === 'injected').reduce((n, v) => n + v.value, 0) ?? 0;
}

async function caBundle(): Promise<string> {
  return (await regApi.readMutatingWebhookConfiguration({ name: configName })).webhooks?.[0]?.clientConfig.caBundle ?? '';
}

async function servingFingerprint(): Promise<string> {
  const s = await admin.core.readNamespacedSecret({ namespace: opNs, name: SECRET });
  return new X509Certificate(Buffer.from(s.data?.['tls.crt'] ?? '', 'base64')).fingerprint256;
}

beforeAll(async () => {
  await createNamespace(admin.core, opNs);
  await createNamespace(admin.core, ns);
  identity = await operatorIdentity(opNs, { webhookConfigName: configName });
  const kc = new KubeConfig();
  kc.loadFromFile(identity.kubeconfig);
  opKube = { core: kc.makeApiClient(CoreV1Api), reg: kc.makeApiClient(AdmissionregistrationV1Api) };
  // The ServiceAccount admission plugin wants the namespace's default account (the controller manager makes it).
  await eventually(async () => ((await admin.core.readNamespacedServiceAccount({ namespace: ns, name: 'default' })) ? true : undefined), {
    what: `ServiceAccount ${ns}/default`,
  });
  serving = await start();
  // The API server learns of the configuration through a watch: wait until a dry run is mutated.
  await eventually(async () => ((await createPod(true, true)).metadata?.annotations?.[ANNOTATION] === 'yes' ? true : undefined), {
    what: 'the API server calling the webhook',
  });
});

afterAll(async () => {
  await serving?.stop();
  await regApi.deleteMutatingWebhookConfiguration({ name: configName }).catch(() => undefined);
  await identity?.release();
  await deleteNamespace(admin.core, ns);
  await deleteNamespace(admin.core, opNs);
});

test('registers the configuration and the TLS Secret as the design says', async () => {
  const cfg = await regApi.readMutatingWebhookConfiguration({ name: configName });
  const wh = cfg.webhooks?.[0];
  expect(wh?.name).toBe('inject.secretsync.io');
  expect(wh?.clientConfig.url).toBe(`https://127.0.0.1:${serving?.port}/mutate`);
  expect(wh?.objectSelector?.matchLabels).toEqual({ 'secretsync.io/inject': 'true' });
  expect(wh?.namespaceSelector?.matchExpressions).toEqual([{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [opNs, 'kube-system'] }]);
  expect(cfg.metadata?.managedFields?.map((f) => f.manager)).toEqual(['secretsync']);
  const secret = await admin.core.readNamespacedSecret({ namespace: opNs, name: SECRET });
  expect(secret.type).toBe('kubernetes.io/tls');
  expect(Object.keys(secret.data ?? {}).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
});

test('a labelled pod is stored mutated; an unlabelled one is never sent', async () => {
  const before = await injected();
  const created = await createPod(true);
  const stored = await admin.core.readNamespacedPod({ namespace: ns, name: created.metadata?.name ?? '' });
  expect(stored.metadata?.annotations?.[ANNOTATION]).toBe('yes');
  expect(await injected()).toBe(before + 1);

  const plain = await createPod(false);
  const storedPlain = await admin.core.readNamespacedPod({ namespace: ns, name: plain.metadata?.name ?? '' });
  expect(storedPlain.metadata?.annotations?.[ANNOTATION]).toBeUndefined();
  expect(await injected()).toBe(before + 1);
});

test('pods keep being admitted and mutated across serving and CA renewals', async () => {
  const bundles = new Set([await caBundle()]);
  const certs = new Set([await servingFingerprint()]);
  const failures: string[] = [];
  let created = 0;
  // Until both renewals have been seen and 20 more pods admitted after them (at most 40 s).
  let afterRenewals = 0;
  const until = Date.now() + 40_000;
  while (Date.now() < until && afterRenewals < 20) {
    if (certs.size >= 3 && bundles.size >= 2) afterRenewals++;
    try {
      const p = await createPod(true);
      if (p.metadata?.annotations?.[ANNOTATION] !== 'yes') failures.push(`${p.metadata?.name}: not mutated`);
      created++;
    } catch (err) {
      failures.push(String((err as { body?: unknown }).body ?? err).slice(0, 300));
    }
    bundles.add(await caBundle());
    certs.add(await servingFingerprint());
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(failures).toEqual([]);
  expect(created).toBeGreaterThan(50);
  expect(certs.size).toBeGreaterThanOrEqual(3); // at least two renewals
  expect(bundles.size).toBeGreaterThanOrEqual(2); // the CA rotated too
  expect(serving?.bundle && new X509Certificate(serving.bundle.serving.cert).fingerprint256).toBe(await servingFingerprint());
}, 90_000);

test('failurePolicy: Fail refuses labelled pods while the server is down, Ignore admits them', async () => {
  await serving?.stop();
  const port = serving?.port ?? 0;
  serving = undefined;
  await expect(createPod(true)).rejects.toMatchObject({ code: 500 });
  const err = await createPod(true).catch((e: { body?: string }) => String(e.body));
  expect(err).toContain('inject.secretsync.io');
  await expect(createPod(false)).resolves.toBeDefined();

  // The same configuration with Ignore (written as the operator would, by its own port).
  const bundle = Buffer.from(await caBundle(), 'base64').toString('utf8');
  await register(
    new KubeWebhookConfig(opKube.reg),
    { name: configName, operatorNamespace: opNs, failurePolicy: 'Ignore', timeoutSeconds: 5, target: { url: `https://127.0.0.1:${port}/mutate` } },
    bundle,
  );
  const admitted = await eventually(async () => createPod(true).catch(() => undefined), { what: 'a labelled pod admitted under Ignore' });
  expect(admitted.metadata?.annotations?.[ANNOTATION]).toBeUndefined();
});
