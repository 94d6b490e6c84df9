// Issue 18 item 8, as an attacker would try it: anyone who reaches the webhook port (any
// pod, without a NetworkPolicy) POSTs hand-made AdmissionReviews naming another namespace
// and its SecretSyncs, hoping to read their key names, access lists and Ready messages.
// Without --webhook-client-ca the answers carry nothing of them; with it the handshake
// refuses every caller but the API server, whose own calls (with the client certificate
// the local stack's AdmissionConfiguration gives it) still inject.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { AdmissionregistrationV1Api, type V1Pod } from '@kubernetes/client-node';
import { canary } from '../../helpers/canary.js';
import { eventually } from '../../helpers/eventually.js';
import { apply, createNamespace, createSecret, deleteNamespace, deleteSyncs, installCrds, kube, waitReady } from '../../helpers/kube.js';
import { startOperator, type RunningOperator } from '../../helpers/operator.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';
import { tenant as makeTenant, type Tenant } from '../../helpers/tenant.js';
import { kvPut } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const admission = kc.makeApiClient(AdmissionregistrationV1Api);
const id = uniqueName('wa');
const victim = `${id}-victim`;
const locked = `${id}-locked`;
const attackerNs = `${id}-attacker`;
const opNs = `${id}-system`;
const openConfig = `secretsync-${id}-open`;
const lockedConfig = `secretsync-${id}-locked`;
let open: RunningOperator;
let lockedOp: RunningOperator;
let attacker: Tenant;

// What the victim's SecretSyncs hold that the attacker must not learn.
const SECRET_KEY = 'zz-private-key';
const SERVICE_ACCOUNTS = ['victim-api', 'victim-batch'];
const MISSING_PATH = `${id}/not-there-path`;
const UID = 4242;
const sync = (namespace: string, name: string, spec: Record<string, unknown> = {}) => ({
  kind: 'SecretSync',
  metadata: { name, namespace },
  spec: {
    sourceRef: { name: 'vault' },
    data: [{ key: SECRET_KEY, remoteRef: { path: `${id}/db`, property: 'v' } }],
    access: { serviceAccounts: SERVICE_ACCOUNTS },
    mount: { uid: UID, gid: UID },
    ...spec,
  },
});
const podOf = (namespace: string, syncs: string, sa: string, podNamespace: string | undefined = namespace): V1Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'probe', ...(podNamespace !== undefined ? { namespace: podNamespace } : {}), labels: { 'secretsync.io/inject': 'true' }, annotations: { 'secretsync.io/inject': syncs } },
  spec: { serviceAccountName: sa, containers: [{ name: 'app', image: 'registry.example/app:1' }] },
});
const review = (namespace: string, pod: V1Pod) =>
  JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: uniqueName('u'), kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, namespace, operation: 'CREATE', object: pod },
  });

/** A hand-made POST to the webhook port, as any pod of the cluster could send it. */
function post(port: number, body: string, client?: { cert: string; key: string }): Promise<{ status: number; body: string } | { tlsError: string }> {
  return new Promise((resolve) => {
    const req = request(
      // The attacker does not care who serves: it skips verifying the server.
      { host: '127.0.0.1', port, path: '/mutate', method: 'POST', rejectUnauthorized: false, agent: false, ...(client ?? {}), headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ tlsError: err.code ?? err.message }));
    req.end(body);
  });
}

/** Nothing of the victim's SecretSyncs in an answer, beyond what the caller itself sent (a guessed name is echoed). */
function expectNothingOfTheVictim(answer: string, sent: string): void {
  for (const s of [SECRET_KEY, ...SERVICE_ACCOUNTS, 'not-there-path', 'SourceNotFound', String(UID)]) if (!sent.includes(s)) expect(answer).not.toContain(s);
}

