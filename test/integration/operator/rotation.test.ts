// Scheduled rotation and the rollouts it causes, end to end: a real operator process writes
// new versions to OpenBao (KV v2, check-and-set) and moto (PutSecretValue staged
// AWSPENDING, promoted to AWSCURRENT), syncs them, and rolls the Deployment that mounts
// both Secrets once per new version, which kube-controller-manager turns into exactly one
// new ReplicaSet each. Then everything that must NOT roll anything: a restart, a periodic
// relist, two replicas with the leader killed, a refresh that finds nothing new. And the
// crash between the source write and the status write: finished once, on the next start.
import { AppsV1Api, setHeaderOptions, type V1Deployment, type V1ReplicaSet } from '@kubernetes/client-node';
import { DescribeSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager';
import { parseSamples, sumBy } from '../../../bench/prom.js';
import { createSecret as createAwsSecret, deleteSecrets, keysData, keysRef, secretsAdmin } from '../../helpers/aws.js';
import { canary, leaksIn } from '../../helpers/canary.js';
import { eventually } from '../../helpers/eventually.js';
import { NO_NODE } from '../../helpers/pods.js';
import { apply, createNamespace, createSecret, deleteNamespace, deleteSyncs, getSync, installCrds, kube, secretData, waitReady } from '../../helpers/kube.js';
import { getText, metricSum as sumOf, startOperator, waitForLogLines, waitIdle, type RunningOperator } from '../../helpers/operator.js';
import { awsConfig, requireEnv, uniqueName } from '../../helpers/stack.js';
import { registerValue } from '../../helpers/leak-record.js';
import { kvPut, vaultRoot } from '../../helpers/vault.js';
import type { SecretSync } from '../../../src/api/types.js';

const { kc, core, custom } = kube();
const apps = kc.makeApiClient(AppsV1Api);
const sm = secretsAdmin();
const root = vaultRoot();
const id = uniqueName('rot');
const ns = `${id}-apps`;
const opNs = `${id}-system`;
const awsName = `${id}-db`;
const kv1 = `kv1-${id}`;
// The suite canary (a quote, a backslash, non-ASCII), so the suite-wide leak scan looks for it too.
const CANARY = canary(id);
let op: RunningOperator | undefined;
const allLogs: string[] = [];
const seenValues = new Set<string>([CANARY]);

const mergePatch = setHeaderOptions('Content-Type', 'application/merge-patch+json');
const patchSync = (name: string, body: unknown) =>
  custom.patchNamespacedCustomObject({ group: 'secretsync.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs', name, body }, mergePatch);
const sync = (name: string, spec: Record<string, unknown>) => ({ kind: 'SecretSync', metadata: { name, namespace: ns }, spec });
const args = (...extra: string[]) => [`--namespace=${ns}`, `--operator-namespace=${opNs}`, ...extra];
async function startOp(extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunningOperator> {
  const o = await startOperator(args(...extra), env);
  o.proc.stdout?.on('data', (c: Buffer) => allLogs.push(c.toString('utf8')));
  o.proc.stderr?.on('data', (c: Buffer) => allLogs.push(c.toString('utf8')));
  return o;
}
async function stopOp(): Promise<void> {
  await op?.stop();
  op = undefined;
}
const metricSum = async (o: RunningOperator, name: string, labels: Record<string, string>) =>
  Object.values(sumBy(parseSamples((await getText(`http://127.0.0.1:${o.metricsPort}/metrics`)).body), name, labels, 'verb')).reduce((a, b) => a + b, 0);
const kvMeta = async (path: string) => (await root.read(`secret/metadata/${path}`)).data as { current_version: number };
const kvData = async (path: string) => (await root.read(`secret/data/${path}`)).data.data as Record<string, string>;
async function awsVersions(): Promise<{ id: string; stages: string[] }[]> {
  const out = await sm.send(new ListSecretVersionIdsCommand({ SecretId: awsName, IncludeDeprecated: true }));
  return (out.Versions ?? []).map((v) => ({ id: v.VersionId ?? '', stages: v.VersionStages ?? [] }));
}
const awsCurrent = async () => JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: awsName }))).SecretString ?? '{}') as Record<string, string>;
async function replicaSets(name: string): Promise<V1ReplicaSet[]> {
  const list = await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: `app=${name}` });
  return list.items;
}
function deployment(name: string, volumes: string[], replicas = 1): V1Deployment {
  return {
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          ...NO_NODE,
          containers: [{ name: 'app', image: 'registry.example/app:1', volumeMounts: volumes.map((v) => ({ name: v, mountPath: `/etc/${v}` })) }],
          volumes: volumes.map((v) => ({ name: v, secret: { secretName: v } })),
        },
      },
    },
  };
}
const templateVersions = (rs: { spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } }) =>
  Object.fromEntries(Object.entries(rs.spec?.template?.metadata?.annotations ?? {}).filter(([k]) => k.startsWith('secretsync.io/version-')));
