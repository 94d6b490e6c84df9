// Faults while SecretSyncs sync, on the reliability stack of its own (global-setup.js): each
// fault is injected while Vault and AWS SecretSyncs refresh every 10 s and a Deployment rolls
// on one of them, held until something proves it bit (a refresh that read into it, a write
// it refused), then cleared with a change at the source. Judged by the invariants of
// invariants.ts, watched all along, and by the recovery time: from the moment the fault
// cleared to every SecretSync Ready again with the change synced. The table of figures goes
// to bench/results/reliability.md (report.ts).
//
// OpenBao (-dev) and moto keep their data in memory: a restarted one is seeded again with the
// same versions (KV versions written again in order; AWS version ids as ClientRequestTokens)
// before the operator may reach it, which is what a restart with persistent storage looks
// like. So the sources are reached through a TCP proxy (test/helpers/tcp-proxy.ts) that is
// down exactly while the server is (connections refused, as from a stopped server) and
// comes up once the data is back.
import { AppsV1Api, Watch, type V1Deployment } from '@kubernetes/client-node';
import { CreateKeyCommand, DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateSecretCommand, DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FORCE_SYNC_ANNOTATION } from '../../src/api/annotations.js';
import type { SecretSync } from '../../src/api/types.js';
import { deleteSecrets, keysData, keysRef, putSecret, secretsAdmin } from '../helpers/aws.js';
import { entriesByDoc, kmsContextByDoc, openByDoc, type DocSecret } from '../helpers/envelope-by-doc.js';
import { eventually } from '../helpers/eventually.js';
import { apply, createSecret, getSync, kube, patchSync, vaultTestNamespaces } from '../helpers/kube.js';
import { NO_NODE } from '../helpers/pods.js';
import { loggedAt, logLines, refreshRead, startOperator, waitForLogLines, waitIdle, type RunningOperator } from '../helpers/operator.js';
import { operatorIdentity } from '../helpers/rbac.js';
import { awsConfig, requireEnv, uniqueName } from '../helpers/stack.js';
import { startProxy, type Proxy } from '../helpers/tcp-proxy.js';
import { vaultRoot } from '../helpers/vault.js';
import { http } from '../testenv/http.js';
import { digestOfValues, InvariantWatch, ready, rollState, type Snapshot } from './invariants.js';
import { KvHistory, vaultHealthy } from './kv-history.js';
import { record, rows, writeTable } from './report.js';
import { compactEtcd, pause, reliabilityDir, resume, start, stop } from './stack-faults.js';

const { kc, core, custom } = kube();
const apps = kc.makeApiClient(AppsV1Api);
const id = uniqueName('rel');
const ns = `${id}-apps`;
const opNs = `${id}-system`;
const VAULT = ['v-0', 'v-1', 'v-2', 'v-roll'];
const AWS = ['a-0', 'a-1'];
const CRASH = 'r-crash';
const ALL = [...VAULT, ...AWS, CRASH];
/** Envelope mode (Vault Transit), for its own fault only: Transit keys do not survive an OpenBao -dev restart. */
const ENVELOPE = 'e-0';
/** Envelope mode with AWS KMS, for its own fault (KMS unreachable). */
const KMS_ENVELOPE = 'k-0';
/** Envelope mode, data from moto and the KEK in Vault Transit: OpenBao paused while it seals. */
const SEAL_ENVELOPE = 't-0';
/** No refresh schedule: a change reaches it only through the watch (the silent-watch fault). */
const WATCH_ONLY = 'w-0';
const ENVELOPES = [ENVELOPE, KMS_ENVELOPE, SEAL_ENVELOPE];
/** The SecretSyncs the invariants are watched on: ALL, and each fault's own while it exists. */
const watched = [...ALL];
const DEPLOYMENT = 'web';
/** Refresh interval of every SecretSync (the shortest the validator allows). */
const REFRESH_S = 10;
/**
 * The bound on recovery: the change made as the fault clears is seen at the next refresh
 * tick (at most one interval) unless the key is in retry backoff, which by then may have
 * grown to about the fault's length; two intervals and 10 s of slack cover both.
 */
const BOUND_MS = 2 * REFRESH_S * 1000 + 10_000;
/** A killed leader: the Lease (15 s) must expire before the follower leads. */
const LEADER_BOUND_MS = BOUND_MS + 15_000;

let op: RunningOperator;
let vaultProxy: Proxy;
let awsProxy: Proxy;
let watch: InvariantWatch;
const sm = () => secretsAdmin();
const vaultAddr = () => requireEnv('VAULT_ADDR');
const hostPort = (url: string) => {
  const u = new URL(url);
  return [u.hostname, Number(u.port)] as const;
};
const value = () => randomBytes(12).toString('hex');

// What the sources hold, in order of writing (values never printed): to seed a restarted
// server with the same versions, and to know the digest a Secret must reach.
const kv = new KvHistory();
const awsCurrent = new Map<string, { versionId: string; data: Record<string, string> }>();
const kvPath = (sync: string) => `${id}/${sync}`;
const awsName = (sync: string) => `${id}-${sync}`;
const kvWrite = (sync: string, data: Record<string, string>) => kv.write(kvPath(sync), data);
async function awsWrite(sync: string, data: Record<string, string>, create = false): Promise<void> {
  const versionId = create
    ? ((await sm().send(new CreateSecretCommand({ Name: awsName(sync), SecretString: JSON.stringify(data) }))).VersionId ?? '')
    : await putSecret(sm(), awsName(sync), data);
  awsCurrent.set(sync, { versionId, data });
}
const expectedDigest = (sync: string) =>
  kv.has(kvPath(sync)) ? kv.digest(kvPath(sync)) : digestOfValues(awsCurrent.get(sync)?.data ?? {});

