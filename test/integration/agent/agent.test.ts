// The agent as a pod runs it: a separate `secretsync agent` process with a service
// account's identity (a TokenRequest kubeconfig, and a TokenRequest token of audience
// "vault" as its projected Vault token), against the real apiserver, OpenBao and moto.
// The envelope Secrets are built here with src/crypto/envelope.ts around a real SecretSync
// (its uid is the binding) and data keys minted by Transit / KMS; the operator does not
// run. Shown: delivery (envelope and plain) with mode/uid/gid, every refusal (RBAC, Vault
// login, Transit policy, tampering, copies to another Secret or namespace, a version not
// held, a KMS context), and watch following new versions in place, surviving a bad version
// and a revoked Vault token, stopping on SIGTERM. No run prints a value, a data key or a token.
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, GenerateDataKeyCommand, KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { RbacAuthorizationV1Api, type V1Secret } from '@kubernetes/client-node';
import { MOUNT_ANNOTATION, VERSION_ANNOTATION } from '../../../src/api/annotations.js';
import { writeAtomically } from '../../../src/agent/atomic-writer.js';
import {
  ENVELOPE_SECRET_TYPE,
  encodeEnvelope,
  seal,
  type KekCoordinates,
  type VersionEnvelope,
} from '../../../src/crypto/envelope.js';
import { kmsEncryptionContext } from '../../../src/crypto/key-encrypter.js';
import { agentIdentity, agentOutputs, allowSecret, runAgent, startAgent, type AgentIdentity, type RunningAgent } from '../../helpers/agent.js';
import { canary, leaksIn } from '../../helpers/canary.js';
import { eventually } from '../../helpers/eventually.js';
import { apply, createNamespace, deleteNamespace, installCrds, kube } from '../../helpers/kube.js';
import { awsConfig, requireEnv, uniqueName } from '../../helpers/stack.js';
import { vaultRoot } from '../../helpers/vault.js';
import { tenant } from '../../helpers/tenant.js';

const { kc, core, custom } = kube();
const root = vaultRoot();
const VAULT_ADDR = requireEnv('VAULT_ADDR');
const id = uniqueName('agent');
const ns = id;
const nsCopy = `${id}-copy`;
const transitMount = `transit-agent-tests-${id}`;
const authMount = `kubernetes-agent-tests-${id}`;
const transitKey = 'kek';
const role = 'app';
const policy = `agent-tests-${id}`;
const reviewerBinding = `${id}-tokenreview`;
/** Every canary written into a Secret; none may reach an agent's output. */
const canaries: string[] = [];
/** Data keys (base64) minted here; none may reach an agent's output. */
const dataKeys: string[] = [];
const identities: AgentIdentity[] = [];
const running: RunningAgent[] = [];
let tmp: string;
let app: AgentIdentity;
let other: AgentIdentity;
let appCopy: AgentIdentity;
let kms: KMSClient;
let kmsKeyArn: string;

const fresh = (label: string) => {
  const v = canary(label);
  canaries.push(v);
  return v;
};
const outDir = () => mkdtempSync(join(tmp, 'out-'));
const read = (dir: string, sync: string, key: string) => readFileSync(join(dir, sync, key), 'utf8');
const MOUNT = { mode: '0440', uid: 1234, gid: 2345 };

// --- building envelope Secrets as the operator would -------------------------------------

const vaultKek = (agentRole = role): KekCoordinates => ({
  type: 'vault-transit',
  address: VAULT_ADDR,
  mount: transitMount,
  key: transitKey,
  version: '1',
  agentAuth: { mount: authMount, role: agentRole },
});

async function transitDataKey(): Promise<{ plaintext: Buffer; wrapped: string }> {
  const res = (await root.write(`${transitMount}/datakey/plaintext/${transitKey}`, {})) as { data: { plaintext: string; ciphertext: string } };
  dataKeys.push(res.data.plaintext);
  return { plaintext: Buffer.from(res.data.plaintext, 'base64'), wrapped: res.data.ciphertext };
}

async function createSync(namespace: string, name: string): Promise<string> {
  const created = (await apply(custom, {
    kind: 'SecretSync',
    metadata: { name, namespace },
    spec: { sourceRef: { name: 'vault' }, data: [{ key: 'password', remoteRef: { path: 'unused' } }] },
  })) as { metadata: { uid: string } };
  return created.metadata.uid;
}