const rememberSecret = async (name: string) => {
  for (const v of Object.values(await secretData(core, ns, name))) seenValues.add(v);
};
const waitVersion = (name: string, atLeast: number, timeoutMs = 150_000) =>
  eventually(async () => {
    const s = await getSync(custom, ns, name);
    return (s.status?.version ?? 0) >= atLeast && !s.status?.pendingRotation ? s : undefined;
  }, { timeoutMs, intervalMs: 1000, what: `${name} at version ${atLeast}` });

beforeAll(async () => {
  await installCrds(kc);
  await createNamespace(core, opNs);
  await createNamespace(core, ns);
  await createSecret(core, ns, 'vault-token', { token: requireEnv('VAULT_TOKEN') });
  await createSecret(core, ns, 'aws-keys', keysData(awsConfig().credentials));
  await root.write(`sys/mounts/${kv1}`, { type: 'kv', options: { version: '1' } });
  await root.write(`${kv1}/db`, { password: 'x' });
  await kvPut(`${id}/db`, { username: 'app', password: CANARY, port: '5432' });
  await kvPut(`${id}/crash`, { password: 'before' });
  await createAwsSecret(sm, awsName, { username: 'app', password: CANARY });
  const vaultSpec = (extra: Record<string, unknown> = {}) => ({ vault: { address: requireEnv('VAULT_ADDR'), auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } }, ...extra } });
  await apply(custom, { kind: 'SecretSource', metadata: { name: 'vault', namespace: ns }, spec: vaultSpec() });
  await apply(custom, { kind: 'SecretSource', metadata: { name: 'vault-kv1', namespace: ns }, spec: vaultSpec({ kv: { mount: kv1, version: 1 } }) });
  const { region, endpoint } = awsConfig();
  await apply(custom, { kind: 'SecretSource', metadata: { name: 'aws', namespace: ns }, spec: { aws: { region, endpoint, auth: keysRef('aws-keys') } } });
  op = await startOp();
});

afterAll(async () => {
  await deleteSyncs(custom, ns).catch(() => undefined);
  await stopOp();
  await deleteNamespace(core, ns);
  await deleteNamespace(core, opNs);
  await root.delete(`sys/mounts/${kv1}`).catch(() => undefined);
  await deleteSecrets(sm, [awsName, `${awsName}-crash`]);
});

