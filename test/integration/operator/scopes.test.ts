// Item 3 of issue 18, as team-b would try it: a ClusterSecretSource (the platform team's,
// one Vault token that reaches every team's paths) admits team-a and team-b, and its
// spec.namespaceScopes give each team its own prefix. team-b, with nothing but the right
// to create SecretSources, SecretSyncs and Pods in its namespace, tries to read team-a's
// secret, to climb out of its prefix with "..", and to rotate (overwrite) secrets through
// the shared source. Each attempt is refused with a condition that says why, no Secret is
// written, and Vault sees no request for the refused path and no new KV version. The same
// read refusal through an AWS ClusterSecretSource (moto). The operator runs as itself
// under its real RBAC; Vault requests are counted by a recording proxy in front of OpenBao.
import { DescribeSecretCommand, ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager';
import { setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import type { SecretSync } from '../../../src/api/types.js';
import { tenant, type Tenant } from '../../helpers/tenant.js';
import { createSecret as createAwsSecret, deleteSecrets, keysData, keysRef, secretsAdmin } from '../../helpers/aws.js';
import { canary } from '../../helpers/canary.js';
import { eventually } from '../../helpers/eventually.js';
import { startHttpRecorder, type HttpRecorder } from '../../helpers/http-recorder.js';
import { apply, createNamespace, createSecret, deleteNamespace, deleteSyncs, installCrds, kube, readyCondition } from '../../helpers/kube.js';
import { expectNoLeak } from '../../helpers/leaks.js';
import { startOperator, type RunningOperator } from '../../helpers/operator.js';
import { awsConfig, requireEnv, uniqueName } from '../../helpers/stack.js';
import { rejection } from '../../helpers/rejection.js';
import { kvPut, vaultRoot } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const root = vaultRoot();
const sm = secretsAdmin();
const aws = awsConfig();
const id = uniqueName('scopes');
const nsA = `${id}-team-a`;
const nsB = `${id}-team-b`;
const opNs = `${id}-system`;
const shared = `${id}-shared`;
const CANARY_A = canary('team-a');
const CANARY_B = canary('team-b');
const CANARY_SHARED = canary('shared');
let op: RunningOperator;
let recorder: HttpRecorder;
let teamA: Tenant;
let teamB: Tenant;
let teamAArn = '';

const G = { group: 'secretsync.io', version: 'v1alpha1', plural: 'secretsyncs' };
const mergePatch = setHeaderOptions('Content-Type', 'application/merge-patch+json');

/** A SecretSync the tenant creates with its own credentials. */
async function tenantSync(t: Tenant, name: string, source: string, path: string, extra: Record<string, unknown> = {}): Promise<void> {
  await t.custom.createNamespacedCustomObject({
    ...G,
    namespace: t.namespace,
    body: {
      apiVersion: 'secretsync.io/v1alpha1',
      kind: 'SecretSync',
      metadata: { name, namespace: t.namespace },
      spec: { sourceRef: { kind: 'ClusterSecretSource', name: source }, data: [{ key: 'password', remoteRef: { path, property: 'password' } }], ...extra },
    },
  });
}

const getAs = async (c: CustomObjectsApi, namespace: string, name: string) => (await c.getNamespacedCustomObject({ ...G, namespace, name })) as SecretSync;
const condition = (ss: SecretSync, type: string) => ss.status?.conditions?.find((c) => c.type === type);

/** Waits, as the tenant, for the SecretSync's Ready condition (for its current generation). */
function waitReadyAs(t: Tenant, name: string, status: 'True' | 'False', reason?: string): Promise<SecretSync> {
  return eventually(
    async () => {
      const ss = await getAs(t.custom, t.namespace, name);
      const c = readyCondition(ss);
      return c?.status === status && (!reason || c.reason === reason) && ss.status?.observedGeneration === ss.metadata.generation ? ss : undefined;
    },
    { timeoutMs: 60_000, what: `SecretSync ${t.namespace}/${name} Ready=${status}${reason ? ` (${reason})` : ''}` },
  );
}

function waitRotated(t: Tenant, name: string, status: 'True' | 'False', reason: string): Promise<SecretSync> {
  return eventually(
    async () => {
      const ss = await getAs(t.custom, t.namespace, name);
      const c = condition(ss, 'Rotated');
      return c?.status === status && c.reason === reason ? ss : undefined;
    },
    { timeoutMs: 60_000, what: `SecretSync ${t.namespace}/${name} Rotated=${status} (${reason})` },
  );
}

/**
 * Asks, as the tenant, for a rotation now, and waits until the operator has handled that
 * value (status.rotateNowHandled: rotated, or refused) with no rotation left pending.
 */
async function rotateNow(t: Tenant, name: string): Promise<void> {
  const token = `${Date.now()}`;
  await t.custom.patchNamespacedCustomObject(
    { ...G, namespace: t.namespace, name, body: { metadata: { annotations: { 'secretsync.io/rotate-now': token } } } },
    mergePatch,
  );
  await eventually(
    async () => {
      const st = (await getAs(t.custom, t.namespace, name)).status;
      return st?.rotateNowHandled === token && !st.pendingRotation ? true : undefined;
    },
    { timeoutMs: 60_000, what: `${t.namespace}/${name} handled rotate-now ${token}` },
  );
}

async function secretExists(namespace: string, name: string): Promise<boolean> {
  try {
    await core.readNamespacedSecret({ namespace, name });
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return false;
    throw err;
  }
}

const kvVersion = async (path: string) => ((await root.read(`secret/metadata/${path}`)).data as { current_version: number }).current_version;
/** Paths of the KV reads that reached Vault through the scoped source. */
const vaultReads = () => recorder.requests.filter((r) => r.path.startsWith('/v1/secret/data/')).map((r) => r.path.slice('/v1/secret/data/'.length));

const vaultSpec = (address: string) => ({ address, auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } } });

