// Issue 18, item 1, tried as the attacking namespace would: a team that may write only
// SecretSources, SecretSyncs and Pods in its namespace wants the operator's AWS identity.
// The operator runs with AWS credentials in its environment (the stack's moto keys, which
// moto accepts), so any use of that identity would succeed. Every source here points at a
// recorder in front of moto that notes, per request, the AWS action and the access key id
// that signed it, so "no call with the operator's identity" is counted, not assumed.
// - The API server refuses a team's aws SecretSource without auth or with operatorIdentity.
// - webIdentity syncs for real: a token of the team's own service account for
//   sts.amazonaws.com (a TokenReview shows the API server itself does not accept it),
//   exchanged through STS AssumeRoleWithWebIdentity; Secrets Manager sees only the role's keys.
// - Only a ClusterSecretSource (the platform team's) can use the operator's identity, and
//   only with auth.operatorIdentity: {}.
// - Upgrade: sources stored before auth was required (written into etcd as an older API
//   server stored them, since today's schema refuses them) are Ready=False
//   IdentityNotAllowed saying what to write; every SecretSync on them too (a plain read, a
//   role assumed from the operator identity, an awsKms KEK), the synced Secret untouched,
//   nothing written, and not one AWS call signed by the operator's identity.
import { randomUUID } from 'node:crypto';
import { AuthenticationV1Api } from '@kubernetes/client-node';
import type { AnySource, SecretSync } from '../../../src/api/types.js';
import { createSecret as createAwsSecret, deleteSecrets, keysData, keysRef, secretsAdmin } from '../../helpers/aws.js';
import { canary } from '../../helpers/canary.js';
import { putStored, stackEtcd, storageKey } from '../../helpers/etcd.js';
import { eventually } from '../../helpers/eventually.js';
import { startHttpRecorder, type HttpRecorder, type RecordedRequest } from '../../helpers/http-recorder.js';
import { createNamespace, createSecret, deleteNamespace, deleteSyncs, installCrds, kube, readyCondition, secretData, waitReady } from '../../helpers/kube.js';
import { expectNoLeak } from '../../helpers/leaks.js';
import { startOperator, type RunningOperator } from '../../helpers/operator.js';
import { awsConfig, requireEnv, uniqueName } from '../../helpers/stack.js';
import { tenant, type Tenant } from '../../helpers/tenant.js';

const { kc, core, custom } = kube();
const G = { group: 'secretsync.io', version: 'v1alpha1' };
const CANARY = canary();
const id = uniqueName('awsid');
const ns = `${id}-team`;
const opNs = `${id}-system`;
const ROLE = `arn:aws:iam::123456789012:role/${id}-team-reader`;
/** The operator's own identity: the access key id of the environment it runs with. */
const OPERATOR_KEY = requireEnv('AWS_ACCESS_KEY_ID');
/** The team's own keys (moto accepts any keys): never the operator's. */
const TEAM_KEYS = { accessKeyId: `AKIATEAM${randomUUID().replace(/-/g, '').slice(0, 12).toUpperCase()}`, secretAccessKey: `team-${randomUUID()}` };
const path = `${id}/db`;
const cluster = { operator: `${id}-operator`, legacy: `${id}-legacy` };
const { region } = awsConfig();

/** Web identity tokens seen on the way to STS, for a TokenReview; never printed. */
const webTokens: string[] = [];
let recorder: HttpRecorder;
let team: Tenant;
let op: RunningOperator;
/** recorder.requests indices of the one test that may use the operator's identity. */
const operatorWindow = { from: -1, to: -1 };

