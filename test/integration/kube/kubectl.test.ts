// The real kubectl against our CRDs: get, get -o wide, describe, annotate and explain
// work with the singular, plural and short name of every kind, the category lists all
// kinds, and the `annotate` commands README.md, the docs pages they moved to and hack/demo.sh
// print work as printed.
// No operator runs here: this is about the CRDs' names, which kubectl resolves itself.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FORCE_SYNC_ANNOTATION } from '../../../src/api/annotations.js';
import { CATEGORY } from '../../../src/api/crds.js';
import { apply, createNamespace, deleteNamespace, getSync, installCrds, kube } from '../../helpers/kube.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';
import { repoRoot } from '../../testenv/config.js';

const { kc, core, custom } = kube();
const id = uniqueName('kctl');
const ns = id;
const cluster = `${id}-cluster`;
// Own discovery cache: one left by an older CRD (category `secretsync`) must not answer for us.
const home = mkdtempSync(join(tmpdir(), 'secretsync-kubectl-'));
const kubectlBin = () => join(requireEnv('SECRETSYNC_TESTENV_BIN'), 'kubectl');

async function kubectl(args: string[], kubeconfig = requireEnv('KUBECONFIG')): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(kubectlBin(), [`--cache-dir=${join(home, 'cache')}`, ...args], {
      env: { ...process.env, KUBECONFIG: kubeconfig, HOME: home },
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`kubectl ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

const syncSpec = { sourceRef: { name: 'vault' }, data: [{ key: 'k', remoteRef: { path: 'app/db', property: 'k' } }] };
const vault = { address: 'https://vault.example:8200', auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } } };

interface Kind {
  kind: string;
  names: [singular: string, plural: string, short: string];
  object: string;
}
const kinds: Kind[] = [
  { kind: 'SecretSync', names: ['secretsync', 'secretsyncs', 'ssync'], object: 'app' },
  { kind: 'SecretSource', names: ['secretsource', 'secretsources', 'ssrc'], object: 'vault' },
  { kind: 'ClusterSecretSource', names: ['clustersecretsource', 'clustersecretsources', 'cssrc'], object: cluster },
];
const perName = kinds.flatMap((k) => k.names.map((name) => [k.kind, name, k] as const));

/** The docs pages that explain force-sync, rotate-now and force-delete (README.md lists them too). */
const DOCS_WITH_ANNOTATE = ['docs/syncing.md', 'docs/rotation.md', 'docs/rollout.md'];

/** The `kubectl ... annotate ...` commands the docs print, as argument lists. */
function documentedAnnotateCommands(): { from: string; line: string }[] {
  const out: { from: string; line: string }[] = [];
  for (const from of ['README.md', ...DOCS_WITH_ANNOTATE, 'hack/demo.sh']) {
    for (const raw of readFileSync(join(repoRoot, from), 'utf8').split('\n')) {
      const m = /kubectl\s+(?:-n\s+\S+\s+)?annotate\s[^`#]*/.exec(raw);
      if (m) out.push({ from, line: m[0].trim() });
    }
  }
  return out;
}

beforeAll(async () => {
  await installCrds(kc);
  await createNamespace(core, ns);
  for (const name of ['app', 'db-creds', 'api-keys', 'app-token']) {
    await apply(custom, { kind: 'SecretSync', metadata: { name, namespace: ns }, spec: syncSpec });
  }
  await apply(custom, { kind: 'SecretSource', metadata: { name: 'vault', namespace: ns }, spec: { vault } });
  await apply(custom, { kind: 'ClusterSecretSource', metadata: { name: cluster }, spec: { vault, allowedNamespaces: [ns] } });
});

afterAll(async () => {
  await custom
    .deleteClusterCustomObject({ group: 'secretsync.io', version: 'v1alpha1', plural: 'clustersecretsources', name: cluster })
    .catch(() => undefined);
  await deleteNamespace(core, ns);
  rmSync(home, { recursive: true, force: true });
});

