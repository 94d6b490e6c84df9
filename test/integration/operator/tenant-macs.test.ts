// Issue 18, items 4 and 9 (MACs and the operator's own Secrets), tried as the tenants of
// two namespaces would: each may write SecretSources, SecretSyncs and Pods in its own
// namespace (test/helpers/tenant.ts), nothing else unless a test says so.
//   - The HMAC oracle: team B syncs its guess of team A's value and compares contentHmac.
//   - The upgrade: a status written by the old main (global-key HMAC) is re-keyed with one
//     status patch, the version and the Secret untouched.
//   - An envelope whose MAC names a key the operator does not hold is repaired as altered.
//   - A SecretSync in the operator namespace naming the operator's own Secrets is refused.
import { createHmac, hkdfSync } from 'node:crypto';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { ENVELOPE_MAC_ANNOTATION } from '../../../src/api/annotations.js';
import type { SecretSync } from '../../../src/api/types.js';
import { contentHmac, hmacKey, objectMacKeys } from '../../../src/secretsync/content.js';
import { canary } from '../../helpers/canary.js';
import { eventually } from '../../helpers/eventually.js';
import { apply, createNamespace, createSecret, deleteNamespace, deleteSyncs, getSync, installCrds, kube, readyCondition, secretData, waitReady } from '../../helpers/kube.js';
import { expectNoLeak } from '../../helpers/leaks.js';
import { getText, startOperator, waitIdle, type RunningOperator } from '../../helpers/operator.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';
import { tenant, type Tenant } from '../../helpers/tenant.js';
import { kvPut, vaultRoot } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const CANARY = canary();
const id = uniqueName('mk');
const nsA = `${id}-a`;
const nsB = `${id}-b`;
const opNs = `${id}-system`;
const transit = `transit-${id}`;
const vaultAddr = requireEnv('VAULT_ADDR');
const root = vaultRoot();
const G = { group: 'secretsync.io', version: 'v1alpha1' };
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
// One operator per namespace (the suite shares one stack), all with the same operator
// namespace, so all use the same root HMAC key, as one cluster-wide operator would.
const args = (ns: string) => [`--namespace=${ns}`, `--operator-namespace=${opNs}`];
let op: RunningOperator | undefined; // namespace A's
let others: RunningOperator[] = [];
let a: Tenant;
let b: Tenant;
let sys: Tenant;

const source = (namespace: string) => ({
  kind: 'SecretSource',
  metadata: { name: 'vault', namespace },
  spec: { vault: { address: vaultAddr, auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } } } },
});
const sync = (namespace: string, name: string, path: string, extra: Record<string, unknown> = {}) => ({
  kind: 'SecretSync',
  metadata: { name, namespace },
  spec: { sourceRef: { name: 'vault' }, data: [{ key: 'password', remoteRef: { path, property: 'password' } }], ...extra },
});
const transitKek = { encryption: { kek: { vaultTransit: { sourceRef: { name: 'vault' }, mount: transit, key: 'secretsync', agentAuth: { kubernetes: { role: 'app' } } } } } };
const rootKey = async () => hmacKey(Buffer.from((await core.readNamespacedSecret({ name: 'secretsync-hmac-key', namespace: opNs })).data?.key ?? '', 'base64'));
const writesOf = async (o: RunningOperator) => {
  const out: Record<string, number> = {};
  for (const m of (await getText(`http://127.0.0.1:${o.metricsPort}/metrics`)).body.matchAll(/^secretsync_kube_writes_total\{([^}]*)\} (\d+)/gm)) {
    if (!m[1]?.includes('clustersecretsources')) out[m[1] ?? ''] = Number(m[2]);
  }
  return out;
};
/** The content HMAC's digest as docs/envelope-format.md ("The MAC keys", "The content HMAC") describes it. */
function contentDigestByDoc(root: Buffer, namespace: string, uid: string, content: Record<string, Buffer>): string {
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n, 0);
    return b;
  };
  const prefixed = (fields: string[]) => Buffer.concat(fields.flatMap((f) => [u32(Buffer.byteLength(f)), Buffer.from(f, 'utf8')]));
  const macKey = Buffer.from(hkdfSync('sha256', root, Buffer.from('secretsync.io/mac-key/v2'), prefixed(['secretsync.io/content-mac', namespace, uid]), 32));
  const h = createHmac('sha256', macKey);
  for (const name of Object.keys(content).sort()) {
    const value = content[name] as Buffer;
    h.update(u32(Buffer.byteLength(name))).update(u32(value.length)).update(name).update(value);
  }
  return h.digest('base64url');
}
const started = async (ns = nsA) => {
  const o = await startOperator(args(ns));
  await eventually(async () => (o.logs.some((l) => l.includes('"caches synced"')) ? true : undefined), { what: 'caches synced' });
  return o;
};

