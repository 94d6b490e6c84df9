// decodingStrategy end to end: a real operator process against the real apiserver, OpenBao
// (KV and Transit) and moto (Secrets Manager and KMS). Values stored encoded (a certificate
// as base64, a binary key as base64url) arrive decoded in plain mode, and decoded before
// sealing in envelope mode (opened by test/helpers/envelope-by-doc.ts, from the format
// document alone). A value that does not decode is Ready=False with reason DecodingFailed,
// the Secret kept as it was. Also: on AWS, OnChange with an immutable Secret; with Transit,
// an immutable envelope Secret that refuses a new version without minting a data key.
import { parseSamples, sumBy } from '../../../bench/prom.js';
import { CreateAliasCommand, CreateKeyCommand, DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { createHash } from 'node:crypto';
import { createSecret as awsCreate, deleteSecrets, keysData, keysRef, putSecret, secretsAdmin } from '../../helpers/aws.js';
import { canary } from '../../helpers/canary.js';
import { entriesByDoc, kmsContextByDoc, openByDoc, type DocSecret } from '../../helpers/envelope-by-doc.js';
import { eventually } from '../../helpers/eventually.js';
import { apply, createSecret, deleteNamespace, deleteSyncs, getSync, kube, patchSync, readyCondition, vaultTestNamespaces, waitReady } from '../../helpers/kube.js';
import { expectNoLeak } from '../../helpers/leaks.js';
import { getText, startOperator, type RunningOperator } from '../../helpers/operator.js';
import { awsConfig, uniqueName } from '../../helpers/stack.js';
import { kvPut, vaultRoot } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const aws = awsConfig();
const sm = secretsAdmin();
const kms = new KMSClient({ region: aws.region, endpoint: aws.endpoint, credentials: aws.credentials });
const root = vaultRoot();
const id = uniqueName('dec');
const ns = `${id}-apps`;
const opNs = `${id}-system`;
const transit = `transit-${id}`;
const awsNames = [`${id}/certs`, `${id}/onchange`];
let op: RunningOperator;
let kmsAlias = '';

// A "certificate" (a planted value: the leak scan looks for it, decoded or not) and a binary key
// whose base64 has + and / (so base64url differs), as a TLS Secret would hold them.
const CERT = `-----BEGIN CERTIFICATE-----\n${canary('cert')}\n-----END CERTIFICATE-----\n`;
const KEY = Buffer.concat([Buffer.from([0xfb, 0xff, 0x00, 0x3e, 0x3f]), Buffer.from(canary('key'))]);
const [BAD, NEXT_A, NEXT_B] = ['bad', 'next-a', 'next-b'].map((p) => canary(p)) as [string, string, string];
const CERT_B64 = Buffer.from(CERT).toString('base64').replace(/(.{76})/g, '$1\n'); // wrapped, as `base64` writes it
const KEY_B64URL = KEY.toString('base64url');
const digest = (b: Buffer | undefined) => (b ? createHash('sha256').update(b).digest('hex') : 'missing');

const data = (path: string) => [
  { key: 'tls.crt', remoteRef: { path, property: 'crt' }, decodingStrategy: 'Base64' },
  { key: 'tls.key', remoteRef: { path, property: 'key' }, decodingStrategy: 'base64url' },
];
const sync = (name: string, source: string, spec: Record<string, unknown>) => ({ kind: 'SecretSync', metadata: { name, namespace: ns }, spec: { sourceRef: { name: source }, ...spec } });
const readSecret = async (name: string) => (await core.readNamespacedSecret({ name, namespace: ns })) as unknown as DocSecret & { type?: string; immutable?: boolean; metadata: { resourceVersion?: string; labels?: Record<string, string> } };
const raw = async (name: string) => Object.fromEntries(Object.entries((await readSecret(name)).data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
const wanted = { 'tls.crt': digest(Buffer.from(CERT)), 'tls.key': digest(KEY) };
const digests = (m: Record<string, Buffer | undefined>, keys = Object.keys(wanted)) => Object.fromEntries(keys.map((k) => [k, digest(m[k])]));

beforeAll(async () => {
  await root.write(`sys/mounts/${transit}`, { type: 'transit' });
  await root.write(`${transit}/keys/secretsync`, { type: 'aes256-gcm96' });
  const key = await kms.send(new CreateKeyCommand({ Description: id }));
  kmsAlias = `alias/${id}`;
  await kms.send(new CreateAliasCommand({ AliasName: kmsAlias, TargetKeyId: key.KeyMetadata?.KeyId }));
  await kvPut(`${id}/certs`, { crt: CERT_B64, key: KEY_B64URL });
  await kvPut(`${id}/bundle`, { 'ca.crt': Buffer.from(CERT).toString('base64'), note: 'plain text, kept' });
  await awsCreate(sm, `${id}/certs`, { crt: CERT_B64, key: KEY_B64URL });
  await vaultTestNamespaces({ kc, core, custom }, ns, opNs);
  await createSecret(core, ns, 'aws-keys', keysData(aws.credentials));
  await apply(custom, { kind: 'SecretSource', metadata: { name: 'aws', namespace: ns }, spec: { aws: { region: aws.region, endpoint: aws.endpoint, auth: keysRef('aws-keys') } } });
  op = await startOperator([`--namespace=${ns}`, `--operator-namespace=${opNs}`]);
}, 120_000);

afterAll(async () => {
  await deleteSyncs(custom, ns);
  expect(await op?.stop()).toBe(0);
  await deleteNamespace(core, ns);
  await deleteNamespace(core, opNs);
  await deleteSecrets(sm, awsNames);
  sm.destroy();
  kms.destroy();
});

test('Vault, plain: a wrapped base64 certificate and a base64url binary key arrive decoded, byte for byte; Auto decodes what is base64 and keeps the rest', async () => {
  await apply(custom, sync('vault-tls', 'vault', { data: data(`${id}/certs`), dataFrom: [{ remoteRef: { path: `${id}/bundle` }, decodingStrategy: 'Auto' }] }));
  await waitReady(custom, ns, 'vault-tls', 'True');
  const got = await raw('vault-tls');
  expect(digests(got)).toEqual(wanted);
  expect(digest(got['ca.crt'])).toBe(digest(Buffer.from(CERT)));
  expect(got.note?.toString()).toBe('plain text, kept');
});

test('AWS, plain: the same from a SecretString JSON', async () => {
  await apply(custom, sync('aws-tls', 'aws', { data: data(`${id}/certs`), target: { type: 'kubernetes.io/tls' } }));
  await waitReady(custom, ns, 'aws-tls', 'True');
  expect((await readSecret('aws-tls')).type).toBe('kubernetes.io/tls'); // the API server checked the decoded keys are there
  expect(digests(await raw('aws-tls'))).toEqual(wanted);
});

test('Vault Transit, envelope: the decoded bytes are what is sealed', async () => {
  const kek = { vaultTransit: { sourceRef: { name: 'vault' }, mount: transit, key: 'secretsync', agentAuth: { kubernetes: { role: 'app' } } } };
  await apply(custom, sync('vault-sealed', 'vault', { data: data(`${id}/certs`), target: { encryption: { kek } } }));
  await waitReady(custom, ns, 'vault-sealed', 'True');
  const s = await readSecret('vault-sealed');
  const e = entriesByDoc(s);
  const r = await root.write(`${transit}/decrypt/secretsync`, { ciphertext: e.current.wrappedKey });
  expect(digests(openByDoc(s, 'vault-sealed', e.current, Buffer.from(r.data.plaintext as string, 'base64')))).toEqual(wanted);
});

test('AWS KMS, envelope: likewise', async () => {
  await apply(custom, sync('aws-sealed', 'aws', { data: data(`${id}/certs`), target: { encryption: { kek: { awsKms: { sourceRef: { name: 'aws' }, keyId: kmsAlias } } } } }));
  await waitReady(custom, ns, 'aws-sealed', 'True');
  const s = await readSecret('aws-sealed');
  const e = entriesByDoc(s);
  const out = await kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from(e.current.wrappedKey, 'base64'), EncryptionContext: kmsContextByDoc(ns, 'aws-sealed') }));
  expect(digests(openByDoc(s, 'aws-sealed', e.current, Buffer.from(out.Plaintext as Uint8Array)))).toEqual(wanted);
});