const reseedVault = () => kv.reseed();
async function reseedAws(): Promise<void> {
  for (const [sync, cur] of awsCurrent) {
    await sm().send(new CreateSecretCommand({ Name: awsName(sync), SecretString: JSON.stringify(cur.data), ClientRequestToken: cur.versionId }));
    const d = await sm().send(new DescribeSecretCommand({ SecretId: awsName(sync) }));
    if (!d.VersionIdsToStages?.[cur.versionId]?.includes('AWSCURRENT')) throw new Error(`moto did not keep version id ${cur.versionId} of ${awsName(sync)}`);
  }
}

const motoHealthy = async () => {
  await sm().send(new DescribeSecretCommand({ SecretId: 'none' })).catch((e: Error) => {
    if (e.name !== 'ResourceNotFoundException') throw e;
  });
  return true;
};
const apiserverHealthy = async () => {
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  const b64 = (s?: string) => Buffer.from(s ?? '', 'base64').toString('utf8');
  const r = await http(`${cluster?.server}/readyz`, { ca: b64(cluster?.caData), cert: b64(user?.certData), key: b64(user?.keyData) });
  return r.status === 200;
};

const args = (...extra: string[]) => [`--namespace=${ns}`, `--operator-namespace=${opNs}`, ...extra];
async function startOp(extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunningOperator> {
  const o = await startOperator(args(...extra), env);
  await waitForLogLines(o, ['"caches synced"'], { timeoutMs: 60_000 });
  return o;
}

function vaultSync(name: string, extra: Record<string, unknown> = {}) {
  return {
    kind: 'SecretSync',
    metadata: { name, namespace: ns },
    spec: {
      sourceRef: { name: 'vault' },
      data: ['password', 'user'].map((key) => ({ key, remoteRef: { path: kvPath(name), property: key } })),
      refresh: { interval: `${REFRESH_S}s` },
      ...extra,
    },
  };
}
function awsSync(name: string, extra: Record<string, unknown> = {}) {
  return {
    kind: 'SecretSync',
    metadata: { name, namespace: ns },
    spec: { sourceRef: { name: 'aws' }, dataFrom: [{ remoteRef: { path: awsName(name) } }], refresh: { interval: `${REFRESH_S}s` }, ...extra },
  };
}
const deployment: V1Deployment = {
  metadata: { name: DEPLOYMENT, namespace: ns },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: DEPLOYMENT } },
    template: {
      metadata: { labels: { app: DEPLOYMENT } },
      spec: { ...NO_NODE, containers: [{ name: 'app', image: 'registry.example/app:1', volumeMounts: [{ name: 's', mountPath: '/etc/s' }] }], volumes: [{ name: 's', secret: { secretName: 'v-roll' } }] },
    },
  },
};

/**
 * Every watched SecretSync Ready, and each of `changed` synced: its status at a new version,
 * its Secret holding the new content (but an envelope one's, which is ciphertext).
 */
const allReady = (snap: Snapshot, changed: string[], before?: Snapshot) =>
  watched.every((n) => {
    const s = snap.syncs.find((x) => x.metadata.name === n);
    const synced = (snap.versions[n] ?? 0) > (before?.versions[n] ?? 0) && (ENVELOPES.includes(n) || snap.secrets[n]?.digest === expectedDigest(n));
    return s && ready(s) && !s.status?.pendingRotation && (!changed.includes(n) || synced);
  });

interface Fault {
  name: string;
  /** Injects the fault and waits for proof that it bit; returns what proved it. */
  inject(): Promise<string>;
  /**
   * Clears it (the component back and healthy); makes the change the operator must then sync.
   * Returns when the fault cleared (epoch ms) if not when it returns: a new operator process
   * counts from its start.
   */
  clear(): Promise<number | void>;
  /** SecretSyncs whose source changes at the fault: each must get exactly one new version. */
  changed: string[];
  boundMs?: number;
  /** Other SecretSyncs allowed one new version (a rotation). */
  rotated?: string[];
  /** How long the fault lasted, when the operator itself ends it rather than clear() (ms; after clear() returned). */
  heldMs?: () => number;
}

