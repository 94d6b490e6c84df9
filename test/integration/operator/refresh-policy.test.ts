// spec.refresh.policy and spec.target.immutable end to end: a real operator process against
// the real apiserver and OpenBao. OnChange and CreatedOnce are shown not to read on a timer
// by a Periodic sibling on the same Vault path (every 10s) that does pick the change up, so
// nothing here waits a fixed time; an immutable Secret is created immutable, refuses a new
// version with TargetImmutable and no write at all, and is re-created when deleted.
import { FORCE_SYNC_ANNOTATION } from '../../../src/api/annotations.js';
import { canary, digestsOf } from '../../helpers/canary.js';
import { eventually } from '../../helpers/eventually.js';
import { apply, deleteNamespace, deleteSyncs, getSync, kube, patchSync, readyCondition, secretData, vaultTestNamespaces, waitReady } from '../../helpers/kube.js';
import { expectNoLeak } from '../../helpers/leaks.js';
import { logLines, refreshRead, startOperator, type RunningOperator, waitForLogLines } from '../../helpers/operator.js';
import { uniqueName } from '../../helpers/stack.js';
import { kvPut } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const V = Object.fromEntries(['one', 'two', 'three', 'once-a', 'once-b', 'once-c', 'imm-a', 'imm-b'].map((k) => [k, canary(k)])) as Record<string, string>;
const id = uniqueName('pol');
const ns = `${id}-apps`;
const opNs = `${id}-system`;
let op: RunningOperator;

const sync = (name: string, path: string, spec: Record<string, unknown> = {}) => ({
  kind: 'SecretSync',
  metadata: { name, namespace: ns },
  spec: { sourceRef: { name: 'vault' }, data: [{ key: 'v', remoteRef: { path: `${id}/${path}`, property: 'v' } }], ...spec },
});
const reads = (name: string, from: number) => logLines(op, ['"reading the source"', `"secretsync":"${ns}/${name}"`], from);
const version = async (name: string) => (await getSync(custom, ns, name)).status?.version;
const waitVersion = (name: string, v: number) =>
  eventually(async () => ((await version(name)) === v ? true : undefined), { timeoutMs: 45_000, what: `${name} at version ${v}` });
/** Two refresh reads of the Periodic witness after log line `from`: a whole 10s tick has passed for everyone. */
const witnessTicks = (witness: string, from: number) => waitForLogLines(op, refreshRead(ns, witness), { from, count: 2, timeoutMs: 40_000 });

beforeAll(async () => {
  await vaultTestNamespaces({ kc, core, custom }, ns, opNs);
  op = await startOperator([`--namespace=${ns}`, `--operator-namespace=${opNs}`]);
}, 120_000);

afterAll(async () => {
  await deleteSyncs(custom, ns);
  expect(await op?.stop()).toBe(0);
  await deleteNamespace(core, ns);
  await deleteNamespace(core, opNs);
});

test('OnChange: a source change is not read on a timer; a spec change and a force-sync read it', async () => {
  await kvPut(`${id}/onchange`, { v: V.one });
  await apply(custom, sync('onchange', 'onchange', { refresh: { policy: 'OnChange' } }));
  await apply(custom, sync('witness', 'onchange', { refresh: { interval: '10s' } }));
  const ss = await waitReady(custom, ns, 'onchange', 'True');
  expect(readyCondition(ss)?.message).toContain('only when the spec changes or on force-sync (refresh.policy OnChange)');
  await waitReady(custom, ns, 'witness', 'True');

  const mark = op.logs.length;
  await kvPut(`${id}/onchange`, { v: V.two });
  await waitVersion('witness', 2);
  await witnessTicks('witness', mark);
  expect(await version('onchange')).toBe(1);
  expect(reads('onchange', mark)).toEqual([]);
  expect(digestsOf(await secretData(core, ns, 'onchange'))).toEqual(digestsOf({ v: V.one as string }));

  // A new generation: read at once.
  await patchSync(custom, ns, 'onchange', { spec: { target: { labels: { edited: 'yes' } } } });
  await waitVersion('onchange', 2);
  expect(digestsOf(await secretData(core, ns, 'onchange'))).toEqual(digestsOf({ v: V.two as string }));

  // A force-sync: read at once.
  await kvPut(`${id}/onchange`, { v: V.three });
  await patchSync(custom, ns, 'onchange', { metadata: { annotations: { [FORCE_SYNC_ANNOTATION]: 'one' } } });
  await waitVersion('onchange', 3);
  expect(digestsOf(await secretData(core, ns, 'onchange'))).toEqual(digestsOf({ v: V.three as string }));
});