beforeAll(async () => {
  await installCrds(kc);
  // One token reaches every team's paths: the shared source's identity, as in the issue.
  await root.write(`sys/policy/${id}`, { policy: `path "secret/data/${id}*" { capabilities = ["read", "create", "update"] }` });
  const token = ((await root.write('auth/token/create', { policies: [id], ttl: '2h' })) as { auth: { client_token: string } }).auth.client_token;
  await kvPut(`${nsA}/db`, { password: CANARY_A });
  await kvPut(`${nsB}/db`, { password: CANARY_B });
  await kvPut(`${shared}/config`, { password: CANARY_SHARED });
  await createAwsSecret(sm, `${nsA}/db`, { password: CANARY_A });
  teamAArn = (await sm.send(new DescribeSecretCommand({ SecretId: `${nsA}/db` }))).ARN ?? '';
  await createAwsSecret(sm, `${nsB}/db`, { password: CANARY_B });
  recorder = await startHttpRecorder(requireEnv('VAULT_ADDR'));

  await createNamespace(core, opNs);
  await createSecret(core, opNs, 'vault-token', { token });
  await createSecret(core, opNs, 'aws-keys', keysData(aws.credentials));
  await createNamespace(core, nsA);
  await createNamespace(core, nsB);
  teamA = await tenant(kc, nsA);
  teamB = await tenant(kc, nsB);

  const admitted = [nsA, nsB];
  // The platform team's sources. `scoped`: a prefix per team, a shared prefix both read,
  // rotation for team-a under its own prefix only.
  await apply(custom, {
    kind: 'ClusterSecretSource',
    metadata: { name: `${id}-scoped` },
    spec: {
      vault: vaultSpec(recorder.url),
      allowedNamespaces: admitted,
      namespaceScopes: [
        { namespaces: [nsA], paths: [`${nsA}/`, `${shared}/`], rotationPaths: [`${nsA}/`] },
        { namespaces: [nsB], paths: [`${nsB}/`, `${shared}/`] },
      ],
    },
  });
  // `open`: no namespaceScopes, as every ClusterSecretSource was before.
  await apply(custom, { kind: 'ClusterSecretSource', metadata: { name: `${id}-open` }, spec: { vault: vaultSpec(requireEnv('VAULT_ADDR')), allowedNamespaces: admitted } });
  await apply(custom, {
    kind: 'ClusterSecretSource',
    metadata: { name: `${id}-aws` },
    spec: {
      aws: { region: aws.region, endpoint: aws.endpoint, auth: keysRef('aws-keys') },
      allowedNamespaces: admitted,
      namespaceScopes: [
        { namespaces: [nsA], paths: [`${nsA}/`] },
        { namespaces: [nsB], paths: [`${nsB}/`] },
      ],
    },
  });
  op = await startOperator([`--operator-namespace=${opNs}`]);
}, 120_000);