beforeAll(async () => {
  await installCrds(kc);
  await root.write(`sys/mounts/${transit}`, { type: 'transit' });
  await root.write(`${transit}/keys/secretsync`, { type: 'aes256-gcm96' });
  await root.write(`sys/policy/${id}-operator`, {
    policy: [`path "secret/data/${id}/*" { capabilities = ["read"] }`, `path "${transit}/datakey/plaintext/secretsync" { capabilities = ["update"] }`, `path "${transit}/rewrap/secretsync" { capabilities = ["update"] }`, `path "${transit}/keys/secretsync" { capabilities = ["read"] }`].join('\n'),
  });
  const token = ((await root.write('auth/token/create', { policies: [`${id}-operator`], ttl: '2h' })) as { auth: { client_token: string } }).auth.client_token;
  for (const ns of [opNs, nsA, nsB]) {
    await createNamespace(core, ns);
    // The platform team hands each namespace its Vault token; tenants cannot write Secrets.
    await createSecret(core, ns, 'vault-token', { token });
  }
  await kvPut(`${id}/team-a`, { password: CANARY });
  await kvPut(`${id}/guess`, { password: CANARY }); // team B's guess is right
  a = await tenant(kc, nsA, { extraRules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'patch'] }] }); // a namespace editor (item 9a)
  b = await tenant(kc, nsB);
  sys = await tenant(kc, opNs);
  op = await started();
  others = [await started(nsB), await started(opNs)];
  await apply(a.custom, source(nsA));
  await apply(b.custom, source(nsB));
  await apply(a.custom, sync(nsA, 'db', `${id}/team-a`));
  await apply(a.custom, sync(nsA, 'sealed', `${id}/team-a`, { target: transitKek }));
  await apply(b.custom, sync(nsB, 'db', `${id}/guess`));
  for (const [ns, name] of [[nsA, 'db'], [nsA, 'sealed'], [nsB, 'db']] as const) await waitReady(custom, ns, name, 'True', 'Synced');
}, 120_000);

afterAll(async () => {
  for (const ns of [nsA, nsB, opNs]) await deleteSyncs(custom, ns);
  expect(await op?.stop()).toBe(0);
  for (const o of others) expect(await o.stop()).toBe(0);
  for (const t of [a, b, sys]) t?.release();
  for (const ns of [nsA, nsB, opNs]) await deleteNamespace(core, ns);
});

test('item 4: team B syncing the right guess of team A\'s value gets another contentHmac (the old global key gave the same)', async () => {
  const sa = await getSync(custom, nsA, 'db');
  const sb = await getSync(b.custom, nsB, 'db');
  // What team B can see: its own status. What it compares it with: team A's (here read by the test).
  expect(sb.status?.contentHmac).toMatch(/^v2:hmac-sha256:/);
  expect(sa.status?.contentHmac).toMatch(/^v2:hmac-sha256:/);
  expect(sb.status?.contentHmac).not.toBe(sa.status?.contentHmac);
  // Each is the HMAC under its own object's key, computed here as docs/envelope-format.md
  // says (not with src/secretsync/content.ts, which would agree with whatever it does);
  // under the old main both were one value.
  const key = await rootKey();
  const c = { password: Buffer.from(CANARY) };
  expect(sa.status?.contentHmac?.split(':')[3]).toBe(contentDigestByDoc(key.key, nsA, sa.metadata.uid ?? '', c));
  expect(sb.status?.contentHmac?.split(':')[3]).toBe(contentDigestByDoc(key.key, nsB, sb.metadata.uid ?? '', c));
  expect(sa.status?.contentHmac).toBe(contentHmac(objectMacKeys(key, nsA, sa.metadata.uid ?? '').content, c));
  expect(sb.status?.contentHmac).toBe(contentHmac(objectMacKeys(key, nsB, sb.metadata.uid ?? '').content, c));
  expect(sa.status?.contentHmac).not.toContain(contentHmac(key, c).split(':')[2]);
  // And the envelope's content-hmac annotation follows the same scheme.
  const sealed = await core.readNamespacedSecret({ name: 'sealed', namespace: nsA });
  expect(sealed.metadata?.annotations?.['secretsync.io/content-hmac']).toMatch(/^v2:hmac-sha256:/);
  expect(sealed.metadata?.annotations?.['secretsync.io/content-hmac']).not.toBe(sb.status?.contentHmac);
});