/** The admin kubeconfig's client certificate: valid for the API server, from another CA than the webhook trusts. */
function adminClientCert(): { cert: string; key: string } {
  const user = kc.getCurrentUser();
  const pem = (data?: string, file?: string) => (data ? Buffer.from(data, 'base64').toString('utf8') : file ? readFileSync(file, 'utf8') : '');
  return { cert: pem(user?.certData, user?.certFile), key: pem(user?.keyData, user?.keyFile) };
}

beforeAll(async () => {
  await installCrds(kc);
  await kvPut(`${id}/db`, { v: canary('db') });
  await createNamespace(core, opNs);
  for (const ns of [victim, locked, attackerNs]) {
    await createNamespace(core, ns);
    await createSecret(core, ns, 'vault-token', { token: requireEnv('VAULT_TOKEN') });
    await apply(custom, { kind: 'SecretSource', metadata: { name: 'vault', namespace: ns }, spec: { vault: { address: requireEnv('VAULT_ADDR'), auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } } } } });
  }
  attacker = await makeTenant(kc, attackerNs);
  await apply(custom, sync(victim, 'db'));
  await apply(custom, sync(victim, 'broken', { data: [{ key: SECRET_KEY, remoteRef: { path: MISSING_PATH, property: 'v' } }] }));
  await apply(custom, sync(locked, 'db', { access: { serviceAccounts: ['app'] } }));
  for (const name of ['app', 'stranger']) await core.createNamespacedServiceAccount({ namespace: locked, body: { metadata: { name } } });
  // One operator per namespace: the victim's webhook as today (no client certificate asked), the other locked down.
  open = await startOperator([`--namespace=${victim}`, `--operator-namespace=${opNs}`, '--agent-image=secretsync-test:dev'], {}, { webhook: { configName: openConfig } });
  lockedOp = await startOperator([`--namespace=${locked}`, `--operator-namespace=${opNs}`, '--agent-image=secretsync-test:dev'], {}, { webhook: { configName: lockedConfig, clientAuth: true } });
  await waitReady(custom, victim, 'db', 'True');
  await waitReady(custom, victim, 'broken', 'False');
  await waitReady(custom, locked, 'db', 'True');
}, 120_000);

afterAll(async () => {
  for (const ns of [victim, locked]) await deleteSyncs(custom, ns).catch(() => undefined);
  expect(await open?.stop()).toBe(0);
  expect(await lockedOp?.stop()).toBe(0);
  for (const name of [openConfig, lockedConfig]) await admission.deleteMutatingWebhookConfiguration({ name }).catch(() => undefined);
  for (const ns of [victim, locked, attackerNs, opNs]) await deleteNamespace(core, ns);
});

test('without a client certificate required: hand-made reviews naming the victim namespace learn nothing of its SecretSyncs', async () => {
  // The attacker cannot read them with kubectl.
  await expect(attacker.custom.getNamespacedCustomObject({ group: 'secretsync.io', version: 'v1alpha1', namespace: victim, plural: 'secretsyncs', name: 'db' })).rejects.toThrow(/403|forbidden/i);
  const answers: { sent: string; answer: string }[] = [];
  const probe = async (namespace: string, pod: V1Pod) => {
    const sent = review(namespace, pod);
    const r = await post(open.webhookPort, sent);
    if (!('status' in r)) throw new Error(`TLS refused: ${r.tlsError}`);
    answers.push({ sent, answer: r.body });
    return JSON.parse(r.body) as { response: { allowed: boolean; status?: { code: number; message: string }; patch?: string } };
  };
  // A granted Ready SecretSync, one the service account is not granted, a missing one and a
  // not-Ready one: one answer for all (the webhook does not look them up for this caller), and
  // that answer is the patch any pod naming that SecretSync would get.
  const blind = (name: string) => (r: { response: { allowed: boolean; patch?: string } }) => Buffer.from(r.response.patch ?? '', 'base64').toString('utf8').replaceAll(name, 'NAME');
  const first = await probe(victim, podOf(victim, 'db', SERVICE_ACCOUNTS[0]!));
  expect(first.response.allowed).toBe(true);
  for (const [name, sa] of [['db', 'default'], ['db', 'attacker'], ['nope', SERVICE_ACCOUNTS[0]!], ['broken', SERVICE_ACCOUNTS[0]!]] as const) {
    const r = await probe(victim, podOf(victim, name, sa));
    expect(r.response.allowed).toBe(true);
    expect(blind(name)(r)).toBe(blind('db')(first));
  }
  // The review's namespace and the pod's disagree (the attacker's pod, the victim's namespace, or the reverse): refused before any lookup.
  for (const [reviewNs, podNs] of [[victim, attackerNs], [attackerNs, victim], ['', victim]] as const) {
    const r = await probe(reviewNs, podOf(victim, 'db', SERVICE_ACCOUNTS[0]!, podNs));
    expect(r.response).toMatchObject({ allowed: false, status: { code: 400 } });
  }
  for (const a of answers) expectNothingOfTheVictim(a.answer, a.sent);
  // And nothing was written: the victim's SecretSyncs have no event from these calls.
  const events = await core.listNamespacedEvent({ namespace: victim });
  expect(events.items.filter((e) => /probe|attacker/.test(e.message ?? ''))).toEqual([]);
});