test('a rotation every minute: new Vault and AWS versions (other properties kept), the Secrets follow, one ReplicaSet per version', async () => {
  await apply(custom, sync('vault-db', {
    sourceRef: { name: 'vault' },
    data: [
      { key: 'password', remoteRef: { path: `${id}/db`, property: 'password' } },
      { key: 'username', remoteRef: { path: `${id}/db`, property: 'username' } },
    ],
    rotation: { schedule: '* * * * *', keys: ['password'], generator: { length: 40, charset: 'ascii-printable' } },
    rollout: { auto: true },
  }));
  // Every minute at second 30 (6 fields), so the two never roll the Deployment in the same instant.
  await apply(custom, sync('aws-db', {
    sourceRef: { name: 'aws' },
    data: [
      { key: 'password', remoteRef: { path: awsName, property: 'password' } },
      { key: 'username', remoteRef: { path: awsName, property: 'username' } },
    ],
    rotation: { schedule: '30 * * * * *', keys: ['password'] },
    rollout: { targets: [{ kind: 'Deployment', name: 'web' }] },
  }));
  const v1 = await waitReady(custom, ns, 'vault-db', 'True');
  await waitReady(custom, ns, 'aws-db', 'True');
  expect(v1.status?.nextRotationTime).toBeDefined();
  expect(v1.status?.conditions?.find((c) => c.type === 'Rotated')).toMatchObject({ status: 'Unknown', reason: 'Scheduled' });
  await apps.createNamespacedDeployment({ namespace: ns, body: deployment('web', ['vault-db', 'aws-db']) });
  await eventually(async () => ((await replicaSets('web')).length === 1 ? true : undefined), { what: 'the first ReplicaSet' });
  // The version each SecretSync was at when the operator took the Deployment in: recorded,
  // not rolled (a rotation may land between Ready and the Deployment's creation). Only the
  // versions after it roll the Deployment. (aws-db names web in spec.rollout.targets, so it
  // lists web as Missing, at version 0, until the Deployment exists.)
  const takenIn = (name: string) =>
    eventually(async () => (await getSync(custom, ns, name)).status?.rollout?.targets?.find((t) => t.kind === 'Deployment' && t.name === 'web' && t.state !== 'Missing')?.version, { what: `${name} records web` });
  const vStart = await takenIn('vault-db');
  const aStart = await takenIn('aws-db');

  const vault = await waitVersion('vault-db', Math.max(3, vStart + 1));
  const aws = await waitVersion('aws-db', Math.max(3, aStart + 1));
  // Freeze: no more rotations while counting.
  await patchSync('vault-db', { spec: { rotation: null } });
  await patchSync('aws-db', { spec: { rotation: null } });
  await eventually(async () => {
    const [a, b] = await Promise.all([getSync(custom, ns, 'vault-db'), getSync(custom, ns, 'aws-db')]);
    return a.status?.observedGeneration === a.metadata.generation && b.status?.observedGeneration === b.metadata.generation ? true : undefined;
  }, { what: 'rotation removed' });
  const vFinal = (await getSync(custom, ns, 'vault-db')).status?.version ?? 0;
  const aFinal = (await getSync(custom, ns, 'aws-db')).status?.version ?? 0;
  expect(vFinal).toBeGreaterThanOrEqual(3);

  // Vault: one KV version per rotation, check-and-set on top of the first; username and port kept.
  expect((await kvMeta(`${id}/db`)).current_version).toBe(vFinal);
  const kv = await kvData(`${id}/db`);
  expect(kv.username).toBe('app');
  expect(kv.port).toBe('5432');
  expect(kv.password !== CANARY && /^[\x21-\x7e]{40}$/.test(kv.password ?? '')).toBe(true);
  // Generated by the operator, so not a canary: the suite-wide leak scan looks for it too.
  registerValue(kv.password ?? '');
  const vaultSecret = await secretData(core, ns, 'vault-db');
  expect(vaultSecret.password === kv.password && vaultSecret.username === 'app' && Object.keys(vaultSecret).length === 2).toBe(true);
  expect(vault.status?.sourceVersions?.[`${id}/db`]).toBeDefined();
  expect(vault.status?.lastRotationTime).toBeDefined();
  expect(vault.status?.conditions?.find((c) => c.type === 'Rotated')).toMatchObject({ status: 'True', reason: 'Rotated' });

  // AWS: one version per rotation; the newest AWSCURRENT, the one before AWSPREVIOUS, no AWSPENDING left.
  const versions = await awsVersions();
  expect(versions).toHaveLength(aFinal);
  const current = versions.filter((v) => v.stages.includes('AWSCURRENT'));
  expect(current).toHaveLength(1);
  expect(versions.filter((v) => v.stages.includes('AWSPREVIOUS'))).toHaveLength(1);
  expect(versions.filter((v) => v.stages.includes('AWSPENDING'))).toHaveLength(0);
  const aSync = await getSync(custom, ns, 'aws-db');
  expect(aSync.status?.sourceVersions?.[awsName]).toBe(current[0]?.id);
  const awsNow = await awsCurrent();
  expect(awsNow.username).toBe('app');
  expect(/^[A-Za-z0-9]{32}$/.test(awsNow.password ?? '')).toBe(true);
  registerValue(awsNow.password ?? '');
  const awsSecret = await secretData(core, ns, 'aws-db');
  expect(awsSecret.password === awsNow.password && awsSecret.username === 'app' && Object.keys(awsSecret).length === 2).toBe(true);
  expect(aws.status?.version).toBeGreaterThanOrEqual(3);

  // One ReplicaSet per change of the template, each a distinct (vault, aws) pair. Both rotate
  // on the same minute, and versions of the two that arrive together roll the workload once
  // (the operator merges template patches arriving within a second), so there are between
  // 1 + max and 1 + sum of the versions after the ones the Deployment was taken in at, and
  // every one of those versions appears in one.
  const final = { 'secretsync.io/version-vault-db': String(vFinal), 'secretsync.io/version-aws-db': String(aFinal) };
  const sets = await eventually(async () => {
    const list = await replicaSets('web');
    const key = (o: Record<string, string>) => JSON.stringify(Object.entries(o).sort());
    if (list.some((rs) => key(templateVersions(rs)) === key(final))) return list;
    throw new Error(`ReplicaSets at ${JSON.stringify(list.map(templateVersions))}, Deployment at ${JSON.stringify(templateVersions(await apps.readNamespacedDeployment({ name: 'web', namespace: ns })))}`);
  }, { timeoutMs: 30_000, what: `a ReplicaSet of web at vault-db ${vFinal}, aws-db ${aFinal}` });
  console.log(`rotation: vault-db at version ${vFinal} (KV v${vFinal}, taken in at ${vStart}), aws-db at version ${aFinal} (${aFinal} AWS versions, taken in at ${aStart}) → ${sets.length} ReplicaSets of web (at most 1 + ${vFinal - vStart} + ${aFinal - aStart})`);
  expect(sets.length).toBeGreaterThanOrEqual(1 + Math.max(vFinal - vStart, aFinal - aStart));
  expect(sets.length).toBeLessThanOrEqual(1 + (vFinal - vStart) + (aFinal - aStart));
  const pairs = sets.map((rs) => JSON.stringify(templateVersions(rs)));
  expect(new Set(pairs).size).toBe(sets.length);
  const seen = (key: string) => new Set(sets.map((rs) => templateVersions(rs)[key]).filter((v) => v !== undefined));
  for (let v = vStart + 1; v <= vFinal; v++) expect([`vault-db ${v}`, seen('secretsync.io/version-vault-db').has(String(v))]).toEqual([`vault-db ${v}`, true]);
  for (let v = aStart + 1; v <= aFinal; v++) expect([`aws-db ${v}`, seen('secretsync.io/version-aws-db').has(String(v))]).toEqual([`aws-db ${v}`, true]);
  const dep = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
  expect(templateVersions(dep)).toEqual({ 'secretsync.io/version-vault-db': String(vFinal), 'secretsync.io/version-aws-db': String(aFinal) });
  const status = (await getSync(custom, ns, 'vault-db')).status;
  expect(status?.rollout?.targets).toEqual([expect.objectContaining({ kind: 'Deployment', name: 'web', version: vFinal })]);
  await rememberSecret('vault-db');
  await rememberSecret('aws-db');
}, 240_000);

