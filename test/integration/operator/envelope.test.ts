// Envelope mode end to end: a real operator process against the real apiserver, OpenBao
// (Transit) and moto (KMS). The operator's Vault token may mint and re-wrap data keys but
// not decrypt; the stored Secrets are decoded by test/helpers/envelope-by-doc.ts, written
// from docs/envelope-format.md alone. Also: spec.access grants, no plaintext anywhere,
// one data key per version (quiet refreshes call no key service), KEK rotation re-wraps
// without a new version, and failures that keep the Secret.
import { CreateAliasCommand, CreateKeyCommand, DecryptCommand, KMSClient, UpdateAliasCommand } from '@aws-sdk/client-kms';
import { PatchStrategy, RbacAuthorizationV1Api, setHeaderOptions } from '@kubernetes/client-node';
import { parseSamples, sumBy } from '../../../bench/prom.js';
import type { SecretSync } from '../../../src/api/types.js';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentIdentity, agentOutputs, agentVaultAuth, runAgent, startAgent, type AgentIdentity } from '../../helpers/agent.js';
import { keysData, keysRef } from '../../helpers/aws.js';
import { canary, leaksIn } from '../../helpers/canary.js';
import { entriesByDoc, kmsContextByDoc, openByDoc, type DocSecret } from '../../helpers/envelope-by-doc.js';
import { eventually } from '../../helpers/eventually.js';
import { apply, createNamespace, createSecret, deleteNamespace, deleteSyncs, getSync, installCrds, kube, readyCondition, waitReady } from '../../helpers/kube.js';
import { expectNoLeak } from '../../helpers/leaks.js';
import { getText, startOperator, type RunningOperator } from '../../helpers/operator.js';
import { awsConfig, requireEnv, uniqueName } from '../../helpers/stack.js';
import { kvPut, vaultRoot, transitOperatorToken } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
const CANARY = canary();
// The other planted values, from canary() too (the suite-wide leak scan looks for them).
const [FIRST, SECOND, AGENT_ONE, AGENT_TWO] = ['first', 'second', 'agent-one', 'agent-two'].map((p) => canary(p)) as [string, string, string, string];
const id = uniqueName('env');
const ns = `${id}-apps`;
const rotNs = `${id}-rot`;
const opNs = `${id}-system`;
const transit = `transit-${id}`;
const vaultAddr = requireEnv('VAULT_ADDR');
const root = vaultRoot();
const aws = awsConfig();
const kms = new KMSClient({ region: aws.region, endpoint: aws.endpoint, credentials: aws.credentials });
let op: RunningOperator;
let rotOp: RunningOperator;
let kmsAlias = '';
let opToken = '';

const authMount = `kubernetes-${id}`;
const transitKek = (extra: Record<string, unknown> = {}) => ({
  encryption: { kek: { vaultTransit: { sourceRef: { name: 'vault' }, mount: transit, key: 'secretsync', agentAuth: { kubernetes: { mount: authMount, role: 'app' } }, ...extra } } },
});
const sync = (namespace: string, name: string, spec: Record<string, unknown>) => ({
  kind: 'SecretSync',
  metadata: { name, namespace },
  spec: { sourceRef: { name: 'vault' }, data: [{ key: 'password', remoteRef: { path: `${id}/db`, property: 'password' } }], ...spec },
});
const readSecret = async (namespace: string, name: string) => (await core.readNamespacedSecret({ name, namespace })) as unknown as DocSecret & { metadata: { annotations?: Record<string, string> } };
const metrics = async (o: RunningOperator) => parseSamples((await getText(`http://127.0.0.1:${o.metricsPort}/metrics`)).body);
const calls = (samples: ReturnType<typeof parseSamples>) => sumBy(samples, 'secretsync_provider_calls_total', {}, 'operation');
const sum = (r: Record<string, number>, pred: (k: string) => boolean) => Object.entries(r).filter(([k]) => pred(k)).reduce((n, [, v]) => n + v, 0);

async function transitDecrypt(wrapped: string, token?: string): Promise<Buffer> {
  const client = token ? (await import('node-vault')).default({ apiVersion: 'v1', endpoint: vaultAddr, token }) : root;
  const r = await client.write(`${transit}/decrypt/secretsync`, { ciphertext: wrapped });
  return Buffer.from(r.data.plaintext as string, 'base64');
}