/** Runs one fault under the invariants and records its row; fails the test when an invariant broke. */
async function runFault(f: Fault): Promise<void> {
  await waitIdle(op, { quietMs: 1000 });
  const before = await watch.poll();
  const roll0 = await rollState(apps, ns, DEPLOYMENT, 'v-roll');
  const injectedAt = Date.now();
  let proof = '';
  let clearedAt = 0;
  try {
    proof = await f.inject();
  } finally {
    // Cleared even when the proof never came: no later test may meet a stopped component.
    clearedAt = (await f.clear()) ?? Date.now();
  }
  const bound = f.boundMs ?? BOUND_MS;
  let recoveryMs: number | undefined;
  const broken: string[] = [];
  try {
    await eventually(async () => (allReady(await watch.poll(), f.changed, before) ? true : undefined), {
      timeoutMs: bound + 60_000,
      intervalMs: 100,
      what: `every SecretSync Ready${f.changed.length ? ` and ${f.changed.join(', ')} synced` : ''} after ${f.name}`,
    });
    recoveryMs = Date.now() - clearedAt;
  } catch (err) {
    broken.push((err as Error).message);
  }
  await waitIdle(op, { quietMs: 1500, timeoutMs: 60_000 }).catch(() => broken.push('the operator never went quiet'));
  const after = await watch.poll();
  for (const n of watched) {
    const grew = (after.versions[n] ?? 0) - (before.versions[n] ?? 0);
    const expected = f.changed.includes(n) || f.rotated?.includes(n) ? 1 : 0;
    if (grew !== expected) broken.push(`${n}: ${grew} new versions, expected ${expected}`);
    if (expected === 0 && after.secrets[n]?.resourceVersion !== before.secrets[n]?.resourceVersion) broken.push(`Secret ${n} written, its content unchanged`);
  }
  const roll = await rollState(apps, ns, DEPLOYMENT, 'v-roll');
  const rolls = (after.versions['v-roll'] ?? 0) - (before.versions['v-roll'] ?? 0);
  if (roll.generation - roll0.generation !== rolls) broken.push(`${DEPLOYMENT}: ${roll.generation - roll0.generation} template changes for ${rolls} new versions`);
  if (roll.replicaSets - roll0.replicaSets !== rolls) broken.push(`${DEPLOYMENT}: ${roll.replicaSets - roll0.replicaSets} new ReplicaSets for ${rolls} new versions`);
  if (rolls > 0 && roll.templateVersion !== after.versions['v-roll']) broken.push(`${DEPLOYMENT}: template on version ${roll.templateVersion}, v-roll on ${after.versions['v-roll']}`);
  if (recoveryMs !== undefined && recoveryMs > bound) broken.push(`recovered in ${recoveryMs} ms, over the bound of ${bound} ms`);
  broken.push(...watch.violations.splice(0));
  record({
    fault: f.name,
    invariants: broken.length ? `BROKEN: ${broken.join('; ')}` : 'held',
    recoveryMs,
    boundMs: bound,
    notes: `fault held ${((f.heldMs?.() ?? clearedAt - injectedAt) / 1000).toFixed(1)} s; ${proof}`,
  });
  expect(broken).toEqual([]);
}

/** Waits for refresh reads of `count` SecretSyncs logged from index `from` on: the operator reaching into the fault. */
const refreshesFrom = (from: number, syncs: string[], count = 1) =>
  eventually(
    async () => {
      const hit = syncs.filter((n) => op.logs.slice(from).some((l) => refreshRead(ns, n).every((p) => l.includes(p))));
      return hit.length >= count ? hit : undefined;
    },
    { timeoutMs: (REFRESH_S + 20) * 1000, intervalMs: 100, what: `refresh reads of ${count} of ${syncs.join(', ')}` },
  );
