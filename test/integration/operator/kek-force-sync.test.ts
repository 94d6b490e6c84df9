// A force-sync re-checks the KEK version (issue 22, item 10): an operator whose KEK watcher
// looks only once an hour (--kek-check-interval=1h), a Transit key rotated in OpenBao. A
// reconcile without a force-sync leaves the envelope on the old key version; a force-sync
// re-wraps it at once, under the new version, with the same data key, the same content
// and the same SecretSync version (a re-wrap is not a new version: nothing rolls), and the
// other SecretSync of that KEK is re-wrapped with it. The same for an AWS KMS alias moved to
// another key in moto (re-wrapped with ReEncrypt). Decoded by
// test/helpers/envelope-by-doc.ts, written from docs/envelope-format.md alone.
import { CreateAliasCommand, CreateKeyCommand, DecryptCommand, KMSClient, UpdateAliasCommand } from '@aws-sdk/client-kms';
import { parseSamples } from '../../../bench/prom.js';
import { keysData, keysRef } from '../../helpers/aws.js';
import { canary } from '../../helpers/canary.js';
import { entriesByDoc, kmsContextByDoc, openByDoc, type DocSecret } from '../../helpers/envelope-by-doc.js';
import { eventually } from '../../helpers/eventually.js';
import { apply, createSecret, deleteNamespace, deleteSyncs, getSync, kube, patchSync, vaultTestNamespaces, waitReady } from '../../helpers/kube.js';
import { expectNoLeak } from '../../helpers/leaks.js';
import { getText, startOperator, type RunningOperator, waitIdle } from '../../helpers/operator.js';
import { awsConfig, requireEnv, uniqueName } from '../../helpers/stack.js';
import { kvPut, transitOperatorToken, vaultRoot } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const root = vaultRoot();
const id = uniqueName('kfs');
const ns = `${id}-apps`;
const opNs = `${id}-system`;
const transit = `transit-${id}`;
const vaultAddr = requireEnv('VAULT_ADDR');
const CANARY = canary(id);
const aws = awsConfig();
const kms = new KMSClient({ region: aws.region, endpoint: aws.endpoint, credentials: aws.credentials });
let op: RunningOperator;

const sync = (name: string) => ({
  kind: 'SecretSync',
  metadata: { name, namespace: ns },
  spec: {
    sourceRef: { name: 'vault' },
    data: [{ key: 'password', remoteRef: { path: `${id}/db`, property: 'password' } }],
    refresh: { interval: '1h' },
    target: { encryption: { kek: { vaultTransit: { sourceRef: { name: 'vault' }, mount: transit, key: 'secretsync', agentAuth: { kubernetes: { role: 'app' } } } } } },
  },
});
type EnvelopeSecret = DocSecret & { metadata: { annotations?: Record<string, string>; resourceVersion?: string } };
const readSecret = async (name: string) => (await core.readNamespacedSecret({ name, namespace: ns })) as unknown as EnvelopeSecret;
const calls = async (operation: string) =>
  parseSamples((await getText(`http://127.0.0.1:${op.metricsPort}/metrics`)).body)
    .filter((s) => s.name === 'secretsync_provider_calls_total' && s.labels.operation === operation)
    .reduce((n, s) => n + s.value, 0);
const reconciles = async () =>
  parseSamples((await getText(`http://127.0.0.1:${op.metricsPort}/metrics`)).body)
    .filter((s) => s.name === 'secretsync_reconcile_duration_seconds_count' && s.labels.controller === 'secretsync')
    .reduce((n, s) => n + s.value, 0);
async function transitDecrypt(wrapped: string): Promise<Buffer> {
  const r = await root.write(`${transit}/decrypt/secretsync`, { ciphertext: wrapped });
  return Buffer.from(r.data.plaintext as string, 'base64');
}

