// Faults that need the operator in real pods (issue 21, item 1), on the stack's node: the
// chart installed with helm (two replicas, one Lease, a memory limit), an injected Deployment
// rolling on one SecretSync, and three faults, each judged by the invariants of
// test/reliability/invariants.ts (polled all along) and a recovery time: from the fault
// clearing to every SecretSync Ready with the change made during the fault synced.
//   1. the leader's container SIGKILLed (its process, from the node) with a change pending;
//   2. the leader pod evicted (policy/v1 Eviction, the chart's PodDisruptionBudget in force)
//      while the Deployment rolls out a new version;
//   3. the leader's memory limit reached: SECRETSYNC_TEST_FAULT=oom-after-secret-write:<sync>
//      (src/wiring/test-faults.ts) allocates right after that Secret's patch, before the
//      status write, until the kernel's cgroup limit kills the container (OOMKilled).
// The figures go to a section of bench/results/reliability.md. Values never leave the pods
// and OpenBao: digests only. Skipped, saying so, when the stack has no node.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppsV1Api, CoordinationV1Api, PolicyV1Api, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import { FORCE_SYNC_ANNOTATION, VERSION_ANNOTATION, VERSION_ANNOTATION_PREFIX } from '../../../src/api/annotations.js';
import { canary } from '../../helpers/canary.js';
import { eventually } from '../../helpers/eventually.js';
import { chartDir, helm, kubectl, setArgs } from '../../helpers/helm.js';
import { apply, createNamespace, createSecret, deleteNamespace, deleteSyncs, getSync, installCrds, kube, patchSync, waitReady } from '../../helpers/kube.js';
import { describeWithNode, podSh, testAppImage, waitDefaultServiceAccount } from '../../helpers/pods.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';
import { kvPut } from '../../helpers/vault.js';
import { digestOfValues, InvariantWatch, ready, rollState, type Snapshot } from '../../reliability/invariants.js';
import { record, rows, tableOf, writeSection } from '../../reliability/report.js';

const { kc, core, custom } = kube();
const apps = kc.makeApiClient(AppsV1Api);
const leases = kc.makeApiClient(CoordinationV1Api);
const policy = kc.makeApiClient(PolicyV1Api);
const id = uniqueName('podfaults');
const sys = `${id}-system`;
const ns = `${id}-apps`;
const release = id;
const fullname = `${release}-secretsync`;
const instance = `app.kubernetes.io/instance=${release}`;
/** roll: the Deployment web rolls on it; steady: never changes (never written); mem: the OOM fault's. */
const SYNCS = ['roll', 'steady', 'mem'] as const;
const REFRESH_S = 10;
/** Low, against the chart's 512Mi: about twice what an idle operator with three SecretSyncs holds. */
const MEMORY_LIMIT_MIB = 256;
const MEMORY_LIMIT = `${MEMORY_LIMIT_MIB}Mi`;
/** A change seen at the next refresh tick (one interval), retries, 10 s of slack. */
const BOUND_MS = 2 * REFRESH_S * 1000 + 10_000;
/** A leader gone without releasing its Lease (SIGKILL, OOM kill): the Lease (15 s) expires first. */
const LEADER_BOUND_MS = BOUND_MS + 15_000;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const current: Record<string, string> = {};

async function kvSet(sync: string, value: string): Promise<void> {
  await kvPut(`${id}/${sync}`, { password: value });
  current[sync] = value;
}

/** A function: the test app image is known only on a stack with a node (the file is skipped without one). */
const web = (): V1Deployment => ({
  metadata: { name: 'web', namespace: ns },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web', 'secretsync.io/inject': 'true' }, annotations: { 'secretsync.io/inject': 'roll' } },
      spec: {
        serviceAccountName: 'app',
        terminationGracePeriodSeconds: 1,
        securityContext: { runAsUser: 1000, runAsGroup: 2000, runAsNonRoot: true },
        containers: [{ name: 'app', image: testAppImage(), command: ['sh', '-c', 'exec sleep 3600'], securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
      },
    },
  },
});