test('a value that does not decode: Ready=False DecodingFailed naming the key and the strategy; the synced Secret is kept', async () => {
  await kvPut(`${id}/flip`, { crt: Buffer.from(CERT).toString('base64') });
  await apply(custom, sync('flip', 'vault', { data: [{ key: 'tls.crt', remoteRef: { path: `${id}/flip`, property: 'crt' }, decodingStrategy: 'BASE64' }] }));
  await waitReady(custom, ns, 'flip', 'True');
  const before = await readSecret('flip');
  await kvPut(`${id}/flip`, { crt: BAD }); // not base64: a quote, a backslash, ü
  await patchSync(custom, ns, 'flip', { metadata: { annotations: { 'secretsync.io/force-sync': 'bad' } } });
  const failed = await waitReady(custom, ns, 'flip', 'False', 'DecodingFailed');
  const message = readyCondition(failed)?.message ?? '';
  expect(message).toContain('key "tls.crt"');
  expect(message).toContain('spec.data[0].decodingStrategy Base64');
  expect(failed.status?.version).toBe(1);
  const after = await readSecret('flip');
  expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
});

test('AWS: OnChange with an immutable Secret: a new value is read on a spec change and refused with TargetImmutable, nothing written', async () => {
  await awsCreate(sm, `${id}/onchange`, { v: NEXT_A });
  await apply(
    custom,
    sync('aws-once', 'aws', { data: [{ key: 'v', remoteRef: { path: `${id}/onchange`, property: 'v' } }], refresh: { policy: 'OnChange' }, target: { immutable: true } }),
  );
  await waitReady(custom, ns, 'aws-once', 'True');
  const first = await readSecret('aws-once');
  expect(first.immutable).toBe(true);
  await putSecret(sm, `${id}/onchange`, { v: NEXT_B });
  await patchSync(custom, ns, 'aws-once', { spec: { target: { labels: { edited: 'yes' } } } });
  const refused = await waitReady(custom, ns, 'aws-once', 'False', 'TargetImmutable');
  expect(readyCondition(refused)?.message).toMatch(/holds version 1.*would be version 2/);
  const after = await readSecret('aws-once');
  expect(digest(Buffer.from(after.data?.v ?? '', 'base64'))).toBe(digest(Buffer.from(NEXT_A)));
  // Deleted, it is re-created immutable with the new value.
  await core.deleteNamespacedSecret({ name: 'aws-once', namespace: ns });
  await eventually(async () => ((await getSync(custom, ns, 'aws-once')).status?.version === 2 ? true : undefined), { what: 'aws-once at version 2' });
  const again = await readSecret('aws-once');
  expect(again.immutable).toBe(true);
  expect(again.metadata.labels?.edited).toBe('yes');
  expect(digest(Buffer.from(again.data?.v ?? '', 'base64'))).toBe(digest(Buffer.from(NEXT_B)));
});