test('restart, periodic relists, two replicas with the leader killed, a refresh without change: not one more ReplicaSet', async () => {
  const before = (await replicaSets('web')).length;
  await stopOp();
  op = await startOp(['--resync-period=5s']);
  await waitReady(custom, ns, 'vault-db', 'True');
  await patchSync('vault-db', { metadata: { annotations: { 'secretsync.io/force-sync': 'again' } } });
  const from = op.logs.length;
  await eventually(async () => ((await getSync(custom, ns, 'vault-db')).status?.forceSyncHandled === 'again' ? true : undefined), { what: 'force-sync handled' });
  // Three relists of the SecretSyncs (each enqueues every one), and what they caused done.
  await waitForLogLines(op, ['"informer":"SecretSync"', '"event":"listed"'], { from, count: 3, timeoutMs: 30_000 });
  await waitIdle(op);
  expect(await metricSum(op, 'secretsync_kube_writes_total', { resource: 'deployments' })).toBe(0);
  console.log(`restart + force-sync + 3 relists: ${(await replicaSets('web')).length - before} new ReplicaSets, 0 Deployment patches`);
  await stopOp();

  const lease = `${id}-leader`;
  const pair = [await startOp(['--leader-elect', `--leader-election-id=${lease}`]), await startOp(['--leader-elect', `--leader-election-id=${lease}`])];
  const leader = await eventually(async () => {
    for (const o of pair) if (o.logs.some((l) => l.includes('became leader'))) return o;
    return undefined;
  }, { what: 'a leader' });
  await leader.stop('SIGKILL');
  const follower = pair.find((o) => o !== leader) as RunningOperator;
  await eventually(async () => (follower.logs.some((l) => l.includes('became leader')) ? true : undefined), { timeoutMs: 60_000, what: 'the follower leading' });
  // The new leader has reconciled every SecretSync once, and finished.
  const syncs = ((await custom.listNamespacedCustomObject({ group: 'secretsync.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs' })) as { items: unknown[] }).items.length;
  await eventually(async () => ((await sumOf(follower, 'secretsync_reconcile_duration_seconds_count', { controller: 'secretsync' })) >= syncs ? true : undefined), {
    what: `the new leader's first reconcile of all ${syncs} SecretSyncs`,
  });
  await waitIdle(follower);
  expect(await metricSum(follower, 'secretsync_kube_writes_total', { resource: 'deployments' })).toBe(0);
  await follower.stop();
  expect((await replicaSets('web')).length).toBe(before);
  console.log(`leader killed (2 replicas): ${(await replicaSets('web')).length - before} new ReplicaSets`);
  op = await startOp();
}, 180_000);