interface Owner {
  namespace: string;
  name: string;
  uid: string;
}

/** One version sealed for `owner` (namespace, SecretSync name, uid) under a fresh Transit data key. */
async function vaultVersion(owner: Owner, version: number, content: Record<string, string>, agentRole = role): Promise<VersionEnvelope> {
  const dk = await transitDataKey();
  const values = seal(dk.plaintext, { namespace: owner.namespace, secretsync: owner.name, uid: owner.uid, version }, bytes(content));
  return { version, kek: vaultKek(agentRole), wrappedKey: dk.wrapped, values };
}

const bytes = (content: Record<string, string>) => Object.fromEntries(Object.entries(content).map(([k, v]) => [k, Buffer.from(v, 'utf8')]));

function envelopeSecret(namespace: string, name: string, owner: Owner | undefined, current: VersionEnvelope, previous?: VersionEnvelope): V1Secret {
  return {
    metadata: {
      name,
      namespace,
      annotations: { [MOUNT_ANNOTATION]: JSON.stringify(MOUNT) },
      ...(owner
        ? { ownerReferences: [{ apiVersion: 'secretsync.io/v1alpha1', kind: 'SecretSync', name: owner.name, uid: owner.uid, controller: true }] }
        : {}),
    },
    type: ENVELOPE_SECRET_TYPE,
    data: encodeEnvelope({ current, ...(previous ? { previous: [previous] } : {}) }),
  };
}

async function putSecret(s: V1Secret): Promise<void> {
  const namespace = s.metadata?.namespace as string;
  const name = s.metadata?.name as string;
  try {
    await core.createNamespacedSecret({ namespace, body: s });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
    await core.replaceNamespacedSecret({ namespace, name, body: s });
  }
}

/** A SecretSync `name` in `ns` and its envelope Secret of one version, readable by `app`. */
async function envelopeSync(name: string, content: Record<string, string>, verbs = ['get']): Promise<Owner & { v1: VersionEnvelope }> {
  const owner = { namespace: ns, name, uid: await createSync(ns, name) };
  const v1 = await vaultVersion(owner, 1, content);
  await putSecret(envelopeSecret(ns, name, owner, v1));
  await allowSecret(kc, app, name, verbs);
  return { ...owner, v1 };
}

const agentArgs = (dir: string, ...more: string[]) => ['--dir', dir, '--namespace', ns, '--insecure-allow-http', ...more];

/** The one line a refusal prints, and that it printed only that. */
function refusalLine(run: { code: number | null; stderr: string }): string {
  expect(run.code).toBe(1);
  const lines = run.stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^secretsync agent: /);
  return lines[0] as string;
}

// --- the stack: Vault Kubernetes auth, Transit, RBAC --------------------------------------

/** Transit, Kubernetes auth reviewing against the stack's apiserver, policy and roles (once, for the tests that use Vault). */
let vaultReady: Promise<void> | undefined;
const setUpVault = () => (vaultReady ??= setUpVaultOnce());