test('without a client certificate the patch is made of the request alone: no key name, target, KEK or spec.mount owner', async () => {
  // The webhook cannot tell this call from the API server's: the <KEY>_FILE variables (which name keys) are left out,
  // the agent finds the target itself, and runs as the pod's own user, not spec.mount's.
  const sent = review(victim, podOf(victim, 'db', SERVICE_ACCOUNTS[0]!));
  const r = await post(open.webhookPort, sent);
  if (!('status' in r)) throw new Error(`TLS refused: ${r.tlsError}`);
  const res = (JSON.parse(r.body) as { response: { allowed: boolean; patch?: string } }).response;
  expect(res.allowed).toBe(true);
  const patch = Buffer.from(res.patch ?? '', 'base64').toString('utf8');
  expect(patch).toContain('secretsync-agent-init');
  for (const text of [r.body, patch]) {
    expectNothingOfTheVictim(text, sent);
    expect(text).not.toContain('ZZ_PRIVATE_KEY');
  }
  expect(patch).toContain('secretsync.io~1file-env');
});

test('with --webhook-client-ca: the API server (presenting its client certificate) injects; a hand-made review without one, or with another certificate, is refused at TLS', async () => {
  await eventually(async () => (await admission.readMutatingWebhookConfiguration({ name: lockedConfig }).catch(() => undefined))?.webhooks?.[0]?.clientConfig.caBundle ? true : undefined, { what: 'locked webhook registered' });
  const stored = await eventually(() => core.createNamespacedPod({ namespace: locked, body: { ...podOf(locked, 'db', 'app'), metadata: { ...podOf(locked, 'db', 'app').metadata, name: uniqueName('p') } } }).catch(() => undefined), {
    what: 'a pod admitted through the locked webhook',
  });
  expect(stored.spec?.initContainers?.[0]?.name).toBe('secretsync-agent-init');
  expect((stored.spec?.containers?.[0]?.env ?? []).map((e) => e.value)).toContain(`/run/secrets/db/${SECRET_KEY}`);

  for (const client of [undefined, adminClientCert()]) {
    const r = await post(lockedOp.webhookPort, review(locked, podOf(locked, 'db', 'app')), client);
    expect(r).toEqual({ tlsError: expect.any(String) });
  }
  // A refusal the API server relays is detailed again: the caller is known to be the API server.
  const err = await core.createNamespacedPod({ namespace: locked, body: { ...podOf(locked, 'db', 'stranger'), metadata: { ...podOf(locked, 'db', 'stranger').metadata, name: uniqueName('p') } } }).then(
    () => undefined,
    (e: { body?: string }) => JSON.parse(e.body ?? '{}').message as string,
  );
  expect(err).toContain('service account "stranger" may not receive SecretSync "db"');
});
