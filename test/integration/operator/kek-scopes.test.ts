// Item 7 of issue 18, as team-b would try it. The platform team's ClusterSecretSource
// reaches Vault Transit with one operator token that may mint data keys under every
// team's key; its spec.namespaceScopes[].keys give each team its own Transit key. team-b
// (allowed to create SecretSources, SecretSyncs and Pods only) names team-a's key as its
// KEK: refused before any Transit call, no Secret. And on the pod side, where the agent
// unwraps with the pod's own identity: with a key per namespace and each namespace's pod
// role limited to its own key, team-b's pod cannot open team-a's envelope even holding a
// copy of the Secret (Vault refuses the login or the decrypt), while team-a's pod can.
// The contrast, on the same stack: with one key shared by both teams' pods, team-b's pod
// identity unwraps team-a's data key and opens the values with the envelope's public
// binding; so docs/envelope.md recommends a key per namespace. The agent runs as each
// namespace's service account (test/helpers/agent.ts); the pods themselves are test/integration/pods/'s.
import { lstatSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodeVault from 'node-vault';
import type { V1Secret } from '@kubernetes/client-node';
import type { SecretSync } from '../../../src/api/types.js';
import { agentIdentity, agentOutputs, agentVaultAuth, allowSecret, runAgent, type AgentIdentity } from '../../helpers/agent.js';
import { tenant, type Tenant } from '../../helpers/tenant.js';
import { canary, leaksIn } from '../../helpers/canary.js';
import { entriesByDoc, openByDoc, type DocSecret } from '../../helpers/envelope-by-doc.js';
import { eventually } from '../../helpers/eventually.js';
import { startHttpRecorder, type HttpRecorder } from '../../helpers/http-recorder.js';
import { apply, createNamespace, createSecret, deleteNamespace, deleteSyncs, installCrds, kube, readyCondition } from '../../helpers/kube.js';
import { expectNoLeak } from '../../helpers/leaks.js';
import { startOperator, type RunningOperator } from '../../helpers/operator.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';
import { kvPut, vaultRoot } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const root = vaultRoot();
const VAULT_ADDR = requireEnv('VAULT_ADDR');
const id = uniqueName('kekscope');
const nsA = `${id}-team-a`;
const nsB = `${id}-team-b`;
const opNs = `${id}-system`;
const transit = `transit-${id}`;
const authA = `kubernetes-${id}-a`;
const authB = `kubernetes-${id}-b`;
const source = `${id}-transit`;
const openSource = `${id}-transit-open`;
const CANARY_A = canary('team-a');
const CANARY_B = canary('team-b');
const G = { group: 'secretsync.io', version: 'v1alpha1', plural: 'secretsyncs' };
let op: RunningOperator;
let recorder: HttpRecorder;
let tmp: string;
let teamA: Tenant;
let teamB: Tenant;
let podA: AgentIdentity;
let podB: AgentIdentity;
const cleanups: (() => Promise<void>)[] = [];

const transitKek = (key: string, agentMount: string, role = 'app', src = source) => ({
  encryption: { kek: { vaultTransit: { sourceRef: { kind: 'ClusterSecretSource', name: src }, mount: transit, key, agentAuth: { kubernetes: { mount: agentMount, role } } } } },
});

async function tenantSync(t: Tenant, name: string, path: string, target: Record<string, unknown>, src = source): Promise<SecretSync> {
  return (await t.custom.createNamespacedCustomObject({
    ...G,
    namespace: t.namespace,
    body: {
      apiVersion: 'secretsync.io/v1alpha1',
      kind: 'SecretSync',
      metadata: { name, namespace: t.namespace },
      spec: {
        sourceRef: { kind: 'ClusterSecretSource', name: src },
        data: [{ key: 'password', remoteRef: { path, property: 'password' } }],
        target,
        access: { serviceAccounts: ['app'] },
      },
    },
  })) as SecretSync;
}

function waitReadyAs(t: Tenant, name: string, status: 'True' | 'False', reason?: string): Promise<SecretSync> {
  return eventually(
    async () => {
      const ss = (await t.custom.getNamespacedCustomObject({ ...G, namespace: t.namespace, name })) as SecretSync;
      const c = readyCondition(ss);
      return c?.status === status && (!reason || c.reason === reason) && ss.status?.observedGeneration === ss.metadata.generation ? ss : undefined;
    },
    { timeoutMs: 60_000, what: `SecretSync ${t.namespace}/${name} Ready=${status}${reason ? ` (${reason})` : ''}` },
  );
}

const readSecret = async (namespace: string, name: string) => (await core.readNamespacedSecret({ namespace, name })) as unknown as DocSecret & V1Secret;
async function secretExists(namespace: string, name: string): Promise<boolean> {
  try {
    await core.readNamespacedSecret({ namespace, name });
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return false;
    throw err;
  }
}

/** Transit calls that reached Vault through the scoped source, as `<operation>/<key>`. */
const transitCalls = () => recorder.requests.filter((r) => r.path.startsWith(`/v1/${transit}/`)).map((r) => r.path.slice(`/v1/${transit}/`.length));

/** What a pod of `who` can do with Vault on its own: log in with its projected token (audience vault). */
async function podVault(who: AgentIdentity, mount: string, role: string) {
  const jwt = readFileSync(who.vaultTokenFile, 'utf8').trim();
  const login = (await nodeVault({ apiVersion: 'v1', endpoint: VAULT_ADDR }).write(`auth/${mount}/login`, { role, jwt })) as { auth: { client_token: string } };
  return nodeVault({ apiVersion: 'v1', endpoint: VAULT_ADDR, token: login.auth.client_token });
}

/**
 * team-a's envelope Secret as team-b would hold it after getting a copy (a backup, a
 * leaked manifest): in team-b's namespace, controlled by a SecretSync of team-b with the
 * same name, readable by team-b's pod. `agentAuth` lets the attacker point the copy at
 * its own Vault login.
 */
async function copyIntoTeamB(original: DocSecret & V1Secret, name: string, agentAuth?: { mount: string; role: string }): Promise<void> {
  const owner = await tenantSync(teamB, name, `${nsB}/db`, transitKek('team-b', authB));
  const data = { ...(original.data ?? {}) };
  if (agentAuth) {
    for (const k of Object.keys(data).filter((x) => /^v\d+$/.test(x))) {
      const entry = JSON.parse(Buffer.from(data[k] as string, 'base64').toString('utf8')) as { kek: { agentAuth: unknown } };
      entry.kek.agentAuth = agentAuth;
      data[k] = Buffer.from(JSON.stringify(entry)).toString('base64');
    }
  }
  // Made with the admin's client: a tenant cannot create Secrets; this stands in for however the copy was obtained.
  await core.createNamespacedSecret({
    namespace: nsB,
    body: {
      metadata: {
        name: `${name}-copy`,
        namespace: nsB,
        annotations: original.metadata?.annotations ?? {},
        ownerReferences: [{ apiVersion: 'secretsync.io/v1alpha1', kind: 'SecretSync', name, uid: owner.metadata.uid ?? '', controller: true }],
      },
      type: original.type,
      data,
    },
  });
  await allowSecret(kc, podB, `${name}-copy`);
}

/** The one refusal line of an agent run. */
function refusal(run: { code: number | null; stderr: string }): string {
  expect(run.code).toBe(1);
  const lines = run.stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  return lines[0] as string;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'kek-scopes-it-'));
  await installCrds(kc);
  await root.write(`sys/mounts/${transit}`, { type: 'transit' });
  for (const key of ['team-a', 'team-b', 'shared']) await root.write(`${transit}/keys/${key}`, { type: 'aes256-gcm96' });
  // The operator's token mints and re-wraps under every team's key (one shared source), never decrypts.
  await root.write(`sys/policy/${id}-operator`, {
    policy: [
      `path "secret/data/${id}*" { capabilities = ["read"] }`,
      `path "${transit}/datakey/plaintext/*" { capabilities = ["update"] }`,
      `path "${transit}/rewrap/*" { capabilities = ["update"] }`,
      `path "${transit}/keys/*" { capabilities = ["read"] }`,
    ].join('\n'),
  });
  const token = ((await root.write('auth/token/create', { policies: [`${id}-operator`], ttl: '2h' })) as { auth: { client_token: string } }).auth.client_token;
  await kvPut(`${nsA}/db`, { password: CANARY_A });
  await kvPut(`${nsB}/db`, { password: CANARY_B });
  recorder = await startHttpRecorder(VAULT_ADDR);

  await createNamespace(core, opNs);
  await createSecret(core, opNs, 'vault-token', { token });
  await createNamespace(core, nsA);
  await createNamespace(core, nsB);
  teamA = await tenant(kc, nsA);
  teamB = await tenant(kc, nsB);
  podA = await agentIdentity(kc, nsA, 'app', tmp);
  podB = await agentIdentity(kc, nsB, 'app', tmp);
  // A key per namespace: each namespace's pods log in at an auth mount of their own, whose
  // role may decrypt with that namespace's key only (docs/envelope.md: "Key separation").
  cleanups.push(await agentVaultAuth(kc, root, { namespace: nsA, dir: tmp, authMount: authA, transitMount: transit, key: 'team-a', role: 'app', serviceAccounts: ['app'] }));
  cleanups.push(await agentVaultAuth(kc, root, { namespace: nsB, dir: tmp, authMount: authB, transitMount: transit, key: 'team-b', role: 'app', serviceAccounts: ['app'] }));
  // The contrast: one key for everyone, team-b's pods allowed to decrypt with it.
  await root.write(`sys/policy/${authB}-shared`, { policy: `path "${transit}/decrypt/shared" { capabilities = ["update"] }` });
  await root.write(`auth/${authB}/role/app-shared`, {
    bound_service_account_names: ['app'],
    bound_service_account_namespaces: [nsB],
    audience: 'vault',
    token_policies: [`${authB}-shared`],
    token_ttl: '10m',
  });

  const vault = { address: recorder.url, auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } } };
  await apply(custom, {
    kind: 'ClusterSecretSource',
    metadata: { name: source },
    spec: {
      vault,
      allowedNamespaces: [nsA, nsB],
      namespaceScopes: [
        { namespaces: [nsA], paths: [`${nsA}/`], keys: [`${transit}/team-a`, `${transit}/shared`] },
        { namespaces: [nsB], paths: [`${nsB}/`], keys: [`${transit}/team-b`] },
      ],
    },
  });
  // No keys: any key, as every ClusterSecretSource before.
  await apply(custom, { kind: 'ClusterSecretSource', metadata: { name: openSource }, spec: { vault: { ...vault, address: VAULT_ADDR }, allowedNamespaces: [nsA, nsB] } });
  op = await startOperator([`--operator-namespace=${opNs}`]);
}, 120_000);