test('item 4, upgrade: a status with the old global-key HMAC is re-keyed by one status patch: same version, the Secret not written, no event', async () => {
  expect(await op?.stop()).toBe(0);
  const key = await rootKey();
  const before = await getSync(custom, nsA, 'db');
  // Written as the old main would have: HMAC-SHA256 under the operator key itself, no `v2:`.
  const legacy = contentHmac(key, { password: Buffer.from(CANARY) });
  await custom.patchNamespacedCustomObjectStatus({ ...G, namespace: nsA, plural: 'secretsyncs', name: 'db', body: { status: { contentHmac: legacy } } }, mergePatch);
  const secretRv = (await core.readNamespacedSecret({ name: 'db', namespace: nsA })).metadata?.resourceVersion;
  const eventsBefore = (await core.listNamespacedEvent({ namespace: nsA, fieldSelector: 'involvedObject.name=db' })).items.length;
  op = await started();
  const want = contentHmac(objectMacKeys(key, nsA, before.metadata.uid ?? '').content, { password: Buffer.from(CANARY) });
  const after = await eventually(async () => {
    const s = await getSync(custom, nsA, 'db');
    return s.status?.contentHmac === want ? s : undefined;
  }, { what: 'db re-keyed' });
  expect(after.status?.version).toBe(before.status?.version);
  expect(after.status?.lastSyncTime).toBe(before.status?.lastSyncTime);
  // The re-key seen; now whatever it leads to (the reconcile the watch event of its own status
  // write brings) done, the operator quiet: then count.
  await waitIdle(op as RunningOperator);
  expect((await core.readNamespacedSecret({ name: 'db', namespace: nsA })).metadata?.resourceVersion).toBe(secretRv);
  expect((await core.listNamespacedEvent({ namespace: nsA, fieldSelector: 'involvedObject.name=db' })).items.length).toBe(eventsBefore);
  const writes = await writesOf(op as RunningOperator);
  expect(Object.keys(writes).every((k) => k.includes('secretsyncs/status'))).toBe(true);
  expect(Object.values(writes).reduce((n, v) => n + v, 0)).toBe(1);
}, 60_000);

test('item 9: an envelope whose MAC names a key the operator does not hold (edited by a namespace editor) is repaired as altered, not re-MACed and kept', async () => {
  const s = await a.core.readNamespacedSecret({ name: 'sealed', namespace: nsA });
  const mac = s.metadata?.annotations?.[ENVELOPE_MAC_ANNOTATION] ?? '';
  const [, scheme, , digest] = mac.split(':');
  const current = Buffer.from(s.data?.current ?? '', 'base64').toString();
  const entryKey = `v${current}`;
  const entry = JSON.parse(Buffer.from(s.data?.[entryKey] ?? '', 'base64').toString()) as { values: Record<string, string>; wrappedKey: string };
  // The editor swaps in a ciphertext of its own and names a key id the operator never had.
  const forged = { ...entry, values: { password: Buffer.alloc(40, 7).toString('base64') } };
  await a.core.patchNamespacedSecret(
    {
      name: 'sealed',
      namespace: nsA,
      body: {
        metadata: { annotations: { [ENVELOPE_MAC_ANNOTATION]: `v2:${scheme}:AAAAAAAA:${digest}` } },
        data: { [entryKey]: Buffer.from(JSON.stringify(forged)).toString('base64') },
      },
    },
    mergePatch,
  );
  const before = await getSync(custom, nsA, 'sealed');
  const repaired = await eventually(async () => {
    const x = await core.readNamespacedSecret({ name: 'sealed', namespace: nsA });
    const m = x.metadata?.annotations?.[ENVELOPE_MAC_ANNOTATION] ?? '';
    return m.split(':')[2] !== 'AAAAAAAA' ? x : undefined;
  }, { what: 'envelope repaired' });
  const e = JSON.parse(Buffer.from(repaired.data?.[entryKey] ?? '', 'base64').toString()) as { values: Record<string, string>; wrappedKey: string };
  expect(e.values.password).not.toBe(forged.values.password); // not kept
  expect(e.wrappedKey).not.toBe(entry.wrappedKey); // sealed again under a fresh data key
  const after = await waitReady(custom, nsA, 'sealed', 'True');
  expect(after.status?.version).toBe(before.status?.version);
  // Events are recorded in the background after the writes: wait for it, not only for Ready.
  const updated = /updated Secret sealed to version \d+ \(target changed\)/;
  const messages = await eventually(async () => {
    const events = await core.listNamespacedEvent({ namespace: nsA, fieldSelector: 'involvedObject.name=sealed,reason=Updated' });
    const text = events.items.map((x) => x.message).join('\n');
    return updated.test(text) ? text : undefined;
  }, { what: 'the Updated (target changed) event' });
  expect(messages).toMatch(updated);
  await expectNoLeak({ core, custom }, nsA, op as RunningOperator, CANARY);
}, 60_000);