async function setUpVaultOnce(): Promise<void> {
  await root.write(`sys/mounts/${transitMount}`, { type: 'transit' });
  await root.write(`${transitMount}/keys/${transitKey}`, { type: 'aes256-gcm96' });
  await root.write(`sys/auth/${authMount}`, { type: 'kubernetes' });
  // Vault reviews the agents' tokens with a JWT of its own (TokenReview needs auth-delegator).
  const reviewer = await agentIdentity(kc, ns, 'vault-reviewer', tmp);
  identities.push(reviewer);
  await kc.makeApiClient(RbacAuthorizationV1Api).createClusterRoleBinding({
    body: {
      metadata: { name: reviewerBinding },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
      subjects: [{ kind: 'ServiceAccount', name: 'vault-reviewer', namespace: ns }],
    },
  });
  const cluster = kc.getCurrentCluster();
  if (!cluster?.caData) throw new Error('the stack kubeconfig has no certificate-authority-data');
  await root.write(`auth/${authMount}/config`, {
    kubernetes_host: cluster.server,
    kubernetes_ca_cert: Buffer.from(cluster.caData, 'base64').toString('utf8'),
    token_reviewer_jwt: reviewer.tokens[0],
    disable_local_ca_jwt: true,
  });
  await root.write(`sys/policy/${policy}`, { policy: `path "${transitMount}/decrypt/${transitKey}" { capabilities = ["update"] }` });
  // `app` of both namespaces (the copy test must get past Vault to show the binding refuse).
  await root.write(`auth/${authMount}/role/${role}`, {
    bound_service_account_names: ['app'],
    bound_service_account_namespaces: [ns, nsCopy],
    audience: 'vault',
    token_policies: [policy],
    token_ttl: '10m',
  });
  // A role whose tokens may log in but not decrypt.
  await root.write(`auth/${authMount}/role/no-decrypt`, {
    bound_service_account_names: ['app'],
    bound_service_account_namespaces: [ns],
    audience: 'vault',
    token_policies: ['default'],
    token_ttl: '10m',
  });
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'agent-it-'));
  await installCrds(kc);
  await createNamespace(core, ns);
  await createNamespace(core, nsCopy);
  app = await agentIdentity(kc, ns, 'app', tmp);
  other = await agentIdentity(kc, ns, 'other', tmp);
  appCopy = await agentIdentity(kc, nsCopy, 'app', tmp);
  identities.push(app, other, appCopy);
});

afterAll(async () => {
  await Promise.all(running.map((a) => a.stop('SIGKILL')));
  kms?.destroy();
  await root.delete(`sys/auth/${authMount}`).catch(() => undefined);
  await root.delete(`sys/mounts/${transitMount}`).catch(() => undefined);
  await root.delete(`sys/policy/${policy}`).catch(() => undefined);
  await kc
    .makeApiClient(RbacAuthorizationV1Api)
    .deleteClusterRoleBinding({ name: reviewerBinding })
    .catch(() => undefined);
  await deleteNamespace(core, ns);
  await deleteNamespace(core, nsCopy);
  rmSync(tmp, { recursive: true, force: true });
});

