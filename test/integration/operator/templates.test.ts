// spec.target.template on the real stack: a real operator process, OpenBao (KV and Transit),
// the apiserver, and the agent as a process with a service account's identity. Plain mode:
// the Secret holds the rendered keys (a database URL, a .dockerconfigjson with its type), a
// change of a used key moves the version, a change of an unused one does not. Envelope mode:
// the Secret holds the keys the template uses and the template, sealed (decoded here by
// docs/envelope-format.md alone); the agent renders the file in the pod's place. A template
// error is Ready=False TemplateError naming key and line, never a value. Planted values are
// canaries, compared by digest.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentIdentity, agentVaultAuth, runAgent, type AgentIdentity } from '../../helpers/agent.js';
import { canary, digestsOf, leaksIn } from '../../helpers/canary.js';
import { entriesByDoc, openByDoc, type DocSecret } from '../../helpers/envelope-by-doc.js';
import { eventually } from '../../helpers/eventually.js';
import { apply, deleteNamespace, deleteSyncs, getSync, kube, patchSync, readyCondition, vaultTestNamespaces, waitReady } from '../../helpers/kube.js';
import { expectNoLeak } from '../../helpers/leaks.js';
import { startOperator, type RunningOperator } from '../../helpers/operator.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';
import { kvPut, transitOperatorToken, vaultRoot } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const id = uniqueName('tpl');
const ns = `${id}-apps`;
const opNs = `${id}-system`;
const transit = `transit-${id}`;
const authMount = `kubernetes-${id}`;
const vaultAddr = requireEnv('VAULT_ADDR');
const root = vaultRoot();
const [PW1, PW2, PW3, REG_PW] = ['pw1', 'pw2', 'pw3', 'registry'].map((p) => canary(p)) as [string, string, string, string];
let op: RunningOperator;
let opToken = '';

const url = (pw: string) => `postgres://app:${pw}@db.internal:5432/payments?sslmode=require`;
const dbTemplate = {
  data: {
    DATABASE_URL: 'postgres://{{ user }}:{{ password }}@{{ host }}:5432/payments?sslmode=require',
    'app.yaml': 'db:\n  user: {{#yaml}}{{ user }}{{/yaml}}\n  password: {{#yaml}}{{ password }}{{/yaml}}\n',
    region: 'eu-west-1',
  },
};
const dbSync = (name: string, target: Record<string, unknown>) => ({
  kind: 'SecretSync',
  metadata: { name, namespace: ns },
  spec: { sourceRef: { name: 'vault' }, dataFrom: [{ remoteRef: { path: `${id}/db` } }], refresh: { interval: '10s' }, target },
});
const readSecret = async (name: string) => (await core.readNamespacedSecret({ name, namespace: ns })) as unknown as DocSecret & { type: string; data: Record<string, string> };
const decoded = (data: Record<string, string>) => Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

beforeAll(async () => {
  opToken = await transitOperatorToken(transit, id);
  await kvPut(`${id}/db`, { user: 'app', password: PW1, host: 'db.internal', unused: 'u1' });
  await kvPut(`${id}/registry`, { user: 'ci-bot', password: REG_PW });
  await vaultTestNamespaces({ kc, core, custom }, ns, opNs, vaultAddr, opToken);
  op = await startOperator([`--namespace=${ns}`, `--operator-namespace=${opNs}`]);
}, 120_000);

afterAll(async () => {
  await deleteSyncs(custom, ns);
  expect(await op?.stop()).toBe(0);
  await deleteNamespace(core, ns);
  await deleteNamespace(core, opNs);
});