/** Waits until one of `syncs` says Ready=False: the fault reached status. */
const someNotReady = (syncs: string[], timeoutMs = 60_000) =>
  eventually(
    async () => {
      const list = (await custom.listNamespacedCustomObject({ group: 'secretsync.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs' })) as { items: SecretSync[] };
      const down = list.items.find((s) => syncs.includes(s.metadata.name) && s.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False');
      return down ? `${down.metadata.name} Ready=False (${down.status?.conditions?.find((c) => c.type === 'Ready')?.reason})` : undefined;
    },
    { timeoutMs, intervalMs: 200, what: `one of ${syncs.join(', ')} Ready=False` },
  );

beforeAll(async () => {
  vaultProxy = await startProxy(...hostPort(vaultAddr()));
  awsProxy = await startProxy(...hostPort(awsConfig().endpoint));
  await vaultTestNamespaces({ kc, core, custom }, ns, opNs, `http://127.0.0.1:${vaultProxy.port}`);
  await createSecret(core, ns, 'aws-keys', keysData(awsConfig().credentials));
  await apply(custom, {
    kind: 'SecretSource',
    metadata: { name: 'aws', namespace: ns },
    spec: { aws: { region: awsConfig().region, endpoint: `http://127.0.0.1:${awsProxy.port}`, auth: keysRef('aws-keys') } },
  });
  for (const n of [...VAULT, CRASH]) await kvWrite(n, { password: value(), user: 'app' });
  for (const n of AWS) await awsWrite(n, { password: value(), user: 'app' }, true);
  op = await startOp();
  for (const n of VAULT) await apply(custom, vaultSync(n, n === 'v-roll' ? { rollout: { auto: true } } : {}));
  await apply(custom, vaultSync(CRASH, { rotation: { schedule: '0 0 1 1 *', keys: ['password'] } }));
  for (const n of AWS) await apply(custom, awsSync(n));
  await apps.createNamespacedDeployment({ namespace: ns, body: deployment });
  await eventually(async () => (allReady(await new InvariantWatch({ core, custom }, ns, () => ALL).poll(), ALL) ? true : undefined), {
    timeoutMs: 60_000,
    what: 'every SecretSync Ready',
  });
  await eventually(async () => ((await rollState(apps, ns, DEPLOYMENT, 'v-roll')).replicaSets === 1 ? true : undefined), { what: 'the first ReplicaSet' });
  watch = new InvariantWatch({ core, custom }, ns, () => watched);
  watch.start();
}, 180_000);

const afterAllKeep: (() => void)[] = [];
afterAll(async () => {
  for (const keep of afterAllKeep) keep();
  await watch?.stop();
  await op?.stop('SIGKILL');
  await vaultProxy?.down();
  await awsProxy?.down();
  await deleteSecrets(sm(), AWS.map(awsName)).catch(() => undefined);
  if (rows.length) writeTable();
});

test('Vault Transit unavailable in envelope mode (the key denied by policy), then allowed again', async () => {
  const root = vaultRoot();
  const transit = `transit-${id}`;
  await root.write(`sys/mounts/${transit}`, { type: 'transit' });
  await root.write(`${transit}/keys/kek`, { type: 'aes256-gcm96' });
  // The operator's policy as docs/envelope.md gives it; without its Transit paths while the fault lasts.
  const policy = (transitAllowed: boolean) =>
    root.write(`sys/policy/${id}-envelope`, {
      policy: [
        `path "secret/data/${id}/*" { capabilities = ["read"] }`,
        ...(transitAllowed
          ? [`path "${transit}/datakey/plaintext/kek" { capabilities = ["update"] }`, `path "${transit}/rewrap/kek" { capabilities = ["update"] }`, `path "${transit}/keys/kek" { capabilities = ["read"] }`]
          : []),
      ].join('\n'),
    });
  await policy(true);
  const token = ((await root.write('auth/token/create', { policies: [`${id}-envelope`], ttl: '2h' })) as { auth: { client_token: string } }).auth.client_token;
  await createSecret(core, ns, 'vault-envelope-token', { token });
  await apply(custom, {
    kind: 'SecretSource',
    metadata: { name: 'vault-envelope', namespace: ns },
    spec: { vault: { address: `http://127.0.0.1:${vaultProxy.port}`, auth: { token: { secretRef: { name: 'vault-envelope-token', key: 'token' } } } } },
  });
  await kvWrite(ENVELOPE, { password: value(), user: 'app' });
  const kek = { vaultTransit: { sourceRef: { name: 'vault-envelope' }, mount: transit, key: 'kek', agentAuth: { kubernetes: { role: 'app' } } } };
  await apply(custom, vaultSync(ENVELOPE, { sourceRef: { name: 'vault-envelope' }, target: { encryption: { kek } } }));
  await eventually(async () => (ready(await getSync(custom, ns, ENVELOPE)) ? true : undefined), { what: `${ENVELOPE} Ready` });
  watched.push(ENVELOPE);
  await runFault({
    name: 'Vault Transit unavailable in envelope mode (key policy denied)',
    changed: [ENVELOPE],
    inject: async () => {
      await policy(false);
      await kvWrite(ENVELOPE, { password: value(), user: 'app' });
      return await someNotReady([ENVELOPE]);
    },
    clear: async () => {
      await policy(true);
    },
  });
  // Gone before OpenBao restarts (its Transit key would not survive it); no longer watched.
  watched.splice(watched.indexOf(ENVELOPE), 1);
  kv.forget(kvPath(ENVELOPE));
  await custom.deleteNamespacedCustomObject({ group: 'secretsync.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs', name: ENVELOPE });
}, 240_000);

test('OpenBao stopped mid-refresh, then started again', async () => {
  let stopped: Awaited<ReturnType<typeof stop>>;
  await runFault({
    name: 'OpenBao stopped mid-refresh, restarted',
    changed: ['v-roll'],
    inject: async () => {
      const from = op.logs.length;
      stopped = await stop('openbao', 0);
      await vaultProxy.down();
      await refreshesFrom(from, VAULT, 2);
      return await someNotReady(VAULT);
    },
    clear: async () => {
      await start(stopped, vaultHealthy);
      await reseedVault();
      await kvWrite('v-roll', { password: value(), user: 'app' });
      await vaultProxy.up();
    },
  });
}, 240_000);

test('OpenBao paused (SIGSTOP: connections hang), then resumed', async () => {
  await runFault({
    name: 'OpenBao paused (SIGSTOP) mid-refresh, resumed',
    changed: ['v-roll'],
    inject: async () => {
      const from = op.logs.length;
      pause('openbao');
      const hung = await refreshesFrom(from, VAULT, 2);
      return `refresh reads of ${hung.join(', ')} hung`;
    },
    clear: async () => {
      resume('openbao');
      const at = Date.now();
      await eventually(async () => ((await vaultHealthy()) ? true : undefined), { what: 'OpenBao answering' });
      await kvWrite('v-roll', { password: value(), user: 'app' });
      return at;
    },
  });
}, 240_000);

test('moto stopped mid-refresh, then started again', async () => {
  let stopped: Awaited<ReturnType<typeof stop>>;
  await runFault({
    name: 'moto stopped mid-refresh, restarted',
    changed: ['a-0'],
    inject: async () => {
      const from = op.logs.length;
      stopped = await stop('moto', 0);
      await awsProxy.down();
      await refreshesFrom(from, AWS, 2);
      return await someNotReady(AWS);
    },
    clear: async () => {
      await start(stopped, motoHealthy);
      await reseedAws();
      await awsWrite('a-0', { password: value(), user: 'app' });
      await awsProxy.up();
    },
  });
}, 240_000);

test('kube-apiserver stopped while a source changes, then started again', async () => {
  let stopped: Awaited<ReturnType<typeof stop>>;
  await runFault({
    name: 'kube-apiserver restarted (down while a source changed)',
    changed: ['v-roll'],
    inject: async () => {
      stopped = await stop('kube-apiserver');
      await kvWrite('v-roll', { password: value(), user: 'app' });
      const from = op.logs.length;
      await refreshesFrom(from, ['v-roll'], 1);
      return 'v-roll read its new value while the API server was down';
    },
    clear: async () => {
      await start(stopped, apiserverHealthy, 90_000);
    },
  });
}, 240_000);

test('kube-apiserver paused (SIGSTOP) while a source changes, then resumed', async () => {
  await runFault({
    name: 'kube-apiserver paused (SIGSTOP) while a source changed, resumed',
    changed: ['v-roll'],
    inject: async () => {
      pause('kube-apiserver');
      await kvWrite('v-roll', { password: value(), user: 'app' });
      const from = op.logs.length;
      // Not v-roll's own read: its key may be held by a write hanging on the paused server.
      const read = await refreshesFrom(from, VAULT, 1);
      return `refresh reads of ${read.join(', ')} while the API server hung`;
    },
    clear: async () => {
      resume('kube-apiserver');
      const at = Date.now();
      await eventually(async () => ((await apiserverHealthy()) ? true : undefined), { what: 'the API server answering' });
      return at;
    },
  });
}, 240_000);

test('etcd compacted while the operator is away and objects change: its watches get 410 Gone', async () => {
  const token = `compacted-${Date.now()}`;
  let from = 0;
  // The operator's lines of this fault, for a post-mortem (its logs hold no secret value).
  const paused = op;
  const keep = () => writeFileSync(join(reliabilityDir(), 'logs', 'operator-compaction.log'), paused.logs.slice(from).join('\n'));
  afterAllKeep.push(keep);
  await runFault({
    name: 'etcd compacted while objects changed (watches 410 Gone)',
    changed: ['v-1'],
    inject: async () => {
      // The operator paused keeps its last resourceVersions; the API server restarted drops its
      // watches and its watch cache, and etcd compacted past those versions: every re-watch is refused.
      op.proc.kill('SIGSTOP');
      from = op.logs.length;
      const stopped = await stop('kube-apiserver');
      await start(stopped, apiserverHealthy, 90_000);
      await kvWrite('v-1', { password: value(), user: 'app' });
      await patchSync(custom, ns, 'v-1', { metadata: { annotations: { [FORCE_SYNC_ANNOTATION]: token } } });
      const revision = await compactEtcd();
      return `etcd compacted at revision ${revision} after the API server's restart and a change`;
    },
    clear: async () => {
      op.proc.kill('SIGCONT');
    },
  });
  const informer = op.logs.slice(from).filter((l) => l.includes('"msg":"informer"'));
  const gone = informer.filter((l) => l.includes('"event":"gone"')).length;
  const events = [...new Set(informer.map((l) => /"event":"([^"]+)"/.exec(l)?.[1]))].join(', ');
  console.log(`compaction: ${gone} watches answered 410 Gone and relisted (informer events: ${events})`);
  expect(gone).toBeGreaterThan(0);
  expect((await custom.getNamespacedCustomObject({ group: 'secretsync.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs', name: 'v-1' }) as SecretSync).status?.forceSyncHandled).toBe(token);
}, 240_000);

test('the leader killed with a change pending, two operator processes', async () => {
  await op.stop();
  const lease = `${id}-leader`;
  // Not startOp: a follower waits for the Lease before it says its caches are synced.
  const pair = [await startOperator(args('--leader-elect', `--leader-election-id=${lease}`)), await startOperator(args('--leader-elect', `--leader-election-id=${lease}`))];
  const leader = await eventually(async () => pair.find((o) => o.logs.some((l) => l.includes('became leader'))), { what: 'a leader' });
  const follower = pair.find((o) => o !== leader) as RunningOperator;
  op = leader;
  await runFault({
    name: 'leader killed with a change pending (2 operator processes)',
    changed: ['v-roll'],
    boundMs: LEADER_BOUND_MS,
    inject: async () => {
      // Killed as the source changes: the leader (which would read it within 100 ms of its
      // refresh log line, faster than a test can kill it) leaves it to the follower.
      await kvWrite('v-roll', { password: value(), user: 'app' });
      leader.proc.kill('SIGKILL');
      op = follower;
      return 'SIGKILL right after the source changed';
    },
    clear: async () => {
      await leader.exited;
    },
  });
  expect(follower.logs.some((l) => l.includes('became leader'))).toBe(true);
}, 240_000);

test('the operator killed between a rotation\'s source write and its status write', async () => {
  const kvVersion = async () => ((await vaultRoot().read(`secret/metadata/${kvPath(CRASH)}`)).data as { current_version: number }).current_version;
  const kv0 = await kvVersion();
  await runFault({
    name: 'operator killed between a rotation\'s source write and its status write',
    changed: [],
    rotated: [CRASH],
    inject: async () => {
      await op.stop();
      const faulty = await startOp([], { SECRETSYNC_TEST_FAULT: 'exit-after-rotation-write' });
      await patchSync(custom, ns, CRASH, { metadata: { annotations: { 'secretsync.io/rotate-now': `crash-${Date.now()}` } } });
      const code = await faulty.exited;
      if (code !== 86) throw new Error(`the faulty operator exited with ${code}, not on the injected fault (86)`);
      return 'exited (86) right after the KV write';
    },
    clear: async () => {
      const at = Date.now();
      op = await startOp();
      return at;
    },
  });
  // Exactly one KV version written, and the Secret holds it.
  expect(await kvVersion()).toBe(kv0 + 1);
  const kv = (await vaultRoot().read(`secret/data/${kvPath(CRASH)}`)).data.data as Record<string, string>;
  const s = await core.readNamespacedSecret({ name: CRASH, namespace: ns });
  const synced = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  expect(digestOfValues(synced) === digestOfValues(kv)).toBe(true);
}, 240_000);

test('the operator killed between a Secret write and its rollout patch', async () => {
  await runFault({
    name: 'operator killed between a Secret write and its rollout patch',
    changed: ['v-roll'],
    inject: async () => {
      await op.stop();
      const faulty = await startOp([], { SECRETSYNC_TEST_FAULT: 'exit-before-rollout-patch' });
      await kvWrite('v-roll', { password: value(), user: 'app' });
      const code = await faulty.exited;
      if (code !== 86) throw new Error(`the faulty operator exited with ${code}, not on the injected fault (86)`);
      return 'exited (86) after the Secret write, before the rollout patch';
    },
    clear: async () => {
      const at = Date.now();
      op = await startOp();
      return at;
    },
  });
}, 240_000);

/**
 * What an envelope Secret must never hold: a value written to its source, raw or in base64
 * (checked in the Secret's data and in what that data decodes to). Names the Secret, never the value.
 */
async function envelopeProblems(name: string, values: string[]): Promise<string[]> {
  const s = await core.readNamespacedSecret({ name, namespace: ns });
  const problems: string[] = [];
  if (s.type !== 'secretsync.io/envelope') problems.push(`Secret ${name} of type ${s.type}, not an envelope`);
  const held = Object.values(s.data ?? {})
    .map((v) => `${v}\n${Buffer.from(v, 'base64').toString('latin1')}`)
    .join('\n');
  if (values.some((v) => held.includes(v) || held.includes(Buffer.from(v).toString('base64')))) problems.push(`Secret ${name} holds a source value in plaintext`);
  return problems;
}

/** The current entry of envelope Secret `name`, opened by the document's decoder with `unwrap`: its version and the digest of its values. */
async function openCurrent(name: string, unwrap: (wrapped: string) => Promise<Buffer>): Promise<{ version: number; digest: string }> {
  const s = (await core.readNamespacedSecret({ name, namespace: ns })) as unknown as DocSecret;
  const { current } = entriesByDoc(s);
  const opened = openByDoc(s, name, current, await unwrap(current.wrappedKey));
  return { version: current.version, digest: digestOfValues(Object.fromEntries(Object.entries(opened).map(([k, v]) => [k, v.toString('utf8')]))) };
}

/** Stops watching SecretSync `name` and deletes it: its fault is over. */
async function retire(name: string): Promise<void> {
  watched.splice(watched.indexOf(name), 1);
  await custom.deleteNamespacedCustomObject({ group: 'secretsync.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs', name });
}

test('AWS KMS unreachable in envelope mode (its endpoint down while a change is pending), then back', async () => {
  // KMS reached through a SecretSource of its own, behind a proxy of its own: KMS gone (a
  // regional outage, a VPC endpoint removed: connections fail) while Secrets Manager answers,
  // so the change is read and only the seal fails. The permission side (a KEK denied) is the
  // Transit fault above; moto enforces no key policy, and a disabled key is refused at once.
  const aws = awsConfig();
  const kmsProxy = await startProxy(...hostPort(aws.endpoint));
  afterAllKeep.push(() => void kmsProxy.down());
  const kms = new KMSClient({ region: aws.region, endpoint: aws.endpoint, credentials: aws.credentials });
  const keyId = (await kms.send(new CreateKeyCommand({ Description: `${id} KEK` }))).KeyMetadata?.KeyId;
  await apply(custom, {
    kind: 'SecretSource',
    metadata: { name: 'aws-kms', namespace: ns },
    spec: { aws: { region: aws.region, endpoint: `http://127.0.0.1:${kmsProxy.port}`, auth: keysRef('aws-keys') } },
  });
  const written: string[] = [];
  const write = async (create = false) => {
    const password = value();
    written.push(password);
    await awsWrite(KMS_ENVELOPE, { password, user: 'app' }, create);
  };
  await write(true);
  await apply(custom, awsSync(KMS_ENVELOPE, { target: { encryption: { kek: { awsKms: { sourceRef: { name: 'aws-kms' }, keyId } } } } }));
  await eventually(async () => (ready(await getSync(custom, ns, KMS_ENVELOPE)) ? true : undefined), { what: `${KMS_ENVELOPE} Ready` });
  watched.push(KMS_ENVELOPE);
  const unwrap = async (wrapped: string) =>
    Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from(wrapped, 'base64'), EncryptionContext: kmsContextByDoc(ns, KMS_ENVELOPE) }))).Plaintext as Uint8Array);
  await runFault({
    name: 'AWS KMS unreachable in envelope mode (its endpoint down)',
    changed: [KMS_ENVELOPE],
    inject: async () => {
      const before = await core.readNamespacedSecret({ name: KMS_ENVELOPE, namespace: ns });
      await kmsProxy.down();
      await write();
      const down = await someNotReady([KMS_ENVELOPE]);
      // While it lasts: the last good ciphertext, untouched, and no plaintext.
      const during = await core.readNamespacedSecret({ name: KMS_ENVELOPE, namespace: ns });
      const problems = await envelopeProblems(KMS_ENVELOPE, written);
      if (during.metadata?.resourceVersion !== before.metadata?.resourceVersion) problems.push(`Secret ${KMS_ENVELOPE} written while KMS was down`);
      if (problems.length) throw new Error(problems.join('; '));
      return `${down}; its Secret kept its last ciphertext`;
    },
    clear: async () => {
      await kmsProxy.up();
    },
  });
  // Sealed once more, completely: the current entry is the new version and opens to the new value.
  expect(await envelopeProblems(KMS_ENVELOPE, written)).toEqual([]);
  const opened = await openCurrent(KMS_ENVELOPE, unwrap);
  expect(opened.version).toBe((await getSync(custom, ns, KMS_ENVELOPE)).status?.version);
  expect(opened.digest === expectedDigest(KMS_ENVELOPE)).toBe(true);
  await retire(KMS_ENVELOPE);
  kms.destroy();
}, 240_000);