test('Vault Transit, envelope and immutable: a new value mints no data key and writes nothing; TargetImmutable says to delete the Secret', async () => {
  const kek = { vaultTransit: { sourceRef: { name: 'vault' }, mount: transit, key: 'secretsync', agentAuth: { kubernetes: { role: 'app' } } } };
  await kvPut(`${id}/sealed-imm`, { v: NEXT_A });
  await apply(custom, sync('sealed-imm', 'vault', { data: [{ key: 'v', remoteRef: { path: `${id}/sealed-imm`, property: 'v' } }], refresh: { interval: '10s' }, target: { immutable: true, encryption: { kek } } }));
  await waitReady(custom, ns, 'sealed-imm', 'True');
  const first = await readSecret('sealed-imm');
  expect(first.immutable).toBe(true);
  const mints = async () => sumBy(parseSamples((await getText(`http://127.0.0.1:${op.metricsPort}/metrics`)).body), 'secretsync_provider_calls_total', {}, 'operation')['transit-datakey'] ?? 0;
  const before = await mints();
  await kvPut(`${id}/sealed-imm`, { v: NEXT_B });
  const refused = await waitReady(custom, ns, 'sealed-imm', 'False', 'TargetImmutable');
  expect(readyCondition(refused)?.message).toMatch(/holds version 1.*would be version 2.*Delete the Secret/);
  expect(await mints()).toBe(before);
  expect((await readSecret('sealed-imm')).metadata.resourceVersion).toBe(first.metadata.resourceVersion);
});

test('no planted value in logs, events, status or /metrics', async () => {
  for (const v of [CERT, BAD, NEXT_A, NEXT_B, KEY_B64URL, CERT_B64]) await expectNoLeak({ core, custom }, ns, op, v);
});