/** Which AWS action a request is, and which access key id signed it ('' for unsigned). */
function note({ headers, body }: { headers: Record<string, string | string[] | undefined>; body: Buffer }): Record<string, string> {
  const auth = String(headers.authorization ?? '');
  const target = String(headers['x-amz-target'] ?? '');
  const form = new URLSearchParams(body.toString('utf8'));
  const notes: Record<string, string> = {
    keyId: /Credential=([^/]+)\//.exec(auth)?.[1] ?? '',
    service: target ? (target.split('.')[0] ?? '') : (/Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(auth)?.[1] ?? 'sts'),
    action: target ? (target.split('.').pop() ?? '') : (form.get('Action') ?? ''),
  };
  if (form.get('RoleArn')) notes.roleArn = form.get('RoleArn') ?? '';
  const token = form.get('WebIdentityToken');
  if (token) {
    webTokens.push(token);
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { aud?: unknown; sub?: unknown };
    notes.aud = JSON.stringify(claims.aud);
    notes.sub = String(claims.sub);
  }
  return notes;
}

const calls = (from = 0): Record<string, string>[] => recorder.requests.slice(from).map((r: RecordedRequest) => r.notes ?? {});

const awsBlock = (extra: Record<string, unknown>) => ({ region, endpoint: recorder.url, ...extra });
const source = (name: string, aws: Record<string, unknown>) => ({ apiVersion: `${G.group}/${G.version}`, kind: 'SecretSource', metadata: { name, namespace: ns }, spec: { aws: awsBlock(aws) } });
const sync = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: `${G.group}/${G.version}`,
  kind: 'SecretSync',
  metadata: { name, namespace: ns },
  spec: { data: [{ key: 'password', remoteRef: { path, property: 'password' } }], ...spec },
});
const teamCreates = (plural: string, body: object) => team.custom.createNamespacedCustomObject({ ...G, namespace: ns, plural, body });

/** The API server's refusal of `p`: its HTTP code and message. */
async function refusal(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: number; body?: unknown };
    const body = typeof e.body === 'string' ? e.body : JSON.stringify(e.body ?? '');
    return { code: e.code ?? 0, message: body };
  }
  throw new Error('the API server accepted it');
}

async function sourceReady(plural: 'secretsources' | 'clustersecretsources', name: string, status: 'True' | 'False') {
  return eventually(
    async () => {
      const src = (plural === 'secretsources'
        ? await custom.getNamespacedCustomObject({ ...G, namespace: ns, plural, name })
        : await custom.getClusterCustomObject({ ...G, plural, name })) as AnySource;
      const c = src.status?.conditions?.find((x) => x.type === 'Ready');
      return c?.status === status && src.status?.observedGeneration === src.metadata.generation ? c : undefined;
    },
    { what: `${plural}/${name} Ready=${status}` },
  );
}

const operatorArgs = [`--namespace=${ns}`, `--operator-namespace=${opNs}`];
const sm = secretsAdmin();

beforeAll(async () => {
  await installCrds(kc);
  await createNamespace(core, opNs);
  await createNamespace(core, ns);
  recorder = await startHttpRecorder(awsConfig().endpoint, { note });
  await createAwsSecret(sm, path, { password: CANARY });
  // What the platform team gave the team: its workload's service account and its own keys.
  await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'app' } } });
  await createSecret(core, ns, 'team-keys', keysData(TEAM_KEYS));
  team = await tenant(kc, ns);
  op = await startOperator(operatorArgs);
});

afterAll(async () => {
  await deleteSyncs(custom, ns);
  expect(await op?.stop()).toBe(0);
  for (const name of Object.values(cluster)) await custom.deleteClusterCustomObject({ ...G, plural: 'clustersecretsources', name }).catch(() => undefined);
  team?.release();
  await recorder?.close();
  await deleteSecrets(sm, [path]);
  sm.destroy();
  await deleteNamespace(core, ns);
  await deleteNamespace(core, opNs);
});