test('OpenBao paused (SIGSTOP) while the operator seals a new version with Vault Transit, then resumed', async () => {
  // The data comes from moto, the KEK is a Transit key: the refresh reads the change, then
  // its data-key call to the paused OpenBao hangs. (A new Transit mount: the first one did
  // not survive OpenBao's restart, nor would this one; so the fault pauses, not restarts.)
  const root = vaultRoot();
  const transit = `transit-seal-${id}`;
  await root.write(`sys/mounts/${transit}`, { type: 'transit' });
  await root.write(`${transit}/keys/kek`, { type: 'aes256-gcm96' });
  await root.write(`sys/policy/${id}-seal`, {
    policy: [`path "${transit}/datakey/plaintext/kek" { capabilities = ["update"] }`, `path "${transit}/rewrap/kek" { capabilities = ["update"] }`, `path "${transit}/keys/kek" { capabilities = ["read"] }`].join('\n'),
  });
  const token = ((await root.write('auth/token/create', { policies: [`${id}-seal`], ttl: '2h' })) as { auth: { client_token: string } }).auth.client_token;
  await createSecret(core, ns, 'vault-seal-token', { token });
  // Its own proxy: what the operator asks OpenBao for this KEK is seen there (plain http).
  const sealProxy = await startProxy(...hostPort(vaultAddr()));
  afterAllKeep.push(() => void sealProxy.down());
  await apply(custom, {
    kind: 'SecretSource',
    metadata: { name: 'vault-seal', namespace: ns },
    spec: { vault: { address: `http://127.0.0.1:${sealProxy.port}`, auth: { token: { secretRef: { name: 'vault-seal-token', key: 'token' } } } } },
  });
  const written: string[] = [];
  const write = async (create = false) => {
    const password = value();
    written.push(password);
    await awsWrite(SEAL_ENVELOPE, { password, user: 'app' }, create);
  };
  await write(true);
  const kek = { vaultTransit: { sourceRef: { name: 'vault-seal' }, mount: transit, key: 'kek', agentAuth: { kubernetes: { role: 'app' } } } };
  await apply(custom, awsSync(SEAL_ENVELOPE, { target: { encryption: { kek } } }));
  await eventually(async () => (ready(await getSync(custom, ns, SEAL_ENVELOPE)) ? true : undefined), { what: `${SEAL_ENVELOPE} Ready` });
  watched.push(SEAL_ENVELOPE);
  // Every write of the envelope Secret, as the API server tells it (a poll could miss two close ones).
  const writes: string[] = [];
  const secretWatch = await new Watch(kc).watch(
    `/api/v1/namespaces/${ns}/secrets`,
    { fieldSelector: `metadata.name=${SEAL_ENVELOPE}` },
    (type: string, obj: { metadata?: { resourceVersion?: string } }) => {
      if (type === 'MODIFIED') writes.push(obj.metadata?.resourceVersion ?? '');
    },
    () => undefined,
  );
  let writesDuring = -1;
  try {
    await runFault({
      name: 'OpenBao paused (SIGSTOP) while sealing a new version (Vault Transit)',
      changed: [SEAL_ENVELOPE],
      inject: async () => {
        let asked = '';
        let answered = 0;
        const untap = sealProxy.tap((direction, chunk) => {
          if (direction === 'sent') asked += chunk.toString('latin1');
          else answered += chunk.length;
        });
        const fromLog = op.logs.length;
        pause('openbao');
        try {
          await write();
          // A request for this KEK sent to the paused OpenBao, and 3 s on still no byte back.
          let since = 0;
          const hung = await eventually(
            async () => {
              const requests = [...asked.matchAll(/(?:GET|POST|PUT) (\/v1\/[^ ?]+)/g)].map((m) => m[1]);
              if (requests.length === 0 || answered > 0) return undefined;
              since ||= Date.now();
              return Date.now() - since >= 3000 ? requests : undefined;
            },
            { timeoutMs: (REFRESH_S + 20) * 1000, intervalMs: 100, what: `a request of ${SEAL_ENVELOPE}'s KEK hanging on the paused OpenBao` },
          );
          // Held past the operator's --source-timeout (15 s): the call given up, the status says so.
          const down = await someNotReady([SEAL_ENVELOPE]);
          writesDuring = writes.length;
          const minted = logLines(op, ['"minted a data key"', `"secretsync":"${ns}/${SEAL_ENVELOPE}"`], fromLog).length;
          if (minted > 0) throw new Error(`${SEAL_ENVELOPE}: a data key minted while OpenBao was paused`);
          return `${hung.join(', ')} hung (no byte back), then ${down}`;
        } finally {
          untap();
        }
      },
      clear: async () => {
        resume('openbao');
        const at = Date.now();
        await eventually(async () => ((await vaultHealthy()) ? true : undefined), { what: 'OpenBao answering' });
        return at;
      },
    });
  } finally {
    secretWatch.abort();
  }
  // Nothing half-written: no write while it hung; then one, whose current entry is the new
  // version (status agrees) and opens to the new value; the Secret never held plaintext.
  expect(writesDuring).toBe(0);
  expect(writes).toHaveLength(1);
  expect(await envelopeProblems(SEAL_ENVELOPE, written)).toEqual([]);
  const unwrap = async (wrapped: string) => Buffer.from(((await root.write(`${transit}/decrypt/kek`, { ciphertext: wrapped })) as { data: { plaintext: string } }).data.plaintext, 'base64');
  const opened = await openCurrent(SEAL_ENVELOPE, unwrap);
  expect(opened.version).toBe((await getSync(custom, ns, SEAL_ENVELOPE)).status?.version);
  expect(opened.digest === expectedDigest(SEAL_ENVELOPE)).toBe(true);
  await retire(SEAL_ENVELOPE);
}, 240_000);