afterAll(async () => {
  await deleteSyncs(custom, nsA);
  await deleteSyncs(custom, nsB);
  expect(await op?.stop()).toBe(0);
  await recorder?.close();
  for (const name of [`${id}-scoped`, `${id}-open`, `${id}-aws`]) {
    await custom.deleteClusterCustomObject({ group: 'secretsync.io', version: 'v1alpha1', plural: 'clustersecretsources', name }).catch(() => undefined);
  }
  await deleteSecrets(sm, [`${nsA}/db`, `${nsB}/db`]);
  await root.delete(`sys/policy/${id}`).catch(() => undefined);
  await deleteNamespace(core, nsA);
  await deleteNamespace(core, nsB);
  await deleteNamespace(core, opNs);
});

test('the API server refuses a scope entry that names no namespace (an empty selector would silently match none)', async () => {
  for (const entry of [{ paths: ['x/'] }, { namespaceSelector: {}, paths: ['x/'] }, { namespaces: [], paths: ['x/'] }]) {
    const err = await rejection(
      apply(custom, { kind: 'ClusterSecretSource', metadata: { name: `${id}-bad` }, spec: { vault: vaultSpec(requireEnv('VAULT_ADDR')), allowedNamespaces: [nsA], namespaceScopes: [entry] } }),
    );
    expect(JSON.stringify((err as { body?: unknown }).body ?? err.message)).toContain('a namespaceScopes entry needs namespaces or a namespaceSelector with at least one requirement');
  }
});

describe('Vault: reads through the shared source', () => {
  test("team-b reading team-a's path is Ready=False PathNotAllowed: no Secret, and Vault never sees the request", async () => {
    await tenantSync(teamB, 'own', `${id}-scoped`, `${nsB}/db`);
    await tenantSync(teamB, 'steal', `${id}-scoped`, `${nsA}/db`);
    await waitReadyAs(teamB, 'own', 'True');
    const ss = await waitReadyAs(teamB, 'steal', 'False', 'PathNotAllowed');
    expect(readyCondition(ss)?.message).toBe(
      `spec.data[0].remoteRef.path "${nsA}/db" is outside the paths namespace ${nsB} may read through ClusterSecretSource ${id}-scoped ` +
        `(prefixes "${nsB}/", "${shared}/"): read a path under one of them, or the platform team must add its prefix to a namespaceScopes entry for ${nsB}`,
    );
    expect(await secretExists(nsB, 'steal')).toBe(false);
    expect(vaultReads()).toContain(`${nsB}/db`); // the proxy sees the reads it forwards
    expect(vaultReads().filter((p) => p.includes(nsA))).toEqual([]);
  });

  test('the ".." escape and its encoded cousins are refused before any request', async () => {
    const tricks = { dots: `${nsB}/../${nsA}/db`, encoded: `${nsB}/%2e%2e/${nsA}/db`, backslash: `${nsB}\\..\\${nsA}\\db`, double: `${nsB}//../${nsA}/db` };
    for (const [name, path] of Object.entries(tricks)) await tenantSync(teamB, name, `${id}-scoped`, path);
    for (const name of Object.keys(tricks)) {
      const ss = await waitReadyAs(teamB, name, 'False', 'PathNotAllowed');
      expect(readyCondition(ss)?.message).toContain(`which ClusterSecretSource ${id}-scoped refuses because it scopes paths per namespace`);
      expect(await secretExists(nsB, name)).toBe(false);
    }
    expect(vaultReads().filter((p) => p.includes(nsA))).toEqual([]);
  });

  test('a namespace the source admits but no scope entry names reads nothing; the message says the platform team must add an entry', async () => {
    const nsC = `${id}-team-c`;
    await createNamespace(core, nsC);
    try {
      const teamC = await tenant(kc, nsC);
      await custom.patchClusterCustomObject(
        { group: 'secretsync.io', version: 'v1alpha1', plural: 'clustersecretsources', name: `${id}-scoped`, body: { spec: { allowedNamespaces: [nsA, nsB, nsC] } } },
        mergePatch,
      );
      await tenantSync(teamC, 'anything', `${id}-scoped`, `${shared}/config`);
      const ss = await waitReadyAs(teamC, 'anything', 'False', 'PathNotAllowed');
      expect(readyCondition(ss)?.message).toContain(`the platform team must add a namespaceScopes entry for ${nsC}`);
      expect(await secretExists(nsC, 'anything')).toBe(false);
    } finally {
      await deleteSyncs(custom, nsC);
      await deleteNamespace(core, nsC);
    }
  });

  test('without namespaceScopes a shared source still serves any path (as before); the provider itself refuses ".." and reads "%2e%2e" literally', async () => {
    await tenantSync(teamB, 'open-read', `${id}-open`, `${nsA}/db`);
    await waitReadyAs(teamB, 'open-read', 'True');
    await tenantSync(teamB, 'open-dots', `${id}-open`, `${nsB}/../${nsA}/db`);
    expect(readyCondition(await waitReadyAs(teamB, 'open-dots', 'False', 'InvalidSpec'))?.message).toContain('without "." or ".."');
    await tenantSync(teamB, 'open-encoded', `${id}-open`, `${nsB}/%2e%2e/${nsA}/db`);
    await waitReadyAs(teamB, 'open-encoded', 'False', 'SourceNotFound');
    expect(await secretExists(nsB, 'open-dots')).toBe(false);
    expect(await secretExists(nsB, 'open-encoded')).toBe(false);
  });
});