describe.each(perName)('%s as `%s`', (kind, name, k) => {
  test('get NAME and get NAME -o wide print that object', async () => {
    const table = await kubectl(['-n', ns, 'get', name, k.object]);
    expect(table.split('\n')[0]).toMatch(/^NAME\s+READY/);
    expect(table).toMatch(new RegExp(`^${k.object}\\s`, 'm'));
    const wide = await kubectl(['-n', ns, 'get', name, k.object, '-o', 'wide']);
    expect(wide.split('\n')[0]).toMatch(/\sREASON$/);
    expect(wide).toMatch(new RegExp(`^${k.object}\\s`, 'm'));
    const named = await kubectl(['-n', ns, 'get', name, k.object, '-o', 'name']);
    expect(named.trim()).toBe(`${kind.toLowerCase()}.secretsync.io/${k.object}`);
  });

  test('describe NAME', async () => {
    const out = await kubectl(['-n', ns, 'describe', name, k.object]);
    expect(out).toMatch(new RegExp(`^Name:\\s+${k.object}$`, 'm'));
    expect(out).toMatch(new RegExp(`^Kind:\\s+${kind}$`, 'm'));
  });

  test('annotate NAME k=v --overwrite', async () => {
    const value = `${name}-${Date.now()}`;
    const out = await kubectl(['-n', ns, 'annotate', name, k.object, `test.secretsync.io/by=${value}`, '--overwrite']);
    expect(out.trim()).toBe(`${kind.toLowerCase()}.secretsync.io/${k.object} annotated`);
    const got = await kubectl(['-n', ns, 'get', name, k.object, '-o', 'jsonpath={.metadata.annotations.test\\.secretsync\\.io/by}']);
    expect(got).toBe(value);
  });

  test('explain NAME.spec', async () => {
    const out = await kubectl(['explain', `${name}.spec`]);
    expect(out).toMatch(new RegExp(`^KIND:\\s+${kind}$`, 'm'));
    expect(out).toMatch(/^FIELD:\s+spec/m);
    expect(out).toContain(kind === 'SecretSync' ? 'sourceRef' : 'vault');
  });
});

test(`kubectl get ${CATEGORY} lists all three kinds`, async () => {
  const lines = (await kubectl(['-n', ns, 'get', CATEGORY, '-o', 'name'])).trim().split('\n');
  expect(lines).toEqual(
    expect.arrayContaining([
      'secretsync.secretsync.io/app',
      'secretsource.secretsync.io/vault',
      `clustersecretsource.secretsync.io/${cluster}`,
    ]),
  );
});

test('kubectl get secretsync (no name) lists SecretSyncs only', async () => {
  const names = (await kubectl(['-n', ns, 'get', 'secretsync', '-o', 'name'])).trim().split('\n').sort();
  expect(names).toEqual(['api-keys', 'app', 'app-token', 'db-creds'].map((n) => `secretsync.secretsync.io/${n}`));
  const table = await kubectl(['-n', ns, 'get', 'secretsync']);
  expect(table.split('\n')[0]).toMatch(/^NAME\s+READY\s+SOURCE\s+VERSION\s+LAST SYNC\s+NEXT ROTATION\s+AGE$/);
});

test('the annotate commands README.md, docs/ and hack/demo.sh print work as printed', async () => {
  const commands = documentedAnnotateCommands();
  expect(commands.filter((c) => c.from === 'README.md').length).toBeGreaterThanOrEqual(3); // force-sync, rotate-now, force-delete
  expect(commands.filter((c) => DOCS_WITH_ANNOTATE.includes(c.from)).length).toBeGreaterThanOrEqual(3); // the same, where each is explained
  expect(commands.filter((c) => c.from === 'hack/demo.sh').length).toBeGreaterThanOrEqual(2);
  // A kubeconfig whose context namespace is ours: README's and the docs' commands have no -n.
  const kubeconfig = join(home, 'kubeconfig');
  writeFileSync(kubeconfig, await kubectl(['config', 'view', '--raw', '--minify']), { mode: 0o600 }); // holds the admin key
  await kubectl(['config', 'set-context', '--current', `--namespace=${ns}`], kubeconfig);
  for (const { from, line } of commands) {
    const stamp = String(Math.floor(Date.now() / 1000) + Math.floor(Math.random() * 1000));
    const args = line
      .replace(/"?\$\(date \+%s\)"?/g, stamp)
      .split(/\s+/)
      .slice(1) // "kubectl"
      .map((a, i, all) => (all[i - 1] === '-n' ? ns : a));
    const name = args[args.indexOf('annotate') + 2] as string;
    const [key, value] = (args[args.indexOf('annotate') + 3] as string).split('=') as [string, string];
    expect([FORCE_SYNC_ANNOTATION, 'secretsync.io/rotate-now', 'secretsync.io/force-delete']).toContain(key);
    const out = await kubectl(args, kubeconfig);
    expect({ from, out: out.trim() }).toEqual({ from, out: `secretsync.secretsync.io/${name} annotated` });
    expect((await getSync(custom, ns, name)).metadata.annotations?.[key]).toBe(value);
  }
});