const isReady = (p: V1Pod) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running' && !!p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/** web rolled out (to `version` of roll when given): one Ready pod, of the template at that version. */
function webAt(version?: number, timeoutMs = 90_000): Promise<V1Pod> {
  return eventually(
    async () => {
      const d = await apps.readNamespacedDeployment({ namespace: ns, name: 'web' });
      const s = d.status;
      const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' })).items;
      const at = pods.filter(isReady).filter((p) => version === undefined || p.metadata?.annotations?.[VERSION_ANNOTATION_PREFIX + 'roll'] === String(version));
      if ((s?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0) || s?.updatedReplicas !== 1 || s.availableReplicas !== 1 || pods.length !== 1 || at.length !== 1) {
        throw new Error(`web: status ${JSON.stringify(s ?? {})}; pods ${pods.map((p) => `${p.metadata?.name} ${p.status?.phase} v${p.metadata?.annotations?.[VERSION_ANNOTATION_PREFIX + 'roll']}`).join(', ')}`);
      }
      return at[0];
    },
    { timeoutMs, intervalMs: 250, what: `web rolled out${version === undefined ? '' : ` to version ${version} of roll`}` },
  );
}

async function operatorPods(): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace: sys, labelSelector: instance })).items.filter((p) => !p.metadata?.deletionTimestamp);
}
/** Both operator replicas Running and Ready (the PodDisruptionBudget then allows one eviction). */
const twoReady = (timeoutMs = 90_000) =>
  eventually(async () => {
    const ps = (await operatorPods()).filter(isReady);
    return ps.length === 2 ? ps : undefined;
  }, { timeoutMs, intervalMs: 250, what: '2 operator pods Running and Ready' });
const holder = async () => (await leases.readNamespacedLease({ namespace: sys, name: `${fullname}-leader` })).spec?.holderIdentity ?? '';
/** The pod whose process holds the Lease, and that identity (`<pod>_<pid>_<random>`). */
async function leader(): Promise<{ pod: V1Pod; identity: string }> {
  return eventually(async () => {
    const identity = await holder();
    const pod = (await operatorPods()).filter(isReady).find((p) => identity.startsWith(`${p.metadata?.name}_`));
    return pod ? { pod, identity } : undefined;
  }, { timeoutMs: 60_000, what: 'a Ready operator pod holding the Lease' });
}
/**
 * Waits for a process other than `was` to hold the Lease; says which. A killed container
 * restarts in its pod and campaigns too: the other replica, which has watched the Lease
 * longer, usually sees it expire first, but either may lead, and both are correct.
 */
async function otherLeads(was: string, since: number): Promise<string> {
  const h = await eventually(async () => {
    const h = await holder();
    return h !== '' && h !== was ? h : undefined;
  }, { timeoutMs: 60_000, intervalMs: 200, what: 'another process holding the Lease' });
  const who = h.startsWith(`${was.split('_')[0]}_`) ? 'its restarted container' : 'the other pod';
  return `${who} leads after ${((Date.now() - since) / 1000).toFixed(1)} s`;
}

/**
 * A container's memory cgroup, as the kubelet made it (the stack's cgroupfs driver): the dir
 * named by the container id under kubepods, in the v1 memory hierarchy or in the v2 one,
 * with the file that holds its limit there.
 */
function containerCgroup(pod: V1Pod): { dir: string; limitFile: string } {
  const cid = (pod.status?.containerStatuses?.[0]?.containerID ?? '').replace(/^\w+:\/\//, '');
  const find = (dir: string, depth: number): string | undefined => {
    if (!existsSync(dir) || depth < 0) return undefined;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      if (e.name.includes(cid)) return join(dir, e.name);
      const hit = find(join(dir, e.name), depth - 1);
      if (hit) return hit;
    }
    return undefined;
  };
  for (const [root, limitFile] of [['/sys/fs/cgroup/memory/kubepods', 'memory.limit_in_bytes'], ['/sys/fs/cgroup/kubepods', 'memory.max']] as const) {
    const dir = cid ? find(root, 3) : undefined;
    if (dir) return { dir, limitFile };
  }
  throw new Error(`no memory cgroup for container ${cid || '(none)'} of ${pod.metadata?.name} under /sys/fs/cgroup/memory/kubepods or /sys/fs/cgroup/kubepods`);
}

