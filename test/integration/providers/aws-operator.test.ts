// The operator end to end on AWS: a real `secretsync operator` process, the real
// apiserver and the stack's moto. A SecretSource with static keys in a Secret becomes
// Ready, SecretSyncs on it become Ready with the right data (JSON properties, a binary
// secret, dataFrom, a pinned stage) and VersionIds in status; a missing secret is
// Ready=False SourceNotFound; calls show in the provider metric by AWS operation; the
// canary value never reaches logs, events, status or metrics.
import { deleteSecrets, createSecret, keysData, keysRef, putSecret, secretsAdmin } from '../../helpers/aws.js';
import { eventually } from '../../helpers/eventually.js';
import { apply, createNamespace, createSecret as createKubeSecret, deleteNamespace, deleteSyncs, installCrds, kube, secretData, waitReady } from '../../helpers/kube.js';
import { canary, digestsOf } from '../../helpers/canary.js';
import { expectNoLeak } from '../../helpers/leaks.js';
import { getText, startOperator, type RunningOperator } from '../../helpers/operator.js';
import { awsConfig, uniqueName } from '../../helpers/stack.js';

const { kc, core, custom } = kube();
const sm = secretsAdmin();
const CANARY = canary(); // with a quote, a backslash and ü: its JSON-escaped form differs
const [A, B, DEEP, OLD, NEW] = ['key-a', 'key-b', 'deep', 'old', 'new'].map((p) => canary(p)) as [string, string, string, string, string];
const id = uniqueName('awsop');
const ns = `${id}-apps`;
const opNs = `${id}-system`;
const names = { db: `${id}/db`, api: `${id}/api`, cert: `${id}/cert`, rotated: `${id}/rotated` };
const versions: Record<string, string> = {};
let op: RunningOperator;

const sync = (name: string, spec: Record<string, unknown>) => ({
  kind: 'SecretSync',
  metadata: { name, namespace: ns },
  spec: { sourceRef: { name: 'aws' }, ...spec },
});
const metrics = async () => (await getText(`http://127.0.0.1:${op.metricsPort}/metrics`)).body;

beforeAll(async () => {
  await installCrds(kc);
  await createNamespace(core, opNs);
  await createNamespace(core, ns);
  await createKubeSecret(core, ns, 'aws-keys', keysData(awsConfig().credentials));
  versions.db = await createSecret(sm, names.db, { username: 'app', password: CANARY });
  versions.api = await createSecret(sm, names.api, { 'key-a': A, 'key-b': B, nested: { deep: DEEP } });
  versions.cert = await createSecret(sm, names.cert, new Uint8Array([0x30, 0x82, 0x01, 0x0a]));
  versions.rotatedOld = await createSecret(sm, names.rotated, { v: OLD });
  versions.rotatedNew = await putSecret(sm, names.rotated, { v: NEW });
  const { region, endpoint } = awsConfig();
  await apply(custom, { kind: 'SecretSource', metadata: { name: 'aws', namespace: ns }, spec: { aws: { region, endpoint, auth: keysRef('aws-keys') } } });
  op = await startOperator([`--namespace=${ns}`, `--operator-namespace=${opNs}`]);
});

afterAll(async () => {
  await deleteSyncs(custom, ns); // the operator removes its finalizers before it stops
  expect(await op?.stop()).toBe(0);
  await deleteSecrets(sm, Object.values(names));
  sm.destroy();
  await deleteNamespace(core, ns);
  await deleteNamespace(core, opNs);
});

test('the aws SecretSource becomes Ready', async () => {
  await eventually(
    async () => {
      const src = (await custom.getNamespacedCustomObject({ group: 'secretsync.io', version: 'v1alpha1', namespace: ns, plural: 'secretsources', name: 'aws' })) as {
        status?: { conditions?: { type: string; status: string }[] };
      };
      return src.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
    },
    { what: 'SecretSource aws Ready' },
  );
});

test('data and dataFrom from AWS become a Ready Secret, with VersionIds in status', async () => {
  await apply(
    custom,
    sync('app', {
      data: [
        { key: 'password', remoteRef: { path: names.db, property: 'password' } },
        { key: 'user', remoteRef: { path: names.db, property: 'username' } },
        { key: 'cert.der', remoteRef: { path: names.cert } },
      ],
      dataFrom: [{ remoteRef: { path: names.api } }],
    }),
  );
  const ss = await waitReady(custom, ns, 'app', 'True', 'Synced');
  expect(ss.status?.sourceVersions).toEqual({ [names.db]: versions.db, [names.cert]: versions.cert, [names.api]: versions.api });
  expect(digestsOf(await secretData(core, ns, 'app'))).toMatchObject(digestsOf({ password: CANARY, user: 'app', 'key-a': A, 'key-b': B, nested: JSON.stringify({ deep: DEEP }) }));
  const secret = await core.readNamespacedSecret({ name: 'app', namespace: ns });
  expect([...Buffer.from(secret.data?.['cert.der'] ?? '', 'base64')]).toEqual([0x30, 0x82, 0x01, 0x0a]);
});

test('a pinned stage syncs that version', async () => {
  await apply(custom, sync('previous', { data: [{ key: 'v', remoteRef: { path: names.rotated, property: 'v', version: 'AWSPREVIOUS' } }] }));
  const ss = await waitReady(custom, ns, 'previous', 'True');
  expect(digestsOf(await secretData(core, ns, 'previous'))).toEqual(digestsOf({ v: OLD }));
  expect(ss.status?.sourceVersions).toEqual({ [`${names.rotated}@AWSPREVIOUS`]: versions.rotatedOld });
});

test('a secret missing in AWS is Ready=False SourceNotFound', async () => {
  await apply(custom, sync('missing', { data: [{ key: 'v', remoteRef: { path: `${id}/absent` } }] }));
  const ss = await waitReady(custom, ns, 'missing', 'False', 'SourceNotFound');
  const ready = ss.status?.conditions?.find((c) => c.type === 'Ready');
  expect(ready?.message).toContain(`${id}/absent`);
});

test('AWS calls show in secretsync_provider_calls_total by AWS operation', async () => {
  const body = await metrics();
  const line = body.split('\n').find((l) => l.startsWith('secretsync_provider_calls_total{') && l.includes('provider="aws"') && l.includes('operation="BatchGetSecretValue"') && l.includes('result="success"'));
  expect(line).toBeDefined();
  expect(Number(line?.split(' ').pop())).toBeGreaterThan(0);
  expect(body).toMatch(/secretsync_provider_calls_total\{[^}]*provider="aws"[^}]*operation="GetSecretValue"/);
});

test('the canary value never appears in logs, events, status or metrics', async () => {
  await expectNoLeak({ core, custom }, ns, op, CANARY);
});