test("the API server refuses a team's aws SecretSource that names no credentials of its own, or operatorIdentity", async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{}, /spec.aws.auth: Required value/],
    [{ roleArn: ROLE }, /spec.aws.auth: Required value/],
    [{ auth: { operatorIdentity: {} } }, /aws.auth.operatorIdentity is for ClusterSecretSources only/],
    [{ auth: { operatorIdentity: {} }, roleArn: ROLE }, /aws.auth.operatorIdentity is for ClusterSecretSources only/],
    [{ auth: { webIdentity: { serviceAccountRef: { name: 'app' } } } }, /auth.webIdentity needs roleArn/],
  ];
  for (const [i, [aws, message]] of cases.entries()) {
    const r = await refusal(teamCreates('secretsources', source(`borrow-${i}`, aws)));
    expect(r.code).toBe(422);
    expect(r.message).toMatch(message);
  }
  // Nor may the team write the cluster-scoped kind that could say operatorIdentity.
  const css = { apiVersion: `${G.group}/${G.version}`, kind: 'ClusterSecretSource', metadata: { name: `${id}-team-made` }, spec: { aws: awsBlock({ auth: { operatorIdentity: {} } }), allowedNamespaces: [ns] } };
  expect((await refusal(team.custom.createClusterCustomObject({ ...G, plural: 'clustersecretsources', body: css }))).code).toBe(403);
  expect(recorder.requests).toEqual([]);
});

test("webIdentity: the team's own service account, a token for sts.amazonaws.com, AssumeRoleWithWebIdentity, and only the role's keys at Secrets Manager", async () => {
  const from = recorder.requests.length;
  await teamCreates('secretsources', source('own', { roleArn: ROLE, auth: { webIdentity: { serviceAccountRef: { name: 'app' } } } }));
  await teamCreates('secretsyncs', sync('own-db', { sourceRef: { name: 'own' } }));
  await waitReady(custom, ns, 'own-db', 'True', 'Synced');
  expect(await secretData(core, ns, 'own-db')).toEqual({ password: CANARY });

  const seen = calls(from);
  const exchanges = seen.filter((c) => c.action === 'AssumeRoleWithWebIdentity');
  expect(exchanges.length).toBeGreaterThanOrEqual(1);
  for (const x of exchanges) {
    expect(x).toMatchObject({ keyId: '', roleArn: ROLE, aud: '["sts.amazonaws.com"]', sub: `system:serviceaccount:${ns}:app` });
  }
  const reads = seen.filter((c) => c.service === 'secretsmanager');
  expect(reads.length).toBeGreaterThanOrEqual(1);
  for (const r of reads) expect(r.keyId).toMatch(/^ASIA/); // temporary keys from STS
  expect(seen.filter((c) => c.keyId === OPERATOR_KEY || c.keyId === TEAM_KEYS.accessKeyId)).toEqual([]);

  // The token is good for STS, and the API server does not take it as a credential of its own.
  const reviews = kc.makeApiClient(AuthenticationV1Api);
  const token = webTokens.at(-1) ?? '';
  const asSts = await reviews.createTokenReview({ body: { spec: { token, audiences: ['sts.amazonaws.com'] } } });
  expect(asSts.status?.authenticated).toBe(true);
  expect(asSts.status?.user?.username).toBe(`system:serviceaccount:${ns}:app`);
  const asApi = await reviews.createTokenReview({ body: { spec: { token } } });
  expect(asApi.status?.authenticated).not.toBe(true);
});