beforeAll(async () => {
  const token = await transitOperatorToken(transit, id, '1h');
  await kvPut(`${id}/db`, { password: CANARY });
  await vaultTestNamespaces({ kc, core, custom }, ns, opNs, vaultAddr, token);
  await createSecret(core, ns, 'aws-keys', keysData({ accessKeyId: aws.credentials.accessKeyId, secretAccessKey: aws.credentials.secretAccessKey }));
  await apply(custom, { kind: 'SecretSource', metadata: { name: 'aws', namespace: ns }, spec: { aws: { region: aws.region, endpoint: aws.endpoint, auth: keysRef('aws-keys') } } });
  op = await startOperator([`--namespace=${ns}`, `--operator-namespace=${opNs}`, '--kek-check-interval=1h']);
}, 60_000);

afterAll(async () => {
  await deleteSyncs(custom, ns).catch(() => undefined);
  expect(await op?.stop()).toBe(0);
  await deleteNamespace(core, ns);
  await deleteNamespace(core, opNs);
  await root.delete(`sys/mounts/${transit}`).catch(() => undefined);
  kms.destroy();
});

test('Transit key rotated: nothing before the interval without a force-sync; a force-sync re-wraps at once, same data key, content and version', async () => {
  await apply(custom, sync('db'));
  await apply(custom, sync('db-other'));
  const ready = await waitReady(custom, ns, 'db', 'True');
  await waitReady(custom, ns, 'db-other', 'True');
  expect(ready.status).toMatchObject({ version: 1, keyId: `vault-transit:${transit}/secretsync:v1` });
  const before = entriesByDoc(await readSecret('db'));
  const otherBefore = entriesByDoc(await readSecret('db-other'));
  expect(before.current.wrappedKey.startsWith('vault:v1:')).toBe(true);
  await waitIdle(op);

  await root.write(`${transit}/keys/secretsync/rotate`, {});
  // A reconcile that is not a force-sync (a label edit makes one): proven to have run, then looked at.
  const n = await reconciles();
  const rewrapsBefore = await calls('transit-rewrap');
  await patchSync(custom, ns, 'db', { metadata: { labels: { touched: 'yes' } } });
  await eventually(async () => ((await reconciles()) > n ? true : undefined), { what: 'a reconcile of db' });
  await waitIdle(op);
  const untouched = await readSecret('db');
  expect(entriesByDoc(untouched).current.wrappedKey.startsWith('vault:v1:')).toBe(true);
  expect((await getSync(custom, ns, 'db')).status?.keyId).toBe(`vault-transit:${transit}/secretsync:v1`);
  expect(await calls('transit-rewrap')).toBe(rewrapsBefore);

  const keyChecksBefore = await calls('transit-read-key');
  const t0 = Date.now();
  await patchSync(custom, ns, 'db', { metadata: { annotations: { 'secretsync.io/force-sync': 'rotated-kek' } } });
  const s = await eventually(
    async () => {
      const sec = await readSecret('db');
      return entriesByDoc(sec).current.wrappedKey.startsWith('vault:v2:') ? sec : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 100, what: 'db re-wrapped under v2' },
  );
  const tookMs = Date.now() - t0;
  const e = entriesByDoc(s);
  expect(e.current.kek.version).toBe('2');
  expect(e.current.version).toBe(1);
  expect(e.current.values).toEqual(before.current.values); // the same data key: the ciphertext untouched
  expect(s.metadata.annotations?.['secretsync.io/version']).toBe('1'); // what the pods' agents read: the same version
  expect(openByDoc(s, 'db', e.current, await transitDecrypt(e.current.wrappedKey)).password?.toString('utf8') === CANARY).toBe(true);
  const ss = await eventually(async () => {
    const x = await getSync(custom, ns, 'db');
    return x.status?.forceSyncHandled === 'rotated-kek' ? x : undefined;
  }, { what: 'force-sync recorded' });
  expect(ss.status).toMatchObject({ version: 1, keyId: `vault-transit:${transit}/secretsync:v2` });
  expect(await calls('transit-read-key')).toBeGreaterThan(keyChecksBefore);
  expect(await calls('transit-datakey')).toBe(2); // one per SecretSync, at their first sync: no new data key

  // The other SecretSync of that KEK follows at once, without a force-sync of its own.
  const other = await eventually(async () => {
    const sec = await readSecret('db-other');
    return entriesByDoc(sec).current.wrappedKey.startsWith('vault:v2:') ? sec : undefined;
  }, { timeoutMs: 15_000, what: 'db-other re-wrapped under v2' });
  expect(entriesByDoc(other).current.values).toEqual(otherBefore.current.values);
  expect((await getSync(custom, ns, 'db-other')).status?.version).toBe(1);
  const events = await core.listNamespacedEvent({ namespace: ns });
  expect(events.items.filter((ev) => ev.reason === 'Rewrapped').map((ev) => ev.involvedObject.name).sort()).toEqual(['db', 'db-other']);
  console.log(`force-sync to re-wrap under the rotated Transit key: ${tookMs} ms (--kek-check-interval=1h)`);
}, 90_000);