test('rotate-now rotates once per value; the same value again does nothing', async () => {
  await apply(custom, sync('on-demand', {
    sourceRef: { name: 'vault' },
    data: [{ key: 'password', remoteRef: { path: `${id}/db`, property: 'password' } }],
    rotation: { schedule: '0 0 1 1 *', keys: ['password'], generator: { length: 16, charset: 'hex' } },
  }));
  const s0 = await waitReady(custom, ns, 'on-demand', 'True');
  const kvBefore = (await kvMeta(`${id}/db`)).current_version;
  await patchSync('on-demand', { metadata: { annotations: { 'secretsync.io/rotate-now': 'first' } } });
  const s1 = await waitVersion('on-demand', (s0.status?.version ?? 0) + 1, 30_000);
  expect(s1.status?.rotateNowHandled).toBe('first');
  expect((await kvMeta(`${id}/db`)).current_version).toBe(kvBefore + 1);
  expect(/^[0-9a-f]{16}$/.test((await secretData(core, ns, 'on-demand')).password ?? '')).toBe(true);
  await rememberSecret('on-demand');
  await stopOp();
  op = await startOp();
  await patchSync('on-demand', { metadata: { annotations: { 'secretsync.io/force-sync': 'look' } } });
  await eventually(async () => ((await getSync(custom, ns, 'on-demand')).status?.forceSyncHandled === 'look' ? true : undefined), { what: 'a reconcile after restart' });
  expect((await kvMeta(`${id}/db`)).current_version).toBe(kvBefore + 1);
  const events = await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=on-demand,reason=Rotated' });
  expect(events.items.reduce((n, e) => n + (e.count ?? 1), 0)).toBe(1);
}, 90_000);