test("the operator's identity serves only a ClusterSecretSource that says operatorIdentity: {}", async () => {
  const from = recorder.requests.length;
  operatorWindow.from = from;
  const css = (name: string, aws: Record<string, unknown>) => ({
    apiVersion: `${G.group}/${G.version}`,
    kind: 'ClusterSecretSource',
    metadata: { name },
    spec: { aws: awsBlock(aws), allowedNamespaces: [ns] },
  });
  // The platform team cannot forget to say it either: no auth is refused at the API.
  const r = await refusal(custom.createClusterCustomObject({ ...G, plural: 'clustersecretsources', body: css(`${id}-noauth`, {}) }));
  expect(r.code).toBe(422);
  expect(r.message).toMatch(/spec.aws.auth: Required value/);

  await custom.createClusterCustomObject({ ...G, plural: 'clustersecretsources', body: css(cluster.operator, { auth: { operatorIdentity: {} } }) });
  await sourceReady('clustersecretsources', cluster.operator, 'True');
  await teamCreates('secretsyncs', sync('op-db', { sourceRef: { kind: 'ClusterSecretSource', name: cluster.operator } }));
  await waitReady(custom, ns, 'op-db', 'True', 'Synced');
  // op-db read with the operator's key; the team's webIdentity sync (still there) may refresh
  // meanwhile, with its role's temporary keys, never with the operator's or the team's static ones.
  const reads = calls(from).filter((c) => c.service === 'secretsmanager');
  expect(reads.some((c) => c.keyId === OPERATOR_KEY)).toBe(true);
  for (const c of reads) expect(c.keyId === OPERATOR_KEY || /^ASIA/.test(c.keyId ?? '')).toBe(true);
  // Gone before the upgrade test, which counts the operator identity's calls from scratch.
  await team.custom.deleteNamespacedCustomObject({ ...G, namespace: ns, plural: 'secretsyncs', name: 'op-db' });
  await custom.deleteClusterCustomObject({ ...G, plural: 'clustersecretsources', name: cluster.operator });
  await eventually(async () => ((await custom.listNamespacedCustomObject({ ...G, namespace: ns, plural: 'secretsyncs' })) as { items: SecretSync[] }).items.every((s) => s.metadata.name !== 'op-db') || undefined, {
    what: 'SecretSync op-db deleted',
  });
  // Until here op-db could read through the operator's identity; the upgrade test moves the
  // end to the operator's stop, since its caches may still hold op-db and the source a moment
  // after the API server has deleted them.
  operatorWindow.to = recorder.requests.length;
});

const describeWithEtcd = stackEtcd() ? describe : describe.skip;