test('AWS KMS alias moved to another key: a force-sync re-wraps at once with ReEncrypt, same data key and version', async () => {
  const k1 = (await kms.send(new CreateKeyCommand({ Description: `${id}-1` }))).KeyMetadata;
  const k2 = (await kms.send(new CreateKeyCommand({ Description: `${id}-2` }))).KeyMetadata;
  const alias = `alias/${id}`;
  await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: k1?.KeyId }));
  await apply(custom, {
    kind: 'SecretSync',
    metadata: { name: 'kms-db', namespace: ns },
    spec: {
      sourceRef: { name: 'vault' },
      data: [{ key: 'password', remoteRef: { path: `${id}/db`, property: 'password' } }],
      refresh: { interval: '1h' },
      target: { encryption: { kek: { awsKms: { sourceRef: { name: 'aws' }, keyId: alias } } } },
    },
  });
  expect((await waitReady(custom, ns, 'kms-db', 'True')).status?.keyId).toBe(`aws-kms:${k1?.Arn}`);
  const before = entriesByDoc(await readSecret('kms-db'));
  await waitIdle(op);
  await kms.send(new UpdateAliasCommand({ AliasName: alias, TargetKeyId: k2?.KeyId }));
  const reEncrypts = await calls('kms-re-encrypt');
  await patchSync(custom, ns, 'kms-db', { metadata: { annotations: { 'secretsync.io/force-sync': 'moved-alias' } } });
  const s = await eventually(async () => {
    const sec = await readSecret('kms-db');
    return entriesByDoc(sec).current.kek.version === k2?.Arn ? sec : undefined;
  }, { timeoutMs: 15_000, intervalMs: 100, what: 'kms-db re-wrapped under the second key' });
  const e = entriesByDoc(s);
  expect(e.current.values).toEqual(before.current.values);
  expect(e.current.version).toBe(1);
  const out = await kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from(e.current.wrappedKey, 'base64'), EncryptionContext: kmsContextByDoc(ns, 'kms-db') }));
  expect(out.KeyId).toBe(k2?.Arn);
  expect(openByDoc(s, 'kms-db', e.current, Buffer.from(out.Plaintext as Uint8Array)).password?.toString('utf8') === CANARY).toBe(true);
  expect(await calls('kms-re-encrypt')).toBeGreaterThan(reEncrypts);
  const ss = await eventually(async () => {
    const x = await getSync(custom, ns, 'kms-db');
    return x.status?.keyId === `aws-kms:${k2?.Arn}` ? x : undefined;
  }, { what: 'kms-db keyId the second key' });
  expect(ss.status?.version).toBe(1);
}, 60_000);

test('no value in events, status, logs or metrics', async () => {
  await expectNoLeak({ core, custom }, ns, op, CANARY);
});