async function sourcesIn(namespace: string): Promise<void> {
  await createNamespace(core, namespace);
  await createSecret(core, namespace, 'vault-token', { token: opToken });
  await createSecret(core, namespace, 'aws-keys', keysData({ accessKeyId: aws.credentials.accessKeyId, secretAccessKey: aws.credentials.secretAccessKey }));
  await apply(custom, { kind: 'SecretSource', metadata: { name: 'vault', namespace }, spec: { vault: { address: vaultAddr, auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } } } } });
  await apply(custom, { kind: 'SecretSource', metadata: { name: 'aws', namespace }, spec: { aws: { region: aws.region, endpoint: aws.endpoint, auth: keysRef('aws-keys') } } });
}

beforeAll(async () => {
  await installCrds(kc);
  opToken = await transitOperatorToken(transit, id);
  await kvPut(`${id}/db`, { password: CANARY });
  const key = await kms.send(new CreateKeyCommand({ Description: id }));
  kmsAlias = `alias/${id}`;
  await kms.send(new CreateAliasCommand({ AliasName: kmsAlias, TargetKeyId: key.KeyMetadata?.KeyId }));
  await createNamespace(core, opNs);
  await sourcesIn(ns);
  await sourcesIn(rotNs);
  op = await startOperator([`--namespace=${ns}`, `--operator-namespace=${opNs}`]);
  rotOp = await startOperator([`--namespace=${rotNs}`, `--operator-namespace=${opNs}`, '--kek-check-interval=2s']);
}, 120_000);

afterAll(async () => {
  await deleteSyncs(custom, ns);
  await deleteSyncs(custom, rotNs);
  expect(await op?.stop()).toBe(0);
  expect(await rotOp?.stop()).toBe(0);
  await deleteNamespace(core, ns);
  await deleteNamespace(core, rotNs);
  await deleteNamespace(core, opNs);
  kms.destroy();
});

test('Transit: the Secret holds only ciphertext; decoded by the document it opens to the value; the operator itself cannot decrypt', async () => {
  await apply(custom, sync(ns, 'db', { target: transitKek(), mount: { mode: '0440', uid: 1000, gid: 2000 }, access: { serviceAccounts: ['app'] } }));
  const ss = await waitReady(custom, ns, 'db', 'True');
  expect(ss.status?.keyId).toBe(`vault-transit:${transit}/secretsync:v1`);
  expect(ss.status?.version).toBe(1);
  const s = await readSecret(ns, 'db');
  expect(s.type).toBe('secretsync.io/envelope');
  expect(s.metadata.annotations?.['secretsync.io/mount']).toBe('{"mode":"0440","uid":1000,"gid":2000}');
  const decoded = Object.values(s.data ?? {}).map((v) => Buffer.from(v, 'base64').toString('utf8')).join('\n');
  expect([...leaksIn(JSON.stringify(s), CANARY), ...leaksIn(decoded, CANARY)]).toEqual([]);

  const e = entriesByDoc(s);
  expect(e.format).toBe('secretsync.io/envelope/v1');
  expect(e.current.kek).toMatchObject({ type: 'vault-transit', address: vaultAddr, mount: transit, key: 'secretsync', version: '1', agentAuth: { mount: authMount, role: 'app' } });
  expect(e.current.wrappedKey.startsWith('vault:v1:')).toBe(true);
  const values = openByDoc(s, 'db', e.current, await transitDecrypt(e.current.wrappedKey));
  expect(values.password?.toString('utf8') === CANARY).toBe(true);
  // The operator's token mints and re-wraps; Vault refuses it decrypt.
  await expect(transitDecrypt(e.current.wrappedKey, opToken)).rejects.toMatchObject({ response: { statusCode: 403 } });
});