describe('Vault Transit', () => {
  const content = { password: '', username: '' };
  let db: Owner & { v1: VersionEnvelope };

  beforeAll(async () => {
    await setUpVault();
    content.password = fresh('password');
    content.username = fresh('username');
    db = await envelopeSync('db', content);
  });

  test('init delivers the files with the mount mode, uid and gid, atomically laid out, and logs only names', async () => {
    const dir = outDir();
    const run = await runAgent(app, ['init', '--sync', 'db', ...agentArgs(dir)]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    for (const key of ['password', 'username'] as const) {
      expect(read(dir, 'db', key)).toBe(content[key]);
      const st = statSync(join(dir, 'db', key));
      expect([st.mode & 0o777, st.uid, st.gid]).toEqual([0o440, 1234, 2345]);
      expect(lstatSync(join(dir, 'db', key)).isSymbolicLink()).toBe(true);
      expect(readlinkSync(join(dir, 'db', key))).toBe(`..data/${key}`);
    }
    expect(readlinkSync(join(dir, 'db', '..data'))).toMatch(/^\.\.\d{4}_/);
    const delivered = run.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'delivered');
    expect(delivered).toMatchObject({ level: 'info', sync: 'db', version: 1, mode: 'envelope', keys: ['password', 'username'], directory: join(dir, 'db') });
  });

  test('--version of the current version is delivered; one the Secret does not hold is refused', async () => {
    const dir = outDir();
    expect((await runAgent(app, ['init', '--sync', 'db', '--version', '1', ...agentArgs(dir)])).code).toBe(0);
    expect(read(dir, 'db', 'password')).toBe(content.password);
    const line = refusalLine(await runAgent(app, ['init', '--sync', 'db', '--version', '5', ...agentArgs(outDir())]));
    expect(line).toContain(`Secret ${ns}/db does not hold version 5 of SecretSync db (it holds version 1)`);
    expect(line).toContain('restart the pod');
  });

  test('a service account the Secret is not shared with is refused by RBAC, and the files already there stay', async () => {
    const dir = outDir();
    await writeAtomically(join(dir, 'db'), { password: Buffer.from('previous') }, { mode: 0o400 });
    const before = readlinkSync(join(dir, 'db', '..data'));
    const line = refusalLine(await runAgent(other, ['init', '--sync', 'db', ...agentArgs(dir)]));
    // `--sync db` alone reads the SecretSync first (for its target), which RBAC refuses first.
    expect(line).toBe(
      `secretsync agent: service account ${ns}/other may not read SecretSync ${ns}/db (the agent checks its uid against the Secret's): add it to spec.access.serviceAccounts of SecretSync db, which grants get on both`,
    );
    expect(refusalLine(await runAgent(other, ['init', '--sync', 'db=db', ...agentArgs(outDir())]))).toBe(
      `secretsync agent: service account ${ns}/other may not read Secret db in namespace ${ns}: add it to spec.access.serviceAccounts of SecretSync db`,
    );
    expect(readlinkSync(join(dir, 'db', '..data'))).toBe(before);
    expect(read(dir, 'db', 'password')).toBe('previous');
  });

  test('a Secret that does not exist (yet) is refused, saying to check the SecretSync', async () => {
    await allowSecret(kc, app, 'ghost');
    const line = refusalLine(await runAgent(app, ['init', '--sync', 'ghost=ghost', ...agentArgs(outDir())]));
    expect(line).toContain(`Secret ${ns}/ghost does not exist: check that SecretSync ghost is Ready`);
    // Without =SECRET the SecretSync is read first (for its target): it is not there either.
    expect(refusalLine(await runAgent(app, ['init', '--sync', 'ghost', ...agentArgs(outDir())]))).toContain(`SecretSync ${ns}/ghost does not exist`);
  });

  test('a service account allowed by RBAC but not bound in the Vault role is refused by Vault', async () => {
    await allowSecret(kc, other, 'db');
    const dir = outDir();
    const line = refusalLine(await runAgent(other, ['init', '--sync', 'db', ...agentArgs(dir)]));
    expect(line).toContain(`Vault refused the login of service account ${ns}/other at auth/${authMount}/login with role "${role}"`);
    expect(line).toContain('bound_service_account_names');
    expect(() => lstatSync(join(dir, 'db'))).toThrow(/ENOENT/);
  });

  test('a Vault role whose policy does not allow transit decrypt is refused with the policy line to add', async () => {
    const owner = { namespace: ns, name: 'no-decrypt', uid: await createSync(ns, 'no-decrypt') };
    await putSecret(envelopeSecret(ns, 'no-decrypt', owner, await vaultVersion(owner, 1, { password: fresh('password') }, 'no-decrypt')));
    await allowSecret(kc, app, 'no-decrypt');
    const line = refusalLine(await runAgent(app, ['init', '--sync', 'no-decrypt', ...agentArgs(outDir())]));
    expect(line).toContain(`Vault denied Transit decrypt at "${transitMount}/decrypt/${transitKey}"`);
    expect(line).toContain(`path "${transitMount}/decrypt/${transitKey}" { capabilities = ["update"] }`);
  });

  test('a ciphertext with one flipped byte is refused, and no key of it is written', async () => {
    const s = await envelopeSync('tampered', { password: fresh('password'), username: fresh('username') });
    const raw = Buffer.from(s.v1.values.username as string, 'base64');
    raw[raw.length - 20] = (raw[raw.length - 20] as number) ^ 0x01;
    await putSecret(envelopeSecret(ns, 'tampered', s, { ...s.v1, values: { ...s.v1.values, username: raw.toString('base64') } }));
    const dir = outDir();
    const line = refusalLine(await runAgent(app, ['init', '--sync', 'tampered', ...agentArgs(dir)]));
    expect(line).toContain(`value "username" of version 1 does not open for SecretSync ${ns}/tampered (uid ${s.uid})`);
    expect(line).toContain('it was altered, or copied');
    expect(() => lstatSync(join(dir, 'tampered'))).toThrow(/ENOENT/);
  });

  test('a wrapped data key that was altered is refused (Transit cannot open it)', async () => {
    const s = await envelopeSync('bad-key', { password: fresh('password') });
    // Still shaped as a Transit ciphertext (vault:v1:<base64>), with one character of the body changed.
    const at = s.v1.wrappedKey.length - 12;
    const wrapped = s.v1.wrappedKey.slice(0, at) + (s.v1.wrappedKey[at] === 'A' ? 'B' : 'A') + s.v1.wrappedKey.slice(at + 1);
    await putSecret(envelopeSecret(ns, 'bad-key', s, { ...s.v1, wrappedKey: wrapped }));
    const line = refusalLine(await runAgent(app, ['init', '--sync', 'bad-key', ...agentArgs(outDir())]));
    expect(line).toContain('the data key of version 1 does not unwrap');
    expect(line).toContain('HTTP 400');
    expect(line).toContain('delete the Secret so the operator writes it again');
  });

  test('the ciphertext copied into the Secret of another SecretSync is refused', async () => {
    const owner = { namespace: ns, name: 'copy', uid: await createSync(ns, 'copy') };
    await putSecret(envelopeSecret(ns, 'copy', owner, db.v1));
    await allowSecret(kc, app, 'copy');
    const line = refusalLine(await runAgent(app, ['init', '--sync', 'copy', ...agentArgs(outDir())]));
    expect(line).toContain(`does not open for SecretSync ${ns}/copy (uid ${owner.uid})`);
  });

  test('a copy that no SecretSync controls is refused, naming the SecretSync it should be controlled by', async () => {
    await putSecret(envelopeSecret(ns, 'loose', undefined, db.v1));
    await allowSecret(kc, app, 'loose');
    const line = refusalLine(await runAgent(app, ['init', '--sync', 'db=loose', ...agentArgs(outDir())]));
    expect(line).toContain(`Secret ${ns}/loose is not controlled by SecretSync ${ns}/db (it has no controller)`);
  });

  test('the Secret copied into another namespace (same SecretSync name, app allowed there) is refused', async () => {
    const owner = { namespace: nsCopy, name: 'db', uid: await createSync(nsCopy, 'db') };
    await putSecret(envelopeSecret(nsCopy, 'db', owner, db.v1));
    await allowSecret(kc, appCopy, 'db');
    const run = await runAgent(appCopy, ['init', '--sync', 'db', '--dir', outDir(), '--namespace', nsCopy, '--insecure-allow-http']);
    const line = refusalLine(run);
    expect(line).toContain(`does not open for SecretSync ${nsCopy}/db (uid ${owner.uid})`);
  });

  test('an http:// Vault without --insecure-allow-http is refused before the token is sent', async () => {
    const line = refusalLine(await runAgent(app, ['init', '--sync', 'db', '--dir', outDir(), '--namespace', ns]));
    expect(line).toContain('is plaintext http');
    expect(line).toContain('--insecure-allow-http');
  });

  test('two SecretSyncs in one run; a refusal of either writes neither', async () => {
    const dir = outDir();
    expect((await runAgent(app, ['init', '--sync', 'db', '--sync', 'copy', ...agentArgs(dir)])).code).toBe(1);
    expect(() => lstatSync(join(dir, 'db'))).toThrow(/ENOENT/);
  });
});