/** A forced sync of each of `names`, handled: the leader has reconciled them since. */
const forceSyncs = async (names: string[], token: string) => {
  for (const n of names) await patchSync(custom, ns, n, { metadata: { annotations: { [FORCE_SYNC_ANNOTATION]: token } } });
  for (const n of names) await eventually(async () => ((await getSync(custom, ns, n)).status?.forceSyncHandled === token ? true : undefined), { timeoutMs: 60_000, what: `a forced sync of ${n} handled` });
};

/** Every SecretSync Ready; each of `changed` at a new version with its Secret holding the new value. */
const allSynced = (snap: Snapshot, changed: string[], before: Snapshot) =>
  SYNCS.every((n) => {
    const s = snap.syncs.find((x) => x.metadata.name === n);
    const synced = (snap.versions[n] ?? 0) > (before.versions[n] ?? 0) && snap.secrets[n]?.digest === digestOfValues({ password: current[n] ?? '' });
    return s && ready(s) && (!changed.includes(n) || synced);
  });

interface Fault {
  name: string;
  /** The one SecretSync whose source changes during the fault. */
  changed: (typeof SYNCS)[number];
  boundMs: number;
  /** Injects the fault (the change included); resolves with when it cleared (epoch ms) and what proved it bit. */
  run(): Promise<{ clearedAt: number; proof: string }>;
}

let watch: InvariantWatch;

/** One fault under the invariants: one new version of `changed`, none elsewhere, web rolled once per new version of roll. */
async function judge(f: Fault): Promise<void> {
  await twoReady();
  const before = await watch.poll();
  const roll0 = await rollState(apps, ns, 'web', 'roll');
  const injectedAt = Date.now();
  const { clearedAt, proof } = await f.run();
  const broken: string[] = [];
  let recoveryMs: number | undefined;
  try {
    await eventually(async () => (allSynced(await watch.poll(), [f.changed], before) ? true : undefined), { timeoutMs: f.boundMs + 60_000, intervalMs: 100, what: `every SecretSync Ready and ${f.changed} synced after ${f.name}` });
    recoveryMs = Date.now() - clearedAt;
  } catch (err) {
    broken.push((err as Error).message);
  }
  let rolled = '';
  if (f.changed === 'roll' && recoveryMs !== undefined) {
    const v = (await getSync(custom, ns, 'roll')).status?.version ?? 0;
    const pod = await webAt(v);
    const digest = (await podSh(ns, pod.metadata?.name ?? '', "sha256sum < '/run/secrets/roll/password'")).trim().split(/\s+/)[0];
    if (digest !== sha(current.roll ?? '')) broken.push(`web's new pod ${pod.metadata?.name} does not read roll's new value`);
    rolled = `; web rolled to v${v}, its new pod reading it, ${((Date.now() - clearedAt) / 1000).toFixed(1)} s after the fault cleared`;
  }
  // The leader has reconciled the others since (each forced sync handled): only now is "nothing else written" proven.
  // Not the changed one (synced already): a forced sync is throttled for 10 s after the last, and the next fault may force it.
  await forceSyncs(SYNCS.filter((n) => n !== f.changed), `after-${f.changed}-${Date.now()}`).catch((err: Error) => broken.push(err.message));
  const after = await watch.poll();
  for (const n of SYNCS) {
    const grew = (after.versions[n] ?? 0) - (before.versions[n] ?? 0);
    const expected = n === f.changed ? 1 : 0;
    if (grew !== expected) broken.push(`${n}: ${grew} new versions, expected ${expected}`);
    if (expected === 0 && after.secrets[n]?.resourceVersion !== before.secrets[n]?.resourceVersion) broken.push(`Secret ${n} written, its content unchanged`);
  }
  const roll = await rollState(apps, ns, 'web', 'roll');
  const rolls = (after.versions.roll ?? 0) - (before.versions.roll ?? 0);
  if (roll.generation - roll0.generation !== rolls) broken.push(`web: ${roll.generation - roll0.generation} template changes for ${rolls} new versions`);
  if (roll.replicaSets - roll0.replicaSets !== rolls) broken.push(`web: ${roll.replicaSets - roll0.replicaSets} new ReplicaSets for ${rolls} new versions`);
  if (rolls > 0 && roll.templateVersion !== after.versions.roll) broken.push(`web: template on version ${roll.templateVersion}, roll on ${after.versions.roll}`);
  if (recoveryMs !== undefined && recoveryMs > f.boundMs) broken.push(`recovered in ${recoveryMs} ms, over the bound of ${f.boundMs} ms`);
  broken.push(...watch.violations.splice(0));
  record({ fault: f.name, invariants: broken.length ? `BROKEN: ${broken.join('; ')}` : 'held', recoveryMs, boundMs: f.boundMs, notes: `fault held ${((clearedAt - injectedAt) / 1000).toFixed(1)} s; ${proof}${rolled}` });
  expect(broken).toEqual([]);
}