describe('Vault: rotation through the shared source', () => {
  const rotation = { rotation: { schedule: '0 0 1 1 *', keys: ['password'] } };

  test('no rotationPaths for team-b: its own path is Rotated=False RotationNotAllowed on rotate-now, Ready stays True, no KV version', async () => {
    const before = await kvVersion(`${nsB}/db`);
    await tenantSync(teamB, 'rotate-own', `${id}-scoped`, `${nsB}/db`, rotation);
    await waitReadyAs(teamB, 'rotate-own', 'True');
    const ss = await waitRotated(teamB, 'rotate-own', 'False', 'RotationNotAllowed');
    expect(condition(ss, 'Rotated')?.message).toBe(
      `spec.rotation writes new versions at the source, and ClusterSecretSource ${id}-scoped allows no rotation from namespace ${nsB}: ` +
        `the platform team must add rotationPaths for ${nsB} to the source's spec.namespaceScopes, or rotate through a SecretSource of this namespace with credentials of its own`,
    );
    await rotateNow(teamB, 'rotate-own');
    const after = await getAs(teamB.custom, nsB, 'rotate-own');
    expect(condition(after, 'Rotated')).toMatchObject({ status: 'False', reason: 'RotationNotAllowed' });
    expect(readyCondition(after)?.status).toBe('True');
    expect(after.status?.pendingRotation).toBeUndefined();
    expect(await kvVersion(`${nsB}/db`)).toBe(before);
  });

  test("team-b cannot rotate the shared path both teams read, nor team-a's path; team-a rotates its own path (rotationPaths)", async () => {
    const sharedBefore = await kvVersion(`${shared}/config`);
    const aBefore = await kvVersion(`${nsA}/db`);
    await tenantSync(teamB, 'rotate-shared', `${id}-scoped`, `${shared}/config`, rotation);
    await tenantSync(teamB, 'rotate-a', `${id}-scoped`, `${nsA}/db`, rotation);
    await waitReadyAs(teamB, 'rotate-shared', 'True');
    await waitRotated(teamB, 'rotate-shared', 'False', 'RotationNotAllowed');
    await rotateNow(teamB, 'rotate-shared');
    await waitReadyAs(teamB, 'rotate-a', 'False', 'PathNotAllowed');
    await waitRotated(teamB, 'rotate-a', 'False', 'RotationNotAllowed');
    await rotateNow(teamB, 'rotate-a');
    expect(await kvVersion(`${shared}/config`)).toBe(sharedBefore);
    expect(await kvVersion(`${nsA}/db`)).toBe(aBefore);

    // team-a, whose entry has rotationPaths for its prefix, rotates its own path.
    await tenantSync(teamA, 'rotate-own', `${id}-scoped`, `${nsA}/db`, rotation);
    await waitReadyAs(teamA, 'rotate-own', 'True');
    await rotateNow(teamA, 'rotate-own');
    const rotated = await waitRotated(teamA, 'rotate-own', 'True', 'Rotated');
    expect(await kvVersion(`${nsA}/db`)).toBe(aBefore + 1);
    expect(rotated.status?.version).toBe(2);
    // ...and team-b's attempt on that path still writes nothing.
    await rotateNow(teamB, 'rotate-a');
    expect(await kvVersion(`${nsA}/db`)).toBe(aBefore + 1);
    // team-a may not rotate the shared path either: it is outside its rotationPaths.
    await tenantSync(teamA, 'rotate-shared', `${id}-scoped`, `${shared}/config`, rotation);
    const refused = await waitRotated(teamA, 'rotate-shared', 'False', 'RotationNotAllowed');
    expect(condition(refused, 'Rotated')?.message).toContain(`spec.rotation would write "${shared}/config", which is outside the paths namespace ${nsA} may rotate`);
    await rotateNow(teamA, 'rotate-shared');
    expect(await kvVersion(`${shared}/config`)).toBe(sharedBefore);
  });

  test('a shared source without namespaceScopes allows no rotation at all (it did before): Rotated=False, no KV version', async () => {
    const before = await kvVersion(`${nsA}/db`);
    await tenantSync(teamB, 'open-rotate', `${id}-open`, `${nsA}/db`, rotation);
    await waitReadyAs(teamB, 'open-rotate', 'True');
    await waitRotated(teamB, 'open-rotate', 'False', 'RotationNotAllowed');
    await rotateNow(teamB, 'open-rotate');
    expect(await kvVersion(`${nsA}/db`)).toBe(before);
  });
});

