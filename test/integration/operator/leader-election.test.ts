// Two real operator processes on one Lease: exactly one leads and writes; when the
// leader is killed (SIGKILL, no release), the other takes over within the lease
// duration and keeps syncing; a graceful stop releases the Lease.
import { CoordinationV1Api } from '@kubernetes/client-node';
import { canary } from '../../helpers/canary.js';
import { eventually } from '../../helpers/eventually.js';
import { apply, createNamespace, createSecret, deleteNamespace, deleteSyncs, installCrds, kube, waitReady } from '../../helpers/kube.js';
import { getText, startOperator, type RunningOperator } from '../../helpers/operator.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';
import { kvPut } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const coordination = kc.makeApiClient(CoordinationV1Api);
const id = uniqueName('le');
const ns = `${id}-apps`;
const opNs = `${id}-system`;
const leaseName = `${id}-leader`;
let ops: RunningOperator[] = [];

const identityOf = (op: RunningOperator) => {
  for (const l of op.logs) {
    try {
      const identity = (JSON.parse(l) as { identity?: string }).identity;
      if (identity) return identity;
    } catch {
      /* not JSON */
    }
  }
  return undefined;
};
const leaderGauge = async (op: RunningOperator) =>
  Number(/^secretsync_leader (\d+)/m.exec((await getText(`http://127.0.0.1:${op.metricsPort}/metrics`)).body)?.[1]);
const holder = async () => (await coordination.readNamespacedLease({ name: leaseName, namespace: opNs })).spec?.holderIdentity;
const sync = (name: string) => ({
  kind: 'SecretSync',
  metadata: { name, namespace: ns },
  spec: { sourceRef: { name: 'vault' }, data: [{ key: 'v', remoteRef: { path: `${id}/s`, property: 'v' } }] },
});

beforeAll(async () => {
  await installCrds(kc);
  await createNamespace(core, opNs);
  await createNamespace(core, ns);
  await createSecret(core, ns, 'vault-token', { token: requireEnv('VAULT_TOKEN') });
  await kvPut(`${id}/s`, { v: canary('one') });
  await apply(custom, {
    kind: 'SecretSource',
    metadata: { name: 'vault', namespace: ns },
    spec: { vault: { address: requireEnv('VAULT_ADDR'), auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } } } },
  });
  const args = [`--namespace=${ns}`, `--operator-namespace=${opNs}`, '--leader-elect', `--leader-election-id=${leaseName}`];
  ops = [await startOperator(args), await startOperator(args)];
});

afterAll(async () => {
  await Promise.all(ops.map((o) => o.stop('SIGKILL')));
  await deleteNamespace(core, ns);
  await deleteNamespace(core, opNs);
});

test('one leader, failover when it is killed, release on graceful stop', async () => {
  const identities = await eventually(
    async () => {
      const ids = ops.map(identityOf);
      return ids.every(Boolean) ? (ids as string[]) : undefined;
    },
    { what: 'both operators logging' },
  );
  // The holder is read again on each try: on a loaded machine the first holder may miss a
  // renewal while both start, and then the other one rightly leads.
  const { leader, follower } = await eventually(
    async () => {
      const h = await holder().catch(() => undefined);
      if (!h || !identities.includes(h)) return undefined;
      const lead = ops[identities.indexOf(h)] as RunningOperator;
      const follow = ops.find((o) => o !== lead) as RunningOperator;
      return (await leaderGauge(lead)) === 1 && (await leaderGauge(follow)) === 0 && (await holder()) === h ? { leader: lead, follower: follow } : undefined;
    },
    { what: 'a leader in the Lease, its leader gauge 1 and the follower\'s 0' },
  );

  await apply(custom, sync('before'));
  await waitReady(custom, ns, 'before', 'True');
  expect(follower.logs.some((l) => l.includes('controllers started'))).toBe(false);

  leader.proc.kill('SIGKILL');
  const killedAt = Date.now();
  await apply(custom, sync('after'));
  await waitReady(custom, ns, 'after', 'True', 'Synced', 60_000);
  const failoverMs = Date.now() - killedAt;
  console.log(`failover: SecretSync synced by the new leader ${failoverMs} ms after the old leader was killed`);
  expect(await holder()).toBe(identityOf(follower));
  expect(await leaderGauge(follower)).toBe(1);
  expect(failoverMs).toBeLessThan(45_000); // lease 15 s + retry 2 s + sync, with ample margin

  await deleteSyncs(custom, ns);
  expect(await follower.stop('SIGTERM')).toBe(0);
  const released = await coordination.readNamespacedLease({ name: leaseName, namespace: opNs });
  expect(released.spec?.holderIdentity ?? '').toBe('');
}, 120_000);