describeWithNode()('operator pods under faults (helm install, 2 replicas, memory limit)', () => {
  let installed = false;

  beforeAll(async () => {
    const t0 = Date.now();
    await installCrds(kc);
    await createNamespace(core, sys);
    await createNamespace(core, ns);
    await waitDefaultServiceAccount(core, ns);
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'app' } } });
    for (const n of SYNCS) await kvSet(n, canary());
    await createSecret(core, ns, 'vault-token', { token: requireEnv('VAULT_TOKEN') });
    await apply(custom, { kind: 'SecretSource', metadata: { name: 'vault', namespace: ns }, spec: { vault: { address: requireEnv('POD_VAULT_ADDR'), auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } } } } });
    await helm(
      'install', release, chartDir, '--namespace', sys,
      '--set-file', `webhook.clientAuth.caBundle=${requireEnv('SECRETSYNC_WEBHOOK_CLIENT_CA')}`,
      ...setArgs({ watchNamespace: ns, insecureAllowHttp: true, 'resources.limits.memory': MEMORY_LIMIT, 'resources.requests.memory': '128Mi' }),
    );
    installed = true;
    // The chart has no env value: the test hook goes on the Deployment it made (one rollout, before anything is Ready).
    await kubectl(['-n', sys, 'set', 'env', `deployment/${fullname}`, 'SECRETSYNC_TEST_FAULT=oom-after-secret-write:mem']);
    await eventually(async () => {
      const ps = (await operatorPods()).filter(isReady);
      return ps.length === 2 && ps.every((p) => p.spec?.containers[0]?.env?.some((e) => e.name === 'SECRETSYNC_TEST_FAULT')) ? ps : undefined;
    }, { timeoutMs: 120_000, intervalMs: 250, what: '2 operator pods with the test hook Running and Ready' });
    for (const n of SYNCS) {
      await apply(custom, {
        kind: 'SecretSync',
        metadata: { name: n, namespace: ns },
        spec: {
          sourceRef: { name: 'vault' },
          data: [{ key: 'password', remoteRef: { path: `${id}/${n}`, property: 'password' } }],
          refresh: { interval: `${REFRESH_S}s` },
          access: { serviceAccounts: ['app'] },
          mount: { mode: '0440', uid: 1000, gid: 2000 },
          ...(n === 'roll' ? { rollout: { auto: true } } : {}),
        },
      });
    }
    for (const n of SYNCS) await waitReady(custom, ns, n, 'True', undefined, 60_000);
    await eventually(() => core.readNamespacedSecret({ namespace: ns, name: 'steady' }), { what: 'Secret steady' });
    await eventually(() => apps.createNamespacedDeployment({ namespace: ns, body: web() }).catch((err: Error) => {
      if (/failed calling webhook|no endpoints|connection refused/i.test(String(err))) return undefined;
      throw err;
    }), { timeoutMs: 30_000, what: 'web created' });
    await webAt();
    // The operator takes web in at the version it runs (a workload first seen is recorded, not rolled).
    await eventually(async () => ((await getSync(custom, ns, 'roll')).status?.rollout?.targets?.some((t) => t.name === 'web') ? true : undefined), { what: 'web recorded by roll' });
    watch = new InvariantWatch({ core, custom }, ns, () => [...SYNCS]);
    watch.start();
    process.stderr.write(`pod faults: helm install to web running in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }, 240_000);

  afterAll(async () => {
    await watch?.stop();
    // Finalized while the operator runs, then uninstalled.
    await deleteSyncs(custom, ns).catch(() => undefined);
    if (installed) await helm('uninstall', release, '--namespace', sys, '--wait', '--timeout', '60s').catch(() => undefined);
    await deleteNamespace(core, ns);
    await deleteNamespace(core, sys);
    if (rows.length) {
      writeSection(
        'Pod faults (test/integration/pods/faults.test.ts, in make test)',
        [
          `${new Date().toISOString().slice(0, 16)}Z. The chart installed with helm on the stack's node: 2 operator replicas (Lease), memory limit ${MEMORY_LIMIT}, SecretSyncs refreshing every 10 s, an injected Deployment rolling on one. Recovery: from the fault clearing (the kill, the eviction accepted, the OOM kill) to every SecretSync Ready with the change made during the fault synced.`,
          '',
          ...tableOf(rows),
        ].join('\n'),
      );
    }
  }, 120_000);

  test('the leader\'s container SIGKILLed with a change pending: another process leads, nothing rolled twice, nothing written without change', async () => {
    await judge({
      name: 'leader container SIGKILLed with a change pending (2 operator pods)',
      changed: 'roll',
      boundMs: LEADER_BOUND_MS,
      run: async () => {
        const { pod, identity } = await leader();
        const procs = readFileSync(join(containerCgroup(pod).dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
        // Killed as the source changes: the leader reads it only at its next refresh tick.
        await kvSet('roll', canary());
        for (const pid of procs) process.kill(pid, 'SIGKILL');
        const clearedAt = Date.now();
        const leads = await otherLeads(identity, clearedAt);
        const restarted = await eventually(async () => {
          const p = await core.readNamespacedPod({ namespace: sys, name: pod.metadata?.name ?? '' });
          const c = p.status?.containerStatuses?.[0];
          return (c?.restartCount ?? 0) > (pod.status?.containerStatuses?.[0]?.restartCount ?? 0) ? c : undefined;
        }, { timeoutMs: 60_000, what: 'the killed container restarted' });
        return { clearedAt, proof: `SIGKILL of pid ${procs.join(',')} (exit ${restarted.lastState?.terminated?.exitCode}); ${leads}` };
      },
    });
  }, 180_000);

  test('the leader pod evicted during a rollout: the PodDisruptionBudget allows one eviction and refuses the next; web rolled exactly once, its new pod reads the new value', async () => {
    await judge({
      name: 'leader pod evicted (Eviction API) during a rollout',
      changed: 'roll',
      boundMs: BOUND_MS,
      run: async () => {
        const { pod, identity } = await leader();
        // The other Ready replica, named now: once the eviction is in, the ReplicaSet's
        // replacement (not Ready) is among the pods too, and the budget lets an unhealthy pod go.
        const other = (await twoReady()).find((p) => p.metadata?.name !== pod.metadata?.name);
        const g0 = (await apps.readNamespacedDeployment({ namespace: ns, name: 'web' })).metadata?.generation ?? 0;
        await kvSet('roll', canary());
        await patchSync(custom, ns, 'roll', { metadata: { annotations: { [FORCE_SYNC_ANNOTATION]: `evict-${Date.now()}` } } });
        // The rollout under way: web's template patched, its new pod not yet Ready.
        await eventually(async () => (((await apps.readNamespacedDeployment({ namespace: ns, name: 'web' })).metadata?.generation ?? 0) > g0 ? true : undefined), { timeoutMs: 30_000, intervalMs: 50, what: 'web\'s rollout started' });
        const evict = (name: string) => core.createNamespacedPodEviction({ namespace: sys, name, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: sys } } });
        // 429 while the disruption controller has not yet counted both replicas healthy: tried again, as kubectl drain does.
        let refusedFirst = 0;
        await eventually(() => evict(pod.metadata?.name ?? '').catch((err: { code?: number }) => {
          if (err.code !== 429) throw err;
          refusedFirst++;
          return undefined;
        }), { timeoutMs: 30_000, intervalMs: 250, what: `the eviction of ${pod.metadata?.name} allowed` });
        const clearedAt = Date.now();
        // The budget (minAvailable 1) is spent: the other replica may not go now.
        const second = await evict(other?.metadata?.name ?? '').then(() => 'allowed', (err: { code?: number }) => `refused (${err.code})`);
        const pdb = (await policy.readNamespacedPodDisruptionBudget({ namespace: sys, name: fullname })).spec;
        expect(second).toBe('refused (429)');
        const leads = await otherLeads(identity, clearedAt);
        return { clearedAt, proof: `evicted while web's pods rolled (PDB minAvailable ${pdb?.minAvailable}: this eviction allowed${refusedFirst ? ` after ${refusedFirst} 429s` : ''}, a second at once ${second}); ${leads}` };
      },
    });
  }, 180_000);

  test('the leader\'s memory limit reached right after a Secret write: OOMKilled, restarted, nothing half-written', async () => {
    const { pod, identity } = await leader();
    // The node enforces the limit: the kubelet wrote it into the container's memory cgroup.
    const cg = containerCgroup(pod);
    const limit = Number(readFileSync(join(cg.dir, cg.limitFile), 'utf8'));
    expect(limit).toBe(MEMORY_LIMIT_MIB * 2 ** 20);
    const name = pod.metadata?.name ?? '';
    const restarts0 = pod.status?.containerStatuses?.[0]?.restartCount ?? 0;
    const v0 = (await getSync(custom, ns, 'mem')).status?.version ?? 0;
    await judge({
      name: `memory limit (${MEMORY_LIMIT}) reached right after a Secret write (OOMKilled)`,
      changed: 'mem',
      boundMs: LEADER_BOUND_MS,
      run: async () => {
        const changedAt = Date.now();
        // Read at mem's next refresh tick (a forced sync would wait out the throttle of the last fault's).
        await kvSet('mem', canary());
        // Its death, seen at once: a container that died before restarts only after a back-off,
        // so the termination is looked for in state and lastState (finishedAt in whole seconds).
        const t = await eventually(async () => {
          const c = (await core.readNamespacedPod({ namespace: sys, name })).status?.containerStatuses?.[0];
          const t = c?.state?.terminated ?? c?.lastState?.terminated;
          return t?.finishedAt && new Date(t.finishedAt).getTime() >= changedAt - 1000 ? t : undefined;
        }, { timeoutMs: 60_000, intervalMs: 200, what: `${name}'s container killed` });
        expect([t.reason, t.exitCode]).toEqual(['OOMKilled', 137]);
        // Killed between the two writes, and nobody leads yet (the Lease has not expired): the
        // Secret is at the new version, the status still at the old one.
        const halfway = [(await getSync(custom, ns, 'mem')).status?.version, Number((await core.readNamespacedSecret({ namespace: ns, name: 'mem' })).metadata?.annotations?.[VERSION_ANNOTATION])];
        expect(halfway).toEqual([v0, v0 + 1]);
        // The kill was no earlier than the change that caused it.
        const clearedAt = Math.max(t.finishedAt ? new Date(t.finishedAt).getTime() : Date.now(), changedAt);
        await eventually(async () => {
          const c = (await core.readNamespacedPod({ namespace: sys, name })).status?.containerStatuses?.[0];
          return (c?.restartCount ?? 0) > restarts0 && c?.state?.running ? true : undefined;
        }, { timeoutMs: 60_000, intervalMs: 250, what: `${name}'s container restarted` });
        const hogLine = (await kubectl(['-n', sys, 'logs', name, '--previous'])).split('\n').find((l) => l.includes('allocating until killed on the injected fault'));
        expect(hogLine).toBeDefined();
        const hogAt = Date.parse((JSON.parse(hogLine ?? '{}') as { time?: string }).time ?? '');
        const leads = await otherLeads(identity, clearedAt);
        // finishedAt has whole seconds: within one second of the allocation starting reads as "< 1 s".
        const killedIn = clearedAt - hogAt < 1000 ? '< 1 s' : `${((clearedAt - hogAt) / 1000).toFixed(1)} s`;
        return { clearedAt, proof: `${t.reason} (exit ${t.exitCode}) ${killedIn} after it began allocating, right after the Secret patch (cgroup limit ${limit / 2 ** 20} MiB), the Secret at v${v0 + 1} and the status at v${v0}; ${leads}` };
      },
    });
    // Nothing half-written: the Secret and the status agree on one new version, which holds the new value.
    const s = await getSync(custom, ns, 'mem');
    const secret = await core.readNamespacedSecret({ namespace: ns, name: 'mem' });
    expect([s.status?.version, Number(secret.metadata?.annotations?.[VERSION_ANNOTATION])]).toEqual([v0 + 1, v0 + 1]);
  }, 180_000);
});