describe('plain mode', () => {
  test('a plain Secret of the SecretSync is delivered as is; a --version it does not hold gets the current one', async () => {
    const name = 'plain-db';
    const uid = await createSync(ns, name);
    const value = fresh('plain');
    await putSecret({
      metadata: {
        name,
        namespace: ns,
        annotations: { [VERSION_ANNOTATION]: '3', [MOUNT_ANNOTATION]: JSON.stringify({ mode: '0400', uid: 4321 }) },
        ownerReferences: [{ apiVersion: 'secretsync.io/v1alpha1', kind: 'SecretSync', name, uid, controller: true }],
      },
      type: 'Opaque',
      data: { 'api-key': Buffer.from(value).toString('base64') },
    });
    await allowSecret(kc, app, name);
    const dir = outDir();
    const run = await runAgent(app, ['init', '--sync', name, '--version', '3', ...agentArgs(dir)]);
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(read(dir, name, 'api-key')).toBe(value);
    const st = statSync(join(dir, name, 'api-key'));
    expect([st.mode & 0o777, st.uid, st.gid]).toEqual([0o400, 4321, 0]);
    // A plain Secret holds only its current version, as kubelet would deliver it (a pinned pod of an old ReplicaSet).
    const other = outDir();
    expect((await runAgent(app, ['init', '--sync', name, '--version', '2', ...agentArgs(other)])).code).toBe(0);
    expect(read(other, name, 'api-key')).toBe(value);
  });

  test('--sync NAME alone reads the target Secret from the SecretSync (the blind webhook names no target)', async () => {
    const name = 'targeted';
    const target = `${name}-elsewhere`;
    const created = (await apply(custom, {
      kind: 'SecretSync',
      metadata: { name, namespace: ns },
      spec: { sourceRef: { name: 'vault' }, target: { name: target }, data: [{ key: 'password', remoteRef: { path: 'unused' } }] },
    })) as { metadata: { uid: string } };
    const value = fresh('targeted');
    await putSecret({
      metadata: { name: target, namespace: ns, ownerReferences: [{ apiVersion: 'secretsync.io/v1alpha1', kind: 'SecretSync', name, uid: created.metadata.uid, controller: true }] },
      type: 'Opaque',
      data: { password: Buffer.from(value).toString('base64') },
    });
    await allowSecret(kc, app, target, ['get'], name);
    const dir = outDir();
    const run = await runAgent(app, ['init', '--sync', name, ...agentArgs(dir)]);
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(read(dir, name, 'password')).toBe(value);
  });
});