afterAll(async () => {
  await deleteSyncs(custom, nsA);
  await deleteSyncs(custom, nsB);
  expect(await op?.stop()).toBe(0);
  await recorder?.close();
  for (const name of [source, openSource]) {
    await custom.deleteClusterCustomObject({ group: 'secretsync.io', version: 'v1alpha1', plural: 'clustersecretsources', name }).catch(() => undefined);
  }
  for (const c of cleanups) await c();
  await root.delete(`sys/mounts/${transit}`).catch(() => undefined);
  await root.delete(`sys/policy/${id}-operator`).catch(() => undefined);
  await root.delete(`sys/policy/${authB}-shared`).catch(() => undefined);
  await deleteNamespace(core, nsA);
  await deleteNamespace(core, nsB);
  await deleteNamespace(core, opNs);
  rmSync(tmp, { recursive: true, force: true });
});

describe('the operator: keys per namespace on the shared source', () => {
  test("team-b naming team-a's Transit key is Ready=False KekNotAllowed: no data key minted, no Secret", async () => {
    await tenantSync(teamB, 'borrow-kek', `${nsB}/db`, transitKek('team-a', authB));
    const ss = await waitReadyAs(teamB, 'borrow-kek', 'False', 'KekNotAllowed');
    expect(readyCondition(ss)?.message).toBe(
      `spec.target.encryption.kek.vaultTransit names Transit key "${transit}/team-a" (<mount>/<key>), which namespace ${nsB} may not use through ClusterSecretSource ${source} ` +
        `(keys "${transit}/team-b"): use one of those, or the platform team must add it to the keys of a namespaceScopes entry for ${nsB}`,
    );
    expect(await secretExists(nsB, 'borrow-kek')).toBe(false);
    expect(transitCalls()).toEqual([]); // not a datakey call, not even a key read
    // Its own key works through the same source.
    await tenantSync(teamB, 'own', `${nsB}/db`, transitKek('team-b', authB));
    const own = await waitReadyAs(teamB, 'own', 'True');
    expect(own.status?.keyId).toBe(`vault-transit:${transit}/team-b:v1`);
    expect(transitCalls().filter((c) => c.endsWith('/team-a'))).toEqual([]);
  });

  test('without keys on the source (as before) team-b could mint under team-a\'s key', async () => {
    await tenantSync(teamB, 'open-borrow', `${nsB}/db`, transitKek('team-a', authB, 'app', openSource), openSource);
    const ss = await waitReadyAs(teamB, 'open-borrow', 'True');
    expect(ss.status?.keyId).toBe(`vault-transit:${transit}/team-a:v1`);
  });
});