test('spec.access: a Role and RoleBinding grant get/watch on exactly that Secret to exactly the listed accounts', async () => {
  await waitReady(custom, ns, 'db', 'True');
  const role = await eventually(async () => rbac.readNamespacedRole({ name: 'secretsync-db', namespace: ns }).catch(() => undefined), { what: 'Role secretsync-db' });
  expect(role.rules).toEqual([
    expect.objectContaining({ apiGroups: [''], resources: ['secrets'], resourceNames: ['db'], verbs: ['get', 'watch'] }),
    // The agent reads the SecretSync's uid itself (issue 18, item 9).
    expect.objectContaining({ apiGroups: ['secretsync.io'], resources: ['secretsyncs'], resourceNames: ['db'], verbs: ['get'] }),
  ]);
  const binding = await rbac.readNamespacedRoleBinding({ name: 'secretsync-db', namespace: ns });
  expect(binding.subjects).toEqual([expect.objectContaining({ kind: 'ServiceAccount', name: 'app', namespace: ns })]);
  expect(binding.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'SecretSync', name: 'db', controller: true });
  // Edited by someone else: put back.
  await rbac.patchNamespacedRoleBinding({ name: 'secretsync-db', namespace: ns, body: [{ op: 'replace', path: '/subjects/0/name', value: 'intruder' }] });
  await eventually(async () => {
    const b = await rbac.readNamespacedRoleBinding({ name: 'secretsync-db', namespace: ns });
    return b.subjects?.[0]?.name === 'app' ? true : undefined;
  }, { what: 'RoleBinding restored' });
});

test('AWS KMS: alias as keyId, keyId in status is the key ARN, decoded by the document with the encryption context', async () => {
  await apply(custom, sync(ns, 'kms-db', { target: { encryption: { kek: { awsKms: { sourceRef: { name: 'aws' }, keyId: kmsAlias } } } }, access: { serviceAccounts: ['app'] } }));
  const ss = await waitReady(custom, ns, 'kms-db', 'True');
  expect(ss.status?.keyId).toMatch(/^aws-kms:arn:aws:kms:[^:]+:\d+:key\/[-0-9a-f]+$/);
  const s = await readSecret(ns, 'kms-db');
  const e = entriesByDoc(s);
  expect(e.current.kek).toMatchObject({ type: 'aws-kms', region: aws.region, keyId: kmsAlias });
  expect(`aws-kms:${e.current.kek.version}`).toBe(ss.status?.keyId);
  const out = await kms.send(
    new DecryptCommand({ CiphertextBlob: Buffer.from(e.current.wrappedKey, 'base64'), EncryptionContext: kmsContextByDoc(ns, 'kms-db') }),
  );
  const values = openByDoc(s, 'kms-db', e.current, Buffer.from(out.Plaintext as Uint8Array));
  expect(values.password?.toString('utf8') === CANARY).toBe(true);
  // The wrapped key does not open under another namespace's context.
  await expect(
    kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from(e.current.wrappedKey, 'base64'), EncryptionContext: kmsContextByDoc('elsewhere', 'kms-db') })),
  ).rejects.toThrow();
  const decoded = Object.values(s.data ?? {}).map((v) => Buffer.from(v, 'base64').toString('utf8')).join('\n');
  expect([...leaksIn(JSON.stringify(s), CANARY), ...leaksIn(decoded, CANARY)]).toEqual([]);
});

test('one data key per version: 200 refreshes of unchanged content make zero Transit/KMS calls and zero Secret writes', async () => {
  // Each reads a path of its own: syncs of one path would share one read per tick, and the
  // reads counted here stand for refreshes.
  const names = Array.from({ length: 40 }, (_, i) => `quiet-${i}`);
  await Promise.all(names.map((n) => kvPut(`${id}/${n}`, { password: CANARY })));
  const own = (n: string) => [{ key: 'password', remoteRef: { path: `${id}/${n}`, property: 'password' } }];
  await Promise.all(names.map((n) => apply(custom, sync(ns, n, { data: own(n), refresh: { interval: '10s' }, target: transitKek() }))));
  await Promise.all(names.map((n) => waitReady(custom, ns, n, 'True', undefined, 90_000)));
  for (const n of names.slice(0, 3)) expect((await readSecret(ns, n)).type).toBe('secretsync.io/envelope');
  const before = await metrics(op);
  expect(calls(before)['transit-datakey']).toBeGreaterThanOrEqual(names.length); // one data key per SecretSync so far
  const kekBefore = sum(calls(before), (k) => k.startsWith('transit-') || k.startsWith('kms-'));
  const readsBefore = calls(before).read ?? 0;
  const writesBefore = sumBy(before, 'secretsync_kube_writes_total', { resource: 'secrets' }, 'verb');
  const after = await eventually(
    async () => {
      const m = await metrics(op);
      return (calls(m).read ?? 0) - readsBefore >= 200 ? m : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 1000, what: '200 refreshes' },
  );
  const kekCalls = sum(calls(after), (k) => k.startsWith('transit-') || k.startsWith('kms-')) - kekBefore;
  const secretWrites = sum(sumBy(after, 'secretsync_kube_writes_total', { resource: 'secrets' }, 'verb'), () => true) - sum(writesBefore, () => true);
  console.log(`quiet refreshes: ${(calls(after).read ?? 0) - readsBefore} KV reads, ${kekCalls} Transit/KMS calls, ${secretWrites} Secret writes`);
  expect(kekCalls).toBe(0);
  expect(secretWrites).toBe(0);
}, 180_000);