test("item 9: a SecretSync in the operator namespace naming the operator's own Secrets is refused, nothing written", async () => {
  const keyBefore = await core.readNamespacedSecret({ name: 'secretsync-hmac-key', namespace: opNs });
  await apply(sys.custom, source(opNs));
  await apply(sys.custom, sync(opNs, 'take-key', `${id}/guess`, { target: { name: 'secretsync-hmac-key' } }));
  await apply(sys.custom, sync(opNs, 'take-tls', `${id}/guess`, { target: { name: 'secretsync-webhook-tls' } }));
  for (const [name, target] of [['take-key', 'secretsync-hmac-key'], ['take-tls', 'secretsync-webhook-tls']]) {
    const s: SecretSync = await waitReady(sys.custom, opNs, name as string, 'False', 'TargetConflict');
    expect(readyCondition(s)?.message).toContain(`spec.target.name ${target} is one of the operator's own Secrets`);
    expect(readyCondition(s)?.message).toContain('Choose another spec.target.name');
  }
  const keyAfter = await core.readNamespacedSecret({ name: 'secretsync-hmac-key', namespace: opNs });
  expect(keyAfter.metadata?.resourceVersion).toBe(keyBefore.metadata?.resourceVersion);
  expect(keyAfter.metadata?.ownerReferences).toBeUndefined();
  await expect(core.readNamespacedSecret({ name: 'secretsync-webhook-tls', namespace: opNs })).rejects.toMatchObject({ code: 404 });
  expect(Object.keys(await secretData(core, opNs, 'secretsync-hmac-key'))).toEqual(['key']);
});

describe("item 9: a Secret squatting the name of one of the operator's own Secrets is not used", () => {
  const squat = async (suffix: string, name: string, type: string, data: Record<string, string>) => {
    const ns = `${id}-${suffix}`;
    await createNamespace(core, ns);
    // An editor of the namespace the operator is about to be installed in creates it first.
    const editor = await tenant(kc, ns, { extraRules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['create'] }] });
    await editor.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name }, type, data } });
    editor.release();
    return ns;
  };
  const refusedStart = async (o: RunningOperator, text: string) => {
    const code = await Promise.race([o.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 30_000))]);
    if (code === 'running') await o.stop();
    expect(code).not.toBe('running');
    expect(code).not.toBe(0);
    expect(o.logs.join('\n')).toContain(text);
  };

  test('the HMAC key: the operator refuses to start and says to delete it; the squatter\'s key is never used', async () => {
    const ns = await squat('sq-key', 'secretsync-hmac-key', 'Opaque', { key: Buffer.alloc(32, 1).toString('base64') });
    try {
      const o = await startOperator([`--operator-namespace=${ns}`, `--namespace=${nsA}`]);
      await refusedStart(o, `Secret ${ns}/secretsync-hmac-key is named like the root key of the HMACs in status, but the operator did not create it`);
      expect(o.logs.join('\n')).toContain(`kubectl -n ${ns} delete secret secretsync-hmac-key`);
    } finally {
      await deleteNamespace(core, ns);
    }
  }, 60_000);

  test('the webhook TLS Secret: the operator refuses to serve with it and registers no webhook trusting its CA', async () => {
    const pem = Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n').toString('base64');
    const ns = await squat('sq-tls', 'secretsync-webhook-tls', 'kubernetes.io/tls', { 'tls.crt': pem, 'tls.key': pem, 'ca.crt': pem, 'ca.key': pem });
    const configName = `${id}-squat`;
    try {
      const o = await startOperator([`--operator-namespace=${ns}`, `--namespace=${nsA}`], {}, { webhook: { configName } });
      await refusedStart(o, `Secret ${ns}/secretsync-webhook-tls is named like the injection webhook's TLS certificates and CA, but the operator did not create it`);
      const reg = kc.makeApiClient((await import('@kubernetes/client-node')).AdmissionregistrationV1Api);
      await expect(reg.readMutatingWebhookConfiguration({ name: configName })).rejects.toMatchObject({ code: 404 });
    } finally {
      await deleteNamespace(core, ns);
    }
  }, 60_000);
});