describe('the uid of the SecretSync comes from the API server, not from the Secret (issue 18, item 9)', () => {
  test('a Secret still naming a SecretSync deleted and created again (or crafted so) is refused; nothing is written', async () => {
    const name = 'recreated';
    const oldUid = await createSync(ns, name);
    await custom.deleteNamespacedCustomObject({ group: 'secretsync.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs', name });
    await eventually(
      async () => custom.getNamespacedCustomObject({ group: 'secretsync.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs', name }).then(() => undefined, () => true),
      { what: 'SecretSync recreated deleted' },
    );
    const newUid = await createSync(ns, name);
    // A member of the namespace who may write Secrets (not read the real value) crafts the
    // Secret the pods of SecretSync "recreated" read: its own value, the old uid in the
    // controller reference. Its apiVersion names a version the API server does not serve,
    // so the garbage collector cannot resolve the owner and leaves the Secret alone; the
    // old agent checked the group only and took the uid from this reference.
    const editor = await tenant(kc, ns, { extraRules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['create'] }] });
    const value = fresh('crafted');
    await editor.core.createNamespacedSecret({
      namespace: ns,
      body: {
        metadata: {
          name,
          ownerReferences: [{ apiVersion: 'secretsync.io/v1', kind: 'SecretSync', name, uid: oldUid, controller: true }],
        },
        type: 'Opaque',
        data: { password: Buffer.from(value).toString('base64') },
      },
    });
    editor.release();
    await allowSecret(kc, app, name);
    const dir = outDir();
    const line = refusalLine(await runAgent(app, ['init', '--sync', name, ...agentArgs(dir)]));
    expect(line).toContain(`Secret ${ns}/${name} names SecretSync ${ns}/${name} as its controller, but with uid ${oldUid}, while that SecretSync's uid is ${newUid}`);
    expect(line).toContain('delete the Secret so the operator writes it again');
    expect(() => lstatSync(join(dir, name))).toThrow(/ENOENT/);
  });

  test('a pod allowed to read the Secret but not the SecretSync is refused, saying to list it in spec.access', async () => {
    const name = 'no-sync-get';
    const uid = await createSync(ns, name);
    await putSecret({
      metadata: { name, namespace: ns, ownerReferences: [{ apiVersion: 'secretsync.io/v1alpha1', kind: 'SecretSync', name, uid, controller: true }] },
      type: 'Opaque',
      data: { password: Buffer.from(fresh('no-sync-get')).toString('base64') },
    });
    await allowSecret(kc, app, name, ['get'], 'some-other-sync');
    const line = refusalLine(await runAgent(app, ['init', '--sync', name, ...agentArgs(outDir())]));
    expect(line).toContain(`may not read SecretSync ${ns}/${name}`);
    expect(line).toContain(`add it to spec.access.serviceAccounts of SecretSync ${name}`);
  });
});