test('CreatedOnce: created once; neither a source change nor a spec change rewrites it; a force-sync does once; deleted, it is re-created', async () => {
  await kvPut(`${id}/once`, { v: V['once-a'] });
  await apply(custom, sync('once', 'once', { refresh: { policy: 'CreatedOnce' } }));
  await apply(custom, sync('once-witness', 'once', { refresh: { interval: '10s' } }));
  await waitReady(custom, ns, 'once', 'True');
  await waitReady(custom, ns, 'once-witness', 'True');
  const created = await core.readNamespacedSecret({ name: 'once', namespace: ns });

  const mark = op.logs.length;
  await kvPut(`${id}/once`, { v: V['once-b'] });
  await patchSync(custom, ns, 'once', { spec: { target: { labels: { edited: 'yes' } } } });
  const held = await eventually(
    async () => {
      const s = await getSync(custom, ns, 'once');
      return s.status?.observedGeneration === s.metadata.generation && s.metadata.generation === 2 ? s : undefined;
    },
    { what: 'the spec change recorded' },
  );
  expect(readyCondition(held)).toMatchObject({ status: 'True' });
  expect(readyCondition(held)?.message).toMatch(/CreatedOnce.*generation 2\).*re-created/);
  await waitVersion('once-witness', 2);
  await witnessTicks('once-witness', mark);
  expect(reads('once', mark)).toEqual([]);
  const untouched = await core.readNamespacedSecret({ name: 'once', namespace: ns });
  expect(untouched.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion); // not even the label: nothing written
  expect(await version('once')).toBe(1);

  // A force-sync: read and written once, in place.
  await patchSync(custom, ns, 'once', { metadata: { annotations: { [FORCE_SYNC_ANNOTATION]: 'now' } } });
  await waitVersion('once', 2);
  expect(digestsOf(await secretData(core, ns, 'once'))).toEqual(digestsOf({ v: V['once-b'] as string }));
  const forced = await core.readNamespacedSecret({ name: 'once', namespace: ns });
  expect(forced.metadata?.labels?.edited).toBe('yes');
  expect(forced.metadata?.uid).toBe(created.metadata?.uid);

  // Deleted: re-created from what the source holds now.
  await kvPut(`${id}/once`, { v: V['once-c'] });
  await core.deleteNamespacedSecret({ name: 'once', namespace: ns });
  await waitVersion('once', 3);
  const again = await core.readNamespacedSecret({ name: 'once', namespace: ns });
  expect(again.metadata?.uid).not.toBe(created.metadata?.uid);
  expect(digestsOf(await secretData(core, ns, 'once'))).toEqual(digestsOf({ v: V['once-c'] as string }));
});

test('target.immutable: created immutable; a new version is refused with TargetImmutable and no write; deleting the Secret takes it', async () => {
  await kvPut(`${id}/imm`, { v: V['imm-a'] });
  await apply(custom, sync('imm', 'imm', { refresh: { interval: '10s' }, target: { immutable: true } }));
  await waitReady(custom, ns, 'imm', 'True');
  const first = await core.readNamespacedSecret({ name: 'imm', namespace: ns });
  expect(first.immutable).toBe(true);

  await kvPut(`${id}/imm`, { v: V['imm-b'] });
  const refused = await waitReady(custom, ns, 'imm', 'False', 'TargetImmutable');
  expect(readyCondition(refused)?.message).toMatch(new RegExp(`Secret ${ns}/imm is immutable .*holds version 1.*would be version 2.*Delete the Secret`));
  expect(refused.status?.version).toBe(1);
  // Two more refresh reads find the same: not a single write, to the Secret or to the status.
  const mark = op.logs.length;
  await waitForLogLines(op, ['"reading the source"', `"secretsync":"${ns}/imm"`], { from: mark, count: 2, timeoutMs: 40_000 });
  const still = await core.readNamespacedSecret({ name: 'imm', namespace: ns });
  expect(still.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
  expect((await getSync(custom, ns, 'imm')).metadata.resourceVersion).toBe(refused.metadata.resourceVersion);
  expect(digestsOf(await secretData(core, ns, 'imm'))).toEqual(digestsOf({ v: V['imm-a'] as string }));

  // The way on: delete the Secret; it comes back immutable as version 2.
  await core.deleteNamespacedSecret({ name: 'imm', namespace: ns });
  const ready = await waitReady(custom, ns, 'imm', 'True');
  expect(ready.status?.version).toBe(2);
  const second = await core.readNamespacedSecret({ name: 'imm', namespace: ns });
  expect(second.immutable).toBe(true);
  expect(digestsOf(await secretData(core, ns, 'imm'))).toEqual(digestsOf({ v: V['imm-b'] as string }));
});

test('the schema refuses immutable or CreatedOnce with rotation, and a timer with OnChange', async () => {
  const rotation = { schedule: '0 3 * * *', keys: ['v'] };
  await expect(apply(custom, sync('bad-1', 'imm', { target: { immutable: true }, rotation }))).rejects.toThrow(/an immutable Secret cannot take/);
  await expect(apply(custom, sync('bad-2', 'imm', { refresh: { policy: 'CreatedOnce' }, rotation }))).rejects.toThrow(/rotation needs refresh.policy Periodic or OnChange/);
  await expect(apply(custom, sync('bad-3', 'imm', { refresh: { policy: 'OnChange', interval: '1m' } }))).rejects.toThrow(/apply only to policy Periodic/);
  await expect(apply(custom, sync('bad-4', 'imm', { refresh: { policy: 'Sometimes' } }))).rejects.toThrow(/spec.refresh.policy: Unsupported value.*Sometimes/);
});

test('no planted value in logs, events, status or /metrics', async () => {
  for (const v of Object.values(V)) await expectNoLeak({ core, custom }, ns, op, v);
});