describeWithEtcd('upgrade: aws sources stored before auth was required', () => {
  const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

  test('are Ready=False IdentityNotAllowed with what to write, and so is every SecretSync on them; the synced Secret is kept; no call as the operator', async () => {
    // Before: the team's source with its own keys, and a Secret synced through it.
    await teamCreates('secretsources', source('legacy', { auth: keysRef('team-keys') }));
    await teamCreates('secretsyncs', sync('legacy-db', { sourceRef: { name: 'legacy' } }));
    await waitReady(custom, ns, 'legacy-db', 'True', 'Synced');
    const before = await core.readNamespacedSecret({ namespace: ns, name: 'legacy-db' });

    // The operator is upgraded: stopped, and meanwhile the store holds what an older API
    // server accepted: `legacy` without auth, a source with only a roleArn, and a
    // ClusterSecretSource without auth admitting the team.
    expect(await op.stop()).toBe(0);
    operatorWindow.to = recorder.requests.length;
    const stored = (await custom.getNamespacedCustomObject({ ...G, namespace: ns, plural: 'secretsources', name: 'legacy' })) as AnySource;
    const { auth: _dropped, ...authless } = stored.spec.aws ?? { region };
    const meta = (name: string, namespace?: string) => ({ name, ...(namespace ? { namespace } : {}), uid: randomUUID(), generation: 1, creationTimestamp: now() });
    await putStored(storageKey('secretsources', 'legacy', ns), {
      apiVersion: stored.apiVersion,
      kind: stored.kind,
      metadata: { name: 'legacy', namespace: ns, uid: stored.metadata.uid, generation: (stored.metadata.generation ?? 1) + 1, creationTimestamp: stored.metadata.creationTimestamp },
      spec: { aws: authless },
      status: stored.status,
    });
    await putStored(storageKey('secretsources', 'legacy-role', ns), { apiVersion: `${G.group}/${G.version}`, kind: 'SecretSource', metadata: meta('legacy-role', ns), spec: { aws: awsBlock({ roleArn: ROLE }) } });
    await putStored(storageKey('clustersecretsources', cluster.legacy), {
      apiVersion: `${G.group}/${G.version}`,
      kind: 'ClusterSecretSource',
      metadata: meta(cluster.legacy),
      spec: { aws: awsBlock({}), allowedNamespaces: [ns] },
    });
    await eventually(
      async () => {
        const got = (await custom.getNamespacedCustomObject({ ...G, namespace: ns, plural: 'secretsources', name: 'legacy' })) as AnySource;
        return got.spec.aws?.auth === undefined ? true : undefined;
      },
      { what: 'the API server serves the stored auth-less source' },
    );
    // The team's SecretSyncs on them: a role assumed from the operator's identity, the
    // operator identity through a ClusterSecretSource, and an awsKms KEK through the
    // auth-less source (its data from the team's valid webIdentity source).
    await teamCreates('secretsyncs', sync('role-db', { sourceRef: { name: 'legacy-role' } }));
    await teamCreates('secretsyncs', sync('cluster-db', { sourceRef: { kind: 'ClusterSecretSource', name: cluster.legacy } }));
    await teamCreates('secretsyncs', sync('kek-db', { sourceRef: { name: 'own' }, target: { encryption: { kek: { awsKms: { sourceRef: { name: 'legacy-role' }, keyId: 'alias/team' } } } } }));

    const from = recorder.requests.length;
    op = await startOperator(operatorArgs);

    const own = /write auth.secretRef: \{ accessKeyIdRef: \{ name, key \}, secretAccessKeyRef: \{ name, key \} \} .* or auth.webIdentity: \{ serviceAccountRef: \{ name \} \} with roleArn/;
    for (const name of ['legacy', 'legacy-role']) {
      const c = await sourceReady('secretsources', name, 'False');
      expect(c.reason).toBe('IdentityNotAllowed');
      expect(c.message).toMatch(/^spec.aws.auth is missing: a SecretSource is never served with the operator's own AWS identity/);
      expect(c.message).toMatch(own);
    }
    const c = await sourceReady('clustersecretsources', cluster.legacy, 'False');
    expect(c).toMatchObject({ reason: 'IdentityNotAllowed' });
    expect(c.message).toMatch(/write auth.operatorIdentity: \{\} to keep using the operator's own AWS identity/);

    for (const name of ['legacy-db', 'role-db', 'cluster-db', 'kek-db']) {
      const ss = await waitReady(custom, ns, name, 'False', 'IdentityNotAllowed');
      expect(readyCondition(ss)?.message).toMatch(/spec.aws.auth is missing/);
    }
    // The synced Secret is kept exactly as it was; nothing was written for the others.
    const after = await core.readNamespacedSecret({ namespace: ns, name: 'legacy-db' });
    expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    expect(await secretData(core, ns, 'legacy-db')).toEqual({ password: CANARY });
    for (const name of ['role-db', 'cluster-db', 'kek-db']) {
      expect((await refusal(core.readNamespacedSecret({ namespace: ns, name }))).code).toBe(404);
    }
    // Since the upgrade: no call signed by the operator's identity, no AssumeRole, no KMS.
    const since = calls(from);
    expect(since.filter((x) => x.keyId === OPERATOR_KEY)).toEqual([]);
    expect(since.filter((x) => x.action === 'AssumeRole' || x.service === 'TrentService')).toEqual([]);
  });
});

test("in the whole run the operator's identity signed only the reads of the ClusterSecretSource that said operatorIdentity", () => {
  const outside = calls().filter((c, i) => c.keyId === OPERATOR_KEY && (i < operatorWindow.from || i >= operatorWindow.to));
  expect(operatorWindow.from).toBeGreaterThanOrEqual(0);
  expect(outside).toEqual([]);
  expect(calls().filter((c) => c.keyId === OPERATOR_KEY).every((c) => c.service === 'secretsmanager')).toBe(true);
});

test('the canary value never appears in logs, events, status or metrics', async () => {
  await expectNoLeak({ core, custom }, ns, op, CANARY);
});