describe('AWS KMS', () => {
  const { region, endpoint, credentials } = awsConfig();
  const awsEnv = { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true' };

  beforeAll(async () => {
    kms = new KMSClient(awsConfig());
    kmsKeyArn = (await kms.send(new CreateKeyCommand({ Description: id }))).KeyMetadata?.Arn ?? '';
  });

  afterAll(async () => {
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: kmsKeyArn, PendingWindowInDays: 7 })).catch(() => undefined);
  });

  async function kmsSync(name: string, content: Record<string, string>, mintedFor = name, recordedEndpoint = endpoint): Promise<void> {
    const owner = { namespace: ns, name, uid: await createSync(ns, name) };
    const dk = await kms.send(
      new GenerateDataKeyCommand({ KeyId: kmsKeyArn, KeySpec: 'AES_256', EncryptionContext: kmsEncryptionContext({ namespace: ns, secretsync: mintedFor }) }),
    );
    const plaintext = Buffer.from(dk.Plaintext as Uint8Array);
    dataKeys.push(plaintext.toString('base64'));
    const v1: VersionEnvelope = {
      version: 1,
      kek: { type: 'aws-kms', region, endpoint: recordedEndpoint, keyId: 'alias/secretsync', version: dk.KeyId as string },
      wrappedKey: Buffer.from(dk.CiphertextBlob as Uint8Array).toString('base64'),
      values: seal(plaintext, { namespace: ns, secretsync: name, uid: owner.uid, version: 1 }, bytes(content)),
    };
    await putSecret(envelopeSecret(ns, name, owner, v1));
    await allowSecret(kc, app, name);
  }

  test('init delivers with the default credential chain, the region from the envelope, --aws-endpoint over the recorded one', async () => {
    const content = { password: fresh('kms-password'), token: fresh('kms-token') };
    await kmsSync('kms-db', content, 'kms-db', 'http://127.0.0.1:9');
    const dir = outDir();
    const run = await runAgent(app, ['init', '--sync', 'kms-db', ...agentArgs(dir, '--aws-endpoint', endpoint)], awsEnv);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    for (const key of ['password', 'token'] as const) {
      expect(read(dir, 'kms-db', key)).toBe(content[key]);
      const st = statSync(join(dir, 'kms-db', key));
      expect([st.mode & 0o777, st.uid, st.gid]).toEqual([0o440, 1234, 2345]);
    }
  });

  test('a data key minted for another SecretSync (another encryption context) is refused by KMS', async () => {
    await kmsSync('kms-stolen', { password: fresh('kms-password') }, 'someone-else');
    const line = refusalLine(await runAgent(app, ['init', '--sync', 'kms-stolen', ...agentArgs(outDir())], awsEnv));
    expect(line).toContain('AWS KMS could not decrypt the data key of version 1');
    expect(line).toContain('InvalidCiphertextException');
    expect(line).toContain(`secretsync.io/secretsync=kms-stolen`);
  });
});