/** The operator's watchdog period in the silent-watch fault: above the API server's bookmark period (about a minute), so a quiet healthy watch never trips it. */
const SILENCE_MS = 75_000;

test('a watch that goes silent without closing: the API server reached through a proxy that stops forwarding', async () => {
  const o = { ...vaultSync(WATCH_ONLY) };
  delete (o.spec as Partial<typeof o.spec>).refresh;
  await kvWrite(WATCH_ONLY, { password: value(), user: 'app' });
  await apply(custom, o);
  await eventually(async () => (ready(await getSync(custom, ns, WATCH_ONLY)) ? true : undefined), { what: `${WATCH_ONLY} Ready` });
  watched.push(WATCH_ONLY);
  // An operator whose every connection to the API server passes the proxy (its own identity,
  // its kubeconfig's server swapped); TLS end to end, the proxy only moves bytes.
  const server = kc.getCurrentCluster()?.server ?? '';
  const apiProxy = await startProxy(...hostPort(server));
  const identity = await operatorIdentity(opNs);
  const kubeconfig = join(dirname(identity.kubeconfig), 'kubeconfig-proxied');
  writeFileSync(kubeconfig, readFileSync(identity.kubeconfig, 'utf8').replace(server, `https://127.0.0.1:${apiProxy.port}`), { mode: 0o600 });
  await op.stop();
  op = await startOp([`--kubeconfig=${kubeconfig}`, `--watch-silence-timeout=${SILENCE_MS / 1000}s`], { KUBECONFIG: kubeconfig });
  const proxied = op;
  // Its lines, for a post-mortem (its logs hold no secret value).
  afterAllKeep.push(() => writeFileSync(join(reliabilityDir(), 'logs', 'operator-silent-watch.log'), proxied.logs.join('\n')));
  let from = 0;
  let frozenAt = 0;
  let changedAt = 0;
  let firedAt = 0;
  try {
    await runFault({
      name: `a watch gone silent without closing (API server connections frozen), watchdog ${SILENCE_MS / 1000} s`,
      changed: [WATCH_ONLY],
      // From the change: the watchdog fires at most one period after the watch's last event
      // (before the freeze), then a relist (backoff 0.2 s) and one reconcile. Requests sent on
      // pooled connections the freeze caught fail at their deadline (30 s) and leave those
      // SecretSyncs Ready=False, which the stale cache hides from the operator until the
      // relist: each is Ready again at its next reconcile after it, within one refresh interval.
      boundMs: SILENCE_MS + REFRESH_S * 1000 + 10_000,
      inject: async () => {
        from = op.logs.length;
        const frozen = apiProxy.freeze();
        frozenAt = Date.now();
        // A change only a watch (or a relist) brings: no refresh schedule, a new value and a forced sync.
        await kvWrite(WATCH_ONLY, { password: value(), user: 'app' });
        await patchSync(custom, ns, WATCH_ONLY, { metadata: { annotations: { [FORCE_SYNC_ANNOTATION]: `silent-${Date.now()}` } } });
        changedAt = Date.now();
        const fired = await waitForLogLines(op, ['"event":"watchdog-fired"', '"informer":"SecretSync"'], { from, timeoutMs: SILENCE_MS + 30_000 });
        firedAt = loggedAt(fired[0] ?? '');
        const aborted = logLines(op, ['"sync failed"', 'aborted a request'], from).length;
        return `${frozen} connections frozen, held until the SecretSync watch's watchdog fired; meanwhile ${aborted} reconciles failed on frozen pooled connections (30 s request deadline); a relist brought the change (recovery counted from the change)`;
      },
      clear: async () => changedAt,
      heldMs: () => firedAt - frozenAt,
    });
  } finally {
    await op.stop();
    op = await startOp();
    await apiProxy.down();
    await identity.release();
  }
  // No watchdog before the freeze (the period is above the bookmarks'), and the change came
  // with the relist, not before: the first read of WATCH_ONLY after the freeze follows it.
  expect(logLines(proxied, ['"event":"watchdog-fired"']).filter((l) => loggedAt(l) < frozenAt)).toEqual([]);
  const firstRead = logLines(proxied, ['"reading the source"', `"secretsync":"${ns}/${WATCH_ONLY}"`], from)[0];
  expect(loggedAt(firstRead ?? '')).toBeGreaterThanOrEqual(firedAt);
  await retire(WATCH_ONLY);
}, 300_000);