describe("the pods: a copy of team-a's envelope in team-b's hands", () => {
  let original: DocSecret & V1Secret;

  beforeAll(async () => {
    await tenantSync(teamA, 'db', `${nsA}/db`, transitKek('team-a', authA));
    await waitReadyAs(teamA, 'db', 'True');
    original = await readSecret(nsA, 'db');
  });

  test("team-a's pod opens its envelope with its own identity", async () => {
    const dir = mkdtempSync(join(tmp, 'out-'));
    const run = await runAgent(podA, ['init', '--sync', 'db', '--dir', dir, '--namespace', nsA, '--insecure-allow-http']);
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(readFileSync(join(dir, 'db', 'password'), 'utf8') === CANARY_A).toBe(true);
  });

  test("team-b's pod cannot open it: Vault refuses its login for team-a's role, and the decrypt with team-a's key under its own role", async () => {
    await copyIntoTeamB(original, 'as-is');
    const dir = mkdtempSync(join(tmp, 'out-'));
    const login = refusal(await runAgent(podB, ['init', '--sync', 'as-is=as-is-copy', '--dir', dir, '--namespace', nsB, '--insecure-allow-http']));
    expect(login).toContain(`Vault refused the login of service account ${nsB}/app at auth/${authA}/login with role "app"`);
    // The attacker points the copy at its own login: logged in, Transit refuses team-a's key.
    await copyIntoTeamB(original, 'own-login', { mount: authB, role: 'app' });
    const decrypt = refusal(await runAgent(podB, ['init', '--sync', 'own-login=own-login-copy', '--dir', dir, '--namespace', nsB, '--insecure-allow-http']));
    expect(decrypt).toContain(`Vault denied Transit decrypt at "${transit}/decrypt/team-a"`);
    expect(() => lstatSync(join(dir, 'as-is'))).toThrow(/ENOENT/);
    expect(() => lstatSync(join(dir, 'own-login'))).toThrow(/ENOENT/);
    // Nor with code of its own instead of the agent: its Vault token is refused team-a's key.
    const vault = await podVault(podB, authB, 'app');
    const wrapped = entriesByDoc(original).current.wrappedKey;
    await expect(vault.write(`${transit}/decrypt/team-a`, { ciphertext: wrapped })).rejects.toMatchObject({ response: { statusCode: 403 } });
  });

  test("the contrast: with one key shared by both teams' pods, team-b's pod identity unwraps team-a's data key and opens the values", async () => {
    await tenantSync(teamA, 'db-shared', `${nsA}/db`, transitKek('shared', authA));
    await waitReadyAs(teamA, 'db-shared', 'True');
    const s = await readSecret(nsA, 'db-shared');
    const entry = entriesByDoc(s).current;
    const vault = await podVault(podB, authB, 'app-shared');
    const r = (await vault.write(`${transit}/decrypt/shared`, { ciphertext: entry.wrappedKey })) as { data: { plaintext: string } };
    const values = openByDoc(s, 'db-shared', entry, Buffer.from(r.data.plaintext, 'base64'));
    // The binding (namespace, name, uid) is public: it stops the agent from delivering a copy, not a pod that holds the data key.
    expect(values.password?.toString('utf8') === CANARY_A).toBe(true);
  });

  test('no value, data key or token reached an agent output, the operator or team-b', async () => {
    const outputs = agentOutputs.map((o) => o.stdout + o.stderr).join('\n');
    expect([...leaksIn(outputs, CANARY_A), ...leaksIn(outputs, CANARY_B)]).toEqual([]);
    for (const t of [...podA.tokens, ...podB.tokens]) expect(outputs.includes(t)).toBe(false);
    await expectNoLeak({ core, custom }, nsB, op, CANARY_A);
  });
});