describe('watch', () => {
  beforeAll(() => setUpVault());

  const start = (args: string[]) => {
    const a = startAgent(app, ['watch', ...args]);
    running.push(a);
    return a;
  };
  const waitFor = (dir: string, sync: string, key: string, value: string, what: string) =>
    eventually(async () => (read(dir, sync, key) === value ? true : undefined), { timeoutMs: 30_000, what });

  /** Revokes the Vault tokens the agents of `app` in `ns` hold (as a Vault admin would). */
  async function revokeAgentTokens(): Promise<number> {
    const list = (await root.list('auth/token/accessors')) as { data: { keys: string[] } };
    let revoked = 0;
    for (const accessor of list.data.keys) {
      const t = (await root.write('auth/token/lookup-accessor', { accessor }).catch(() => undefined)) as
        | { data?: { meta?: Record<string, string> | null; path?: string } }
        | undefined;
      if (t?.data?.path?.startsWith(`auth/${authMount}/login`) && t.data.meta?.service_account_namespace === ns) {
        await root.write('auth/token/revoke-accessor', { accessor });
        revoked++;
      }
    }
    return revoked;
  }

  test('follows a new version through the watch, in place, after its Vault token was revoked; SIGTERM exits 0', async () => {
    const v1 = { password: fresh('live-v1'), extra: fresh('live-extra') };
    const s = await envelopeSync('live', v1, ['get', 'watch']); // what the operator's access Role grants
    const dir = outDir();
    const agent = start(['--sync', 'live', ...agentArgs(dir, '--interval', '1h')]);
    await waitFor(dir, 'live', 'password', v1.password, 'version 1 delivered');
    const firstData = readlinkSync(join(dir, 'live', '..data'));
    expect(await revokeAgentTokens()).toBeGreaterThan(0);

    const v2 = { password: fresh('live-v2') };
    await putSecret(envelopeSecret(ns, 'live', s, await vaultVersion(s, 2, v2), s.v1));
    // --interval is an hour: only the watch can bring it, and only a new login can open it.
    await waitFor(dir, 'live', 'password', v2.password, 'version 2 delivered');
    expect(readlinkSync(join(dir, 'live', '..data'))).not.toBe(firstData);
    expect(() => lstatSync(join(dir, 'live', 'extra'))).toThrow(/ENOENT/); // a key version 2 dropped
    expect(() => lstatSync(join(dir, 'live', firstData))).toThrow(/ENOENT/);
    const st = statSync(join(dir, 'live', 'password'));
    expect([st.mode & 0o777, st.uid, st.gid]).toEqual([0o440, 1234, 2345]);
    await eventually(async () => (/"version":2,.*"msg":"delivered"/.test(agent.run.stdout) ? true : undefined), { what: 'version 2 logged' });
    expect(agent.run.stdout).toContain('Vault no longer honours the token; logging in again');

    const end = await agent.stop('SIGTERM');
    expect(end.code).toBe(0);
    expect(end.stderr).toBe('');
    expect(end.stdout).toContain('"msg":"stopped"');
  });

  test('with only `get`, follows by re-reading every --interval, and keeps its files through a version it must refuse', async () => {
    const v1 = { password: fresh('polled-v1') };
    const s = await envelopeSync('polled', v1, ['get']);
    const dir = outDir();
    const agent = start(['--sync', 'polled', ...agentArgs(dir, '--interval', '1s')]);
    await waitFor(dir, 'polled', 'password', v1.password, 'version 1 delivered');
    await eventually(async () => (agent.run.stdout.includes('no watch permission') ? true : undefined), { what: 'the poll-only notice' });

    // Version 2 does not open (sealed for another uid): refused, logged, files kept.
    const bad = await vaultVersion({ ...s, uid: 'another-uid' }, 2, { password: fresh('polled-bad') });
    await putSecret(envelopeSecret(ns, 'polled', s, bad, s.v1));
    await eventually(async () => (agent.run.stdout.includes('delivery failed, keeping the files already there') ? true : undefined), {
      what: 'the refusal logged',
    });
    expect(read(dir, 'polled', 'password')).toBe(v1.password);
    expect(agent.proc.exitCode).toBeNull();

    const v3 = { password: fresh('polled-v3') };
    await putSecret(envelopeSecret(ns, 'polled', s, await vaultVersion(s, 3, v3), s.v1));
    await waitFor(dir, 'polled', 'password', v3.password, 'version 3 delivered');
    // The files land before the log line reaches our end of the pipe.
    await eventually(async () => (agent.run.stdout.includes('delivering works again') ? true : undefined), { what: 'the recovery logged' });
    expect((await agent.stop('SIGTERM')).code).toBe(0);
  });
});

// Last, after every run above: no run printed a value, a data key or a token, in any form.
test('no agent run printed a secret value, a data key or a token (stdout and stderr, raw and encoded)', () => {
  expect(agentOutputs.length).toBeGreaterThan(0);
  const found: string[] = [];
  for (const [i, run] of agentOutputs.entries()) {
    const text = `${run.stdout}\n${run.stderr}`;
    for (const c of canaries) found.push(...leaksIn(text, c).map((form) => `canary (${form}) in run ${i + 1}`));
    for (const k of dataKeys) if (text.includes(k) || text.includes(Buffer.from(k, 'base64').toString('hex'))) found.push(`a data key in run ${i + 1}`);
    for (const t of identities.flatMap((x) => x.tokens)) if (text.includes(t) || text.includes(t.split('.')[2] ?? '?')) found.push(`a token in run ${i + 1}`);
  }
  expect(found).toEqual([]);
});