test('rotating the Transit key re-wraps every copy (both versions) with no version bump and no new data key', async () => {
  const names = ['rot-a', 'rot-b', 'rot-c'];
  await kvPut(`${id}/rot`, { password: FIRST });
  const rotSync = (n: string) => sync(rotNs, n, { data: [{ key: 'password', remoteRef: { path: `${id}/rot`, property: 'password' } }], refresh: { interval: '10s' }, target: transitKek() });
  await Promise.all(names.map((n) => apply(custom, rotSync(n))));
  await Promise.all(names.map((n) => waitReady(custom, rotNs, n, 'True')));
  await kvPut(`${id}/rot`, { password: SECOND }); // a version 2, so each Secret holds two entries
  await Promise.all(names.map((n) => eventually(async () => ((await getSync(custom, rotNs, n)).status?.version === 2 ? true : undefined), { timeoutMs: 30_000, what: `${n} at version 2` })));
  const before = await Promise.all(names.map(async (n) => entriesByDoc(await readSecret(rotNs, n))));
  const mintsBefore = calls(await metrics(rotOp))['transit-datakey'] ?? 0;

  await root.write(`${transit}/keys/secretsync/rotate`, {});
  for (const [i, n] of names.entries()) {
    const s = await eventually(
      async () => {
        const sec = await readSecret(rotNs, n);
        const e = entriesByDoc(sec);
        return e.current.wrappedKey.startsWith('vault:v2:') && e.previous?.wrappedKey.startsWith('vault:v2:') ? sec : undefined;
      },
      { timeoutMs: 30_000, what: `${n} re-wrapped under v2` },
    );
    const e = entriesByDoc(s);
    expect(e.current.values).toEqual(before[i]?.current.values); // the same data key: ciphertext untouched
    expect(e.previous?.values).toEqual(before[i]?.previous?.values);
    expect([e.current.kek.version, e.previous?.kek.version]).toEqual(['2', '2']);
    expect(openByDoc(s, n, e.current, await transitDecrypt(e.current.wrappedKey)).password?.toString() === SECOND).toBe(true);
    expect(openByDoc(s, n, e.previous!, await transitDecrypt(e.previous!.wrappedKey)).password?.toString() === FIRST).toBe(true);
    const ss = await eventually(async () => {
      const x = await getSync(custom, rotNs, n);
      return x.status?.keyId?.endsWith(':v2') ? x : undefined;
    }, { what: `${n} status.keyId v2` });
    expect(ss.status?.version).toBe(2);
  }
  expect((calls(await metrics(rotOp))['transit-datakey'] ?? 0) - mintsBefore).toBe(0);
  const events = await core.listNamespacedEvent({ namespace: rotNs });
  expect(events.items.filter((ev) => ev.reason === 'Rewrapped').map((ev) => ev.involvedObject.name).sort()).toEqual(expect.arrayContaining(names));
}, 120_000);