test('plain mode: the Secret holds exactly the rendered keys; an unused key moves nothing, a used one moves the version', async () => {
  await apply(custom, dbSync('db', { template: dbTemplate }));
  const ss = await waitReady(custom, ns, 'db', 'True');
  expect(ss.status?.version).toBe(1);
  const s = await readSecret('db');
  expect(s.type).toBe('Opaque');
  expect(digestsOf(decoded(s.data))).toEqual(
    digestsOf({ DATABASE_URL: url(PW1), 'app.yaml': `db:\n  user: "app"\n  password: ${JSON.stringify(PW1)}\n`, region: 'eu-west-1' }),
  );

  // A key no template uses changes: read (the source version moves), nothing written, same version.
  const rv = (s as unknown as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  const before = ss.status?.sourceVersions?.[`${id}/db`];
  await kvPut(`${id}/db`, { user: 'app', password: PW1, host: 'db.internal', unused: 'u2' });
  const unchanged = await eventually(
    async () => {
      const x = await getSync(custom, ns, 'db');
      return x.status?.sourceVersions?.[`${id}/db`] !== before ? x : undefined;
    },
    { timeoutMs: 40_000, what: 'the refresh to read the new KV version' },
  );
  expect(unchanged.status?.version).toBe(1);
  expect(((await readSecret('db')) as unknown as { metadata: { resourceVersion: string } }).metadata.resourceVersion).toBe(rv);

  // A used key changes: version 2, the URL follows.
  await kvPut(`${id}/db`, { user: 'app', password: PW2, host: 'db.internal', unused: 'u2' });
  await eventually(async () => ((await getSync(custom, ns, 'db')).status?.version === 2 ? true : undefined), { timeoutMs: 40_000, what: 'version 2' });
  expect(digestsOf({ u: decoded((await readSecret('db')).data).DATABASE_URL ?? '' })).toEqual(digestsOf({ u: url(PW2) }));
}, 120_000);

test('a .dockerconfigjson with target.type kubernetes.io/dockerconfigjson', async () => {
  await apply(custom, {
    kind: 'SecretSync',
    metadata: { name: 'pull', namespace: ns },
    spec: {
      sourceRef: { name: 'vault' },
      data: [
        { key: 'user', remoteRef: { path: `${id}/registry`, property: 'user' } },
        { key: 'password', remoteRef: { path: `${id}/registry`, property: 'password' } },
      ],
      target: {
        type: 'kubernetes.io/dockerconfigjson',
        template: { data: { '.dockerconfigjson': '{"auths":{"registry.example:5000":{"username":{{#json}}{{ user }}{{/json}},"auth":"{{#b64enc}}{{ user }}:{{ password }}{{/b64enc}}"}}}' } },
      },
    },
  });
  await waitReady(custom, ns, 'pull', 'True');
  const s = await readSecret('pull');
  expect(s.type).toBe('kubernetes.io/dockerconfigjson');
  expect(Object.keys(s.data)).toEqual(['.dockerconfigjson']);
  const cfg = JSON.parse(decoded(s.data)['.dockerconfigjson'] ?? '') as { auths: Record<string, { username: string; auth: string }> };
  const entry = cfg.auths['registry.example:5000'];
  expect(entry?.username).toBe('ci-bot');
  expect(digestsOf({ a: Buffer.from(entry?.auth ?? '', 'base64').toString('utf8') })).toEqual(digestsOf({ a: `ci-bot:${REG_PW}` }));
});

test('a template error is Ready=False TemplateError with key and line, no value; the Secret keeps its content', async () => {
  const good = { data: { cfg: 'a: {{ password }}\n' } };
  await apply(custom, dbSync('broken', { template: good }));
  await waitReady(custom, ns, 'broken', 'True');
  const kept = await readSecret('broken');
  await patchSync(custom, ns, 'broken', { spec: { target: { template: { data: { cfg: 'a: 1\nb: {{ pasword }}\n', other: '{{#b64dec}}{{ password }}{{/b64dec}}' } } } } });
  const ss = await waitReady(custom, ns, 'broken', 'False', 'TemplateError');
  const msg = readyCondition(ss)?.message ?? '';
  expect(msg).toContain('spec.target.template.data["cfg"] line 2 column 4: unknown key "pasword" (the synced keys: host, password, unused, user)');
  expect([...leaksIn(JSON.stringify(ss.status), PW2), ...leaksIn(JSON.stringify(ss.status), PW1)]).toEqual([]);
  expect(digestsOf((await readSecret('broken')).data)).toEqual(digestsOf(kept.data));

  // The filter error: which filter, where, and no value.
  await patchSync(custom, ns, 'broken', { spec: { target: { template: { data: { cfg: null, other: 'x\n  {{#b64dec}}{{ password }}{{/b64dec}}' } } } } });
  const ss2 = await eventually(async () => {
    const x = await getSync(custom, ns, 'broken');
    const m = readyCondition(x)?.message ?? '';
    return m.includes('b64dec') ? x : undefined;
  }, { timeoutMs: 30_000, what: 'the b64dec error' });
  expect(readyCondition(ss2)).toMatchObject({ status: 'False', reason: 'TemplateError' });
  expect(readyCondition(ss2)?.message).toContain('spec.target.template.data["other"] line 2 column 3: filter b64dec: its input is not base64');
  await expectNoLeak({ core, custom }, ns, op, PW2);
});

describe('envelope mode: the template travels sealed, the agent renders it', () => {
  let tmp = '';
  let app: AgentIdentity;
  let cleanup: () => Promise<void> = async () => undefined;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'templates-agent-'));
    app = await agentIdentity(kc, ns, 'app', tmp);
    cleanup = await agentVaultAuth(kc, root, { namespace: ns, dir: tmp, authMount, transitMount: transit, key: 'secretsync', role: 'app', serviceAccounts: ['app'] });
  });

  afterAll(async () => {
    await cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('the Secret holds only ciphertext of the used keys and the template; the agent writes the rendered files, and the next version after a source change', async () => {
    await apply(custom, {
      kind: 'SecretSync',
      metadata: { name: 'sealed', namespace: ns },
      spec: {
        sourceRef: { name: 'vault' },
        dataFrom: [{ remoteRef: { path: `${id}/db` } }],
        access: { serviceAccounts: ['app'] },
        target: {
          template: dbTemplate,
          encryption: { kek: { vaultTransit: { sourceRef: { name: 'vault' }, mount: transit, key: 'secretsync', agentAuth: { kubernetes: { mount: authMount, role: 'app' } } } } },
        },
      },
    });
    const ss = await waitReady(custom, ns, 'sealed', 'True');
    const s = await readSecret('sealed');
    expect(s.type).toBe('secretsync.io/envelope');
    const plain = Object.values(s.data).map((v) => Buffer.from(v, 'base64').toString('utf8')).join('\n');
    expect([...leaksIn(JSON.stringify(s), PW2), ...leaksIn(plain, PW2)]).toEqual([]);
    expect(plain).not.toContain('postgres://');

    // By the document: v2, the used keys and the template, nothing else.
    const e = entriesByDoc(s);
    expect(e.format).toBe('secretsync.io/envelope/v2');
    expect(Object.keys(e.current.values).sort()).toEqual(['host', 'password', 'user']);
    const r = (await root.write(`${transit}/decrypt/secretsync`, { ciphertext: e.current.wrappedKey })) as { data: { plaintext: string } };
    const opened = openByDoc(s, 'sealed', e.current, Buffer.from(r.data.plaintext, 'base64'));
    expect(JSON.parse(opened['/template']?.toString('utf8') ?? '')).toEqual(dbTemplate);
    expect(digestsOf({ p: opened.password?.toString('utf8') ?? '' })).toEqual(digestsOf({ p: PW2 }));

    // The agent, as the pod's service account, renders into its directory.
    const dir = mkdtempSync(join(tmp, 'out-'));
    const run = await runAgent(app, ['init', '--sync', 'sealed', '--dir', dir, '--namespace', ns, '--insecure-allow-http']);
    expect(run.code).toBe(0);
    expect(readdirSync(join(dir, 'sealed')).filter((f) => !f.startsWith('..')).sort()).toEqual(['DATABASE_URL', 'app.yaml', 'region']);
    expect(digestsOf({ u: readFileSync(join(dir, 'sealed', 'DATABASE_URL'), 'utf8') })).toEqual(digestsOf({ u: url(PW2) }));
    expect(readFileSync(join(dir, 'sealed', 'region'), 'utf8')).toBe('eu-west-1');
    expect([...leaksIn(run.stdout + run.stderr, PW2)]).toEqual([]);
    expect(ss.status?.version).toBe(1);

    // A used key changes at the source: version 2, sealed again with the template; the agent renders the new URL.
    await kvPut(`${id}/db`, { user: 'app', password: PW3, host: 'db.internal', unused: 'u2' });
    await patchSync(custom, ns, 'sealed', { metadata: { annotations: { 'secretsync.io/force-sync': 'pw3' } } });
    await eventually(async () => ((await getSync(custom, ns, 'sealed')).status?.version === 2 ? true : undefined), { timeoutMs: 40_000, what: 'version 2 of the sealed sync' });
    expect(entriesByDoc(await readSecret('sealed')).format).toBe('secretsync.io/envelope/v2');
    const dir2 = mkdtempSync(join(tmp, 'out-'));
    const run2 = await runAgent(app, ['init', '--sync', 'sealed', '--dir', dir2, '--namespace', ns, '--insecure-allow-http']);
    expect(run2.code).toBe(0);
    expect(digestsOf({ u: readFileSync(join(dir2, 'sealed', 'DATABASE_URL'), 'utf8') })).toEqual(digestsOf({ u: url(PW3) }));
  }, 120_000);
});
