// Vault JWT/OIDC auth through the running operator, as a team would use it: the team (who
// may write only SecretSources, SecretSyncs and Pods in its namespace) names a service
// account of its namespace; the operator requests its token (audience vault) and logs in at
// OpenBao's jwt method, which checks the token with the API server's issuer keys and binds
// the role to that service account. The SecretSync is Ready and its Secret holds the value.
// A second source names a Secret holding a token for the API server's own audience: it is
// never sent (the recorder in front of its address sees nothing) and the SecretSync is
// Ready=False IdentityNotAllowed, saying what to store instead.
import { createPublicKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { digestsOf, canary } from '../../helpers/canary.js';
import { startHttpRecorder, type HttpRecorder } from '../../helpers/http-recorder.js';
import { createNamespace, createSecret, deleteNamespace, deleteSyncs, installCrds, kube, readyCondition, secretData, waitReady } from '../../helpers/kube.js';
import { startOperator, type RunningOperator } from '../../helpers/operator.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';
import { tenant, type Tenant } from '../../helpers/tenant.js';
import { vaultRoot } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const G = { group: 'secretsync.io', version: 'v1alpha1' };
const id = uniqueName('jwt');
const ns = `${id}-team`;
const opNs = `${id}-system`;
const mount = `jwt-${id}`;
const path = `${id}/db`;
const policy = `${id}-read`;
const VALUE = canary();
const root = vaultRoot();
let recorder: HttpRecorder;
let team: Tenant;
let op: RunningOperator;

const source = (name: string, address: string, jwt: object) => ({
  apiVersion: `${G.group}/${G.version}`,
  kind: 'SecretSource',
  metadata: { name, namespace: ns },
  spec: { vault: { address, auth: { jwt: { mount, role: 'app', ...jwt } } } },
});
const sync = (name: string, src: string) => ({
  apiVersion: `${G.group}/${G.version}`,
  kind: 'SecretSync',
  metadata: { name, namespace: ns },
  spec: { sourceRef: { name: src }, data: [{ key: 'password', remoteRef: { path, property: 'password' } }] },
});
const teamCreates = (plural: string, body: object) => team.custom.createNamespacedCustomObject({ ...G, namespace: ns, plural, body });

beforeAll(async () => {
  await installCrds(kc);
  await createNamespace(core, opNs);
  await createNamespace(core, ns);
  await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'app' } } });
  const jwks = JSON.parse(execFileSync(join(requireEnv('SECRETSYNC_TESTENV_BIN'), 'kubectl'), ['get', '--raw', '/openid/v1/jwks'], { encoding: 'utf8' })) as { keys: object[] };
  const pubkeys = jwks.keys.map((k) => createPublicKey({ key: k as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString());
  await root.write(`sys/auth/${mount}`, { type: 'jwt' });
  await root.write(`auth/${mount}/config`, { jwt_validation_pubkeys: pubkeys, bound_issuer: 'https://kubernetes.default.svc.cluster.local' });
  await root.write(`sys/policy/${policy}`, { policy: `path "secret/data/${path}" { capabilities = ["read"] }` });
  await root.write(`auth/${mount}/role/app`, {
    role_type: 'jwt',
    user_claim: 'sub',
    bound_audiences: ['vault'],
    bound_subject: `system:serviceaccount:${ns}:app`,
    token_policies: [policy],
    token_ttl: '10m',
  });
  await root.write(`secret/data/${path}`, { data: { password: VALUE } });
  // A token for the API server's own audience (none asked for), as a legacy token Secret holds one.
  const tr = await core.createNamespacedServiceAccountToken({ namespace: ns, name: 'app', body: { spec: { audiences: [], expirationSeconds: 600 } } });
  await createSecret(core, ns, 'api-token', { token: tr.status?.token ?? '' });
  recorder = await startHttpRecorder(requireEnv('VAULT_ADDR'));
  team = await tenant(kc, ns);
  op = await startOperator([`--namespace=${ns}`, `--operator-namespace=${opNs}`]);
});

afterAll(async () => {
  await deleteSyncs(custom, ns);
  expect(await op?.stop()).toBe(0);
  team?.release();
  await recorder?.close();
  await root.delete(`sys/auth/${mount}`).catch(() => undefined);
  await root.delete(`sys/policy/${policy}`).catch(() => undefined);
  await root.delete(`secret/metadata/${path}`).catch(() => undefined);
  await deleteNamespace(core, ns);
  await deleteNamespace(core, opNs);
});

test("a team's source logs in with its service account's token at the jwt method, and the SecretSync is Ready", async () => {
  await teamCreates('secretsources', source('vault-jwt', requireEnv('VAULT_ADDR'), { kubernetesServiceAccountToken: { serviceAccountRef: { name: 'app' } } }));
  await teamCreates('secretsyncs', sync('db', 'vault-jwt'));
  await waitReady(custom, ns, 'db', 'True', 'Synced');
  expect(digestsOf(await secretData(core, ns, 'db'))).toEqual(digestsOf({ password: VALUE }));
});

test("a stored JWT for the API server's audience is never sent: Ready=False IdentityNotAllowed", async () => {
  await teamCreates('secretsources', source('api-jwt', recorder.url, { secretRef: { name: 'api-token', key: 'token' } }));
  await teamCreates('secretsyncs', sync('refused', 'api-jwt'));
  const ss = await waitReady(custom, ns, 'refused', 'False', 'IdentityNotAllowed');
  expect(readyCondition(ss)?.message).toContain('an audience of the API server itself');
  expect(readyCondition(ss)?.message).toContain(`Secret ${ns}/api-token key "token"`);
  expect(recorder.requests).toEqual([]);
});