test('KMS: an alias moved to another key, then spec keyId edited: re-wrapped with ReEncrypt each time, no new data key, no version bump', async () => {
  const k1 = (await kms.send(new CreateKeyCommand({ Description: `${id}-1` }))).KeyMetadata;
  const k2 = (await kms.send(new CreateKeyCommand({ Description: `${id}-2` }))).KeyMetadata;
  const alias = `alias/${id}-rot`;
  await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: k1?.KeyId }));
  await apply(custom, sync(rotNs, 'rot-kms', { target: { encryption: { kek: { awsKms: { sourceRef: { name: 'aws' }, keyId: alias } } } } }));
  const ready = await waitReady(custom, rotNs, 'rot-kms', 'True');
  expect(ready.status?.keyId).toBe(`aws-kms:${k1?.Arn}`);
  const values = entriesByDoc(await readSecret(rotNs, 'rot-kms')).current.values;
  const mintsBefore = calls(await metrics(rotOp))['kms-generate-data-key'] ?? 0;
  const opened = async () => {
    const s = await readSecret(rotNs, 'rot-kms');
    const e = entriesByDoc(s);
    const out = await kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from(e.current.wrappedKey, 'base64'), EncryptionContext: kmsContextByDoc(rotNs, 'rot-kms') }));
    expect(e.current.values).toEqual(values); // the same data key: ciphertext untouched
    return openByDoc(s, 'rot-kms', e.current, Buffer.from(out.Plaintext as Uint8Array)).password?.toString('utf8');
  };
  const keyIdBecomes = (arn: string | undefined) =>
    eventually(async () => {
      const x = await getSync(custom, rotNs, 'rot-kms');
      return x.status?.keyId === `aws-kms:${arn}` ? x : undefined;
    }, { timeoutMs: 30_000, what: `rot-kms keyId ${arn}` });

  await kms.send(new UpdateAliasCommand({ AliasName: alias, TargetKeyId: k2?.KeyId }));
  expect((await keyIdBecomes(k2?.Arn)).status?.version).toBe(1);
  expect(entriesByDoc(await readSecret(rotNs, 'rot-kms')).current.kek.version).toBe(k2?.Arn);
  expect((await opened()) === CANARY).toBe(true);

  await custom.patchNamespacedCustomObject(
    { group: 'secretsync.io', version: 'v1alpha1', namespace: rotNs, plural: 'secretsyncs', name: 'rot-kms', body: { spec: { target: { encryption: { kek: { awsKms: { keyId: k1?.KeyId } } } } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  expect((await keyIdBecomes(k1?.Arn)).status?.version).toBe(1);
  expect((await opened()) === CANARY).toBe(true);
  expect((calls(await metrics(rotOp))['kms-generate-data-key'] ?? 0) - mintsBefore).toBe(0);
  expect(calls(await metrics(rotOp))['kms-re-encrypt'] ?? 0).toBeGreaterThanOrEqual(2);
}, 90_000);

test('a KEK source that is missing, or a Transit key that does not exist: Ready=False with the fix, the Secret untouched', async () => {
  await apply(custom, sync(ns, 'no-kek-source', { target: { encryption: { kek: { vaultTransit: { sourceRef: { name: 'nope' }, mount: transit, key: 'secretsync', agentAuth: { kubernetes: { role: 'app' } } } } } } }));
  const a = await eventually(async () => {
    const x = await getSync(custom, ns, 'no-kek-source');
    return readyCondition(x)?.status === 'False' ? x : undefined;
  }, { what: 'no-kek-source Ready=False' });
  expect(readyCondition(a)).toMatchObject({ reason: 'SourceRefNotFound', message: expect.stringContaining('spec.target.encryption.kek.vaultTransit.sourceRef') });

  const before = await readSecret(ns, 'db');
  const setKey = (key: string) =>
    custom.patchNamespacedCustomObject(
      { group: 'secretsync.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs', name: 'db', body: { spec: { target: { encryption: { kek: { vaultTransit: { key } } } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  await setKey('missing-key');
  const b = await eventually(async () => {
    const x: SecretSync = await getSync(custom, ns, 'db');
    return readyCondition(x)?.status === 'False' && x.status?.observedGeneration === x.metadata.generation ? x : undefined;
  }, { what: 'db Ready=False' });
  expect(readyCondition(b)?.message).toContain('missing-key');
  const after = await readSecret(ns, 'db');
  expect(after.data).toEqual(before.data);
  await setKey('secretsync');
  await waitReady(custom, ns, 'db', 'True');
});

describe('the agent opens what the operator wrote, as the pod it runs in', () => {
  let tmp = '';
  let app: AgentIdentity;
  let other: AgentIdentity;
  let cleanup: () => Promise<void> = async () => undefined;
  const awsEnv = { AWS_REGION: aws.region, AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey };

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'envelope-agent-'));
    app = await agentIdentity(kc, ns, 'app', tmp);
    other = await agentIdentity(kc, ns, 'other', tmp);
    // `other` may log in to Vault: what refuses it is RBAC (it is not in spec.access).
    cleanup = await agentVaultAuth(kc, root, { namespace: ns, dir: tmp, authMount, transitMount: transit, key: 'secretsync', role: 'app', serviceAccounts: ['app', 'other'] });
  });

  afterAll(async () => {
    await cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('Transit: an account in spec.access gets the files with spec.mount; one outside it is refused by RBAC', async () => {
    await waitReady(custom, ns, 'db', 'True');
    const dir = mkdtempSync(join(tmp, 'out-'));
    const ok = await runAgent(app, ['init', '--sync', 'db', '--dir', dir, '--namespace', ns, '--insecure-allow-http']);
    expect(ok.code).toBe(0);
    const file = join(dir, 'db', 'password');
    expect(readFileSync(file, 'utf8') === CANARY).toBe(true);
    const st = statSync(file);
    expect([st.mode & 0o777, st.uid, st.gid]).toEqual([0o440, 1000, 2000]);
    const refused = await runAgent(other, ['init', '--sync', 'db', '--dir', mkdtempSync(join(tmp, 'out-')), '--namespace', ns, '--insecure-allow-http']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('may not read SecretSync');
    expect(refused.stderr).toContain('spec.access.serviceAccounts');
  });

  test('KMS: the agent unwraps with its own AWS identity', async () => {
    await waitReady(custom, ns, 'kms-db', 'True');
    const dir = mkdtempSync(join(tmp, 'out-'));
    const ok = await runAgent(app, ['init', '--sync', 'kms-db', '--dir', dir, '--namespace', ns, '--insecure-allow-http'], awsEnv);
    expect(ok.code).toBe(0);
    expect(readFileSync(join(dir, 'kms-db', 'password'), 'utf8') === CANARY).toBe(true);
  });

  test('watch follows a new version in place; the old version stays available to pinned pods', async () => {
    await kvPut(`${id}/agent`, { password: AGENT_ONE });
    await apply(custom, sync(ns, 'agent-db', { data: [{ key: 'password', remoteRef: { path: `${id}/agent`, property: 'password' } }], refresh: { interval: '10s' }, target: transitKek(), access: { serviceAccounts: ['app'] } }));
    await waitReady(custom, ns, 'agent-db', 'True');
    const dir = mkdtempSync(join(tmp, 'out-'));
    const w = startAgent(app, ['watch', '--sync', 'agent-db', '--dir', dir, '--namespace', ns, '--insecure-allow-http']);
    try {
      const file = join(dir, 'agent-db', 'password');
      await eventually(async () => (existsSync(file) && readFileSync(file, 'utf8') === AGENT_ONE ? true : undefined), { what: 'first delivery' });
      await kvPut(`${id}/agent`, { password: AGENT_TWO });
      await eventually(async () => (readFileSync(file, 'utf8') === AGENT_TWO ? true : undefined), { timeoutMs: 45_000, what: 'version 2 delivered in place' });
      expect((await getSync(custom, ns, 'agent-db')).status?.version).toBe(2);
    } finally {
      expect((await w.stop()).code).toBe(0);
    }
    const pinned = mkdtempSync(join(tmp, 'out-'));
    const old = await runAgent(app, ['init', '--sync', 'agent-db', '--version', '1', '--dir', pinned, '--namespace', ns, '--insecure-allow-http']);
    expect(old.code).toBe(0);
    expect(readFileSync(join(pinned, 'agent-db', 'password'), 'utf8') === AGENT_ONE).toBe(true);
  }, 90_000);

  test('no agent output holds a value or a token', () => {
    const all = agentOutputs.map((r) => `${r.stdout}\n${r.stderr}`).join('\n');
    expect(leaksIn(all, CANARY)).toEqual([]);
    for (const t of [...app.tokens, ...other.tokens]) expect(all.includes(t)).toBe(false);
  });
});

test('no plaintext in events, status, operator logs or metrics', async () => {
  await expectNoLeak({ core, custom }, ns, op, CANARY);
  await expectNoLeak({ core, custom }, rotNs, rotOp, CANARY);
});
