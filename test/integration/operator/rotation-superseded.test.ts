// Issue 18, item 9: a rotation that another writer beat to the source. A tenant's
// SecretSync asks for a rotation (rotate-now); between the operator's read of the version
// it builds on and its check-and-set write, someone else writes a new KV version (the
// operator is held there by SECRETSYNC_TEST_FAULT=wait-before-rotation-write:<file>). The
// operator writes nothing over it, says Rotated=False RotationSuperseded (the old main
// said Rotated=True), and syncs the other writer's version.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { SecretSync } from '../../../src/api/types.js';
import { canary } from '../../helpers/canary.js';
import { eventually } from '../../helpers/eventually.js';
import { apply, createNamespace, createSecret, deleteNamespace, deleteSyncs, getSync, installCrds, kube, secretData, waitReady } from '../../helpers/kube.js';
import { expectNoLeak } from '../../helpers/leaks.js';
import { startOperator, type RunningOperator } from '../../helpers/operator.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';
import { tenant as makeTenant, type Tenant } from '../../helpers/tenant.js';
import { kvPut, vaultRoot } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const root = vaultRoot();
const id = uniqueName('sup');
const ns = `${id}-apps`;
const opNs = `${id}-system`;
const OTHER = canary('other-writer');
const dir = mkdtempSync(join(tmpdir(), 'secretsync-fault-'));
const release = join(dir, 'release');
let op: RunningOperator | undefined;
let tenant: Tenant;

const kvVersion = async (path: string) => ((await root.read(`secret/metadata/${path}`)).data as { current_version: number }).current_version;
const kvPassword = async (path: string) => ((await root.read(`secret/data/${path}`)).data.data as Record<string, string>).password;

beforeAll(async () => {
  await installCrds(kc);
  await createNamespace(core, opNs);
  await createNamespace(core, ns);
  await createSecret(core, ns, 'vault-token', { token: requireEnv('VAULT_TOKEN') });
  await kvPut(`${id}/db`, { password: 'first' });
  tenant = await makeTenant(kc, ns);
  op = await startOperator([`--namespace=${ns}`, `--operator-namespace=${opNs}`], { SECRETSYNC_TEST_FAULT: `wait-before-rotation-write:${release}` });
  await apply(tenant.custom, {
    kind: 'SecretSource',
    metadata: { name: 'vault', namespace: ns },
    spec: { vault: { address: requireEnv('VAULT_ADDR'), auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } } } },
  });
}, 60_000);

afterAll(async () => {
  if (!existsSync(release)) writeFileSync(release, '');
  await deleteSyncs(custom, ns);
  await op?.stop();
  tenant?.release();
  await deleteNamespace(core, ns);
  await deleteNamespace(core, opNs);
  rmSync(dir, { recursive: true, force: true });
});

test('another writer first: Rotated=False RotationSuperseded, nothing written over it, its version synced', async () => {
  await apply(tenant.custom, {
    kind: 'SecretSync',
    metadata: { name: 'db', namespace: ns },
    spec: {
      sourceRef: { name: 'vault' },
      data: [{ key: 'password', remoteRef: { path: `${id}/db`, property: 'password' } }],
      rotation: { schedule: '0 0 1 1 *', keys: ['password'] },
    },
  });
  const s0 = await waitReady(tenant.custom, ns, 'db', 'True');
  expect(s0.status?.version).toBe(1);
  await tenant.custom.patchNamespacedCustomObject(
    { group: 'secretsync.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs', name: 'db', body: { metadata: { annotations: { 'secretsync.io/rotate-now': 'go' } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  // The operator has read version 1 and recorded its pending rotation; it waits before writing.
  const pending = await eventually(async () => {
    const s = await getSync(custom, ns, 'db');
    return s.status?.pendingRotation ? s : undefined;
  }, { what: 'rotation pending' });
  expect(pending.status?.pendingRotation?.basedOn).toEqual({ [`${id}/db`]: '1' });
  // Someone else writes first.
  await kvPut(`${id}/db`, { password: OTHER });
  expect(await kvVersion(`${id}/db`)).toBe(2);
  writeFileSync(release, '');

  const done: SecretSync = await eventually(async () => {
    const s = await getSync(custom, ns, 'db');
    const c = s.status?.conditions?.find((x) => x.type === 'Rotated');
    return c?.reason === 'RotationSuperseded' && !s.status?.pendingRotation ? s : undefined;
  }, { what: 'Rotated=False RotationSuperseded' });
  const rotated = done.status?.conditions?.find((x) => x.type === 'Rotated');
  expect(rotated?.status).toBe('False');
  expect(rotated?.message).toContain(`another writer changed ${id}/db (now version 2, not 1) at the source after this rotation read it, so the operator wrote nothing there`);
  expect(rotated?.message).toContain('next schedule tick');
  // Nothing written over the other writer's version; that version is what the Secret holds.
  expect(await kvVersion(`${id}/db`)).toBe(2);
  const synced = await eventually(async () => {
    const s = await getSync(custom, ns, 'db');
    return s.status?.version === 2 ? s : undefined;
  }, { what: 'version 2 synced' });
  expect(synced.status?.sourceVersions).toEqual({ [`${id}/db`]: '2' });
  expect((await secretData(core, ns, 'db')).password === (await kvPassword(`${id}/db`))).toBe(true); // compared, never printed
  // Events are recorded in the background after the writes: wait for the warning first.
  const events = await eventually(async () => {
    const list = await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=db' });
    return list.items.some((e) => e.reason === 'RotationSuperseded') ? list : undefined;
  }, { what: 'the RotationSuperseded event' });
  expect(events.items.filter((e) => e.reason === 'RotationSuperseded').map((e) => e.type)).toEqual(['Warning']);
  expect(events.items.filter((e) => e.reason === 'Rotated')).toEqual([]);
  await expectNoLeak({ core, custom }, ns, op as RunningOperator, OTHER);
}, 90_000);