test('killed between the source write and the status write: the rotation completes exactly once (Vault and AWS)', async () => {
  await createAwsSecret(sm, `${awsName}-crash`, { password: 'before', other: 'kept' });
  await apply(custom, sync('crash-vault', {
    sourceRef: { name: 'vault' },
    data: [{ key: 'password', remoteRef: { path: `${id}/crash`, property: 'password' } }],
    rotation: { schedule: '0 0 1 1 *', keys: ['password'] },
  }));
  await apply(custom, sync('crash-aws', {
    sourceRef: { name: 'aws' },
    dataFrom: [{ remoteRef: { path: `${awsName}-crash` } }],
    rotation: { schedule: '0 0 1 1 *', keys: ['password'] },
  }));
  await waitReady(custom, ns, 'crash-vault', 'True');
  await waitReady(custom, ns, 'crash-aws', 'True');
  await stopOp();
  const crash = async (name: string) => {
    const faulty = await startOp([], { SECRETSYNC_TEST_FAULT: 'exit-after-rotation-write' });
    await patchSync(name, { metadata: { annotations: { 'secretsync.io/rotate-now': 'crash' } } });
    expect(await faulty.exited).toBe(86);
    const pending = await getSync(custom, ns, name);
    expect(pending.status?.pendingRotation).toMatchObject({ trigger: 'rotate-now' });
    expect(pending.status?.version).toBe(1);
  };
  const same = async (a: Promise<unknown>, b: Promise<unknown>) => (await a) === (await b); // never prints a value

  // Vault: the new KV version is written, the Secret still holds the old value.
  await crash('crash-vault');
  expect((await kvMeta(`${id}/crash`)).current_version).toBe(2);
  expect(await same(secretData(core, ns, 'crash-vault').then((d) => d.password), Promise.resolve('before'))).toBe(true);
  // AWS, with a process that first finishes the Vault rotation it finds pending (no second write).
  await crash('crash-aws');
  expect((await kvMeta(`${id}/crash`)).current_version).toBe(2);
  const describe = await sm.send(new DescribeSecretCommand({ SecretId: `${awsName}-crash` }));
  expect(Object.keys(describe.VersionIdsToStages ?? {})).toHaveLength(2);

  op = await startOp();
  const v = await waitVersion('crash-vault', 2, 30_000);
  const a = await waitVersion('crash-aws', 2, 30_000);
  expect(v.status?.version).toBe(2);
  expect(a.status?.version).toBe(2);
  expect((await kvMeta(`${id}/crash`)).current_version).toBe(2);
  expect(await same(secretData(core, ns, 'crash-vault').then((d) => d.password), kvData(`${id}/crash`).then((d) => d.password))).toBe(true);
  const after = await sm.send(new DescribeSecretCommand({ SecretId: `${awsName}-crash` }));
  expect(Object.keys(after.VersionIdsToStages ?? {})).toHaveLength(2);
  const cur = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: `${awsName}-crash` }))).SecretString ?? '{}') as Record<string, string>;
  const synced = await secretData(core, ns, 'crash-aws');
  expect(synced.other).toBe('kept');
  expect(cur.other).toBe('kept');
  expect(synced.password === cur.password && cur.password !== 'before').toBe(true);
  for (const s of [v, a]) {
    expect(s.status?.pendingRotation).toBeUndefined();
    expect(s.status?.conditions?.find((c) => c.type === 'Rotated')).toMatchObject({ status: 'True' });
  }
  expect(op.logs.some((l) => l.includes('finishing an interrupted rotation'))).toBe(true);
  await rememberSecret('crash-vault');
  await rememberSecret('crash-aws');
}, 120_000);

test('KV v1 and a pinned version are refused with Rotated=False saying why; the sync stays Ready', async () => {
  await apply(custom, sync('on-kv1', {
    sourceRef: { name: 'vault-kv1' },
    data: [{ key: 'password', remoteRef: { path: 'db', property: 'password' } }],
    rotation: { schedule: '0 * * * * *', keys: ['password'] },
  }));
  await apply(custom, sync('pinned', {
    sourceRef: { name: 'vault' },
    data: [{ key: 'password', remoteRef: { path: `${id}/db`, property: 'password', version: '1' } }],
    rotation: { schedule: '0 0 1 1 *', keys: ['password'] },
  }));
  const rotated = async (name: string) =>
    eventually(async () => {
      const s = await getSync(custom, ns, name);
      const c = s.status?.conditions?.find((x) => x.type === 'Rotated');
      if (c?.status === 'False') return { s, c };
      throw new Error(`status: ${JSON.stringify(s.status)}`);
    }, { timeoutMs: 30_000, what: `${name} Rotated=False` });
  const kv1Result = await rotated('on-kv1');
  expect(kv1Result.c.message).toMatch(/KV v2|version 2/i);
  expect(kv1Result.s.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  const pinned = await rotated('pinned');
  expect(pinned.c.reason).toBe('InvalidSpec');
  expect(pinned.c.message).toMatch(/version/);
  expect(pinned.s.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  expect(await secretData(core, ns, 'on-kv1')).toEqual({ password: 'x' });
});

test('no rotated value in logs, events, status or metrics', async () => {
  const events = JSON.stringify((await core.listNamespacedEvent({ namespace: ns })).items);
  const syncs = JSON.stringify(await custom.listNamespacedCustomObject({ group: 'secretsync.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs' }));
  const metrics = op ? (await getText(`http://127.0.0.1:${op.metricsPort}/metrics`)).body : '';
  const logs = allLogs.join('');
  expect(seenValues.size).toBeGreaterThan(5);
  const found: string[] = [];
  for (const v of seenValues) {
    if (v.length < 8) continue;
    for (const [place, text] of [['events', events], ['status', syncs], ['metrics', metrics], ['logs', logs]] as const) {
      if (leaksIn(text, v).length) found.push(`a value in ${place}`);
    }
  }
  expect(found).toEqual([]);
});

export type { SecretSync };