describe('AWS: reads through a shared source', () => {
  test("team-b reading team-a's secret, by name or by ARN, is refused; its own is read", async () => {
    const versionsBefore = (await sm.send(new ListSecretVersionIdsCommand({ SecretId: `${nsA}/db` }))).Versions?.length;
    await tenantSync(teamB, 'aws-own', `${id}-aws`, `${nsB}/db`);
    await tenantSync(teamB, 'aws-steal', `${id}-aws`, `${nsA}/db`);
    await tenantSync(teamB, 'aws-arn', `${id}-aws`, teamAArn);
    await waitReadyAs(teamB, 'aws-own', 'True');
    const byName = await waitReadyAs(teamB, 'aws-steal', 'False', 'PathNotAllowed');
    expect(readyCondition(byName)?.message).toContain(`"${nsA}/db" is outside the paths namespace ${nsB} may read through ClusterSecretSource ${id}-aws`);
    const byArn = await waitReadyAs(teamB, 'aws-arn', 'False', 'PathNotAllowed');
    expect(readyCondition(byArn)?.message).toContain('is an ARN');
    expect(readyCondition(byArn)?.message).toContain('write the secret name instead');
    expect(await secretExists(nsB, 'aws-steal')).toBe(false);
    expect(await secretExists(nsB, 'aws-arn')).toBe(false);
    expect((await sm.send(new ListSecretVersionIdsCommand({ SecretId: `${nsA}/db` }))).Versions?.length).toBe(versionsBefore);
  });
});

test("no value of team-a's reached team-b's events, status, the operator's logs or metrics", async () => {
  // The one place team-a's value is in team-b's namespace is the Secret of `open-read`,
  // the unscoped source doing what it was told.
  await expectNoLeak({ core, custom }, nsB, op, CANARY_A);
  await expectNoLeak({ core, custom }, nsB, op, CANARY_SHARED);
});
