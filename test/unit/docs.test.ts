// The documentation's own checks: every relative link in README.md and docs/ points at a
// file that exists and, with a #fragment, at a heading that exists there (GitHub's anchor
// rules); every `--flag` the user docs name is one `secretsync operator --help` or
// `secretsync agent --help` lists (or another program's, named here); and the quick
// start's YAML parses and its SecretSync passes the operator's own validation. Links to
// http(s) addresses are not fetched.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { AGENT_HELP } from '../../src/agent/flags.js';
import type { SecretSync } from '../../src/api/types.js';
import { validateSecretSync } from '../../src/api/validate.js';
import { OPERATOR_HELP } from '../../src/flags.js';
import { repoRoot } from '../testenv/config.js';

const mdIn = (dir: string) => readdirSync(join(repoRoot, dir)).filter((f) => f.endsWith('.md')).map((f) => join(dir, f));
const docs = ['README.md', ...mdIn('docs'), ...mdIn('docs/adr'), 'charts/secretsync/README.md'];
const read = (file: string) => readFileSync(join(repoRoot, file), 'utf8');

/** The text outside fenced code blocks and inline code, where a `[x](y)` is a link. */
function prose(md: string): string {
  return md
    .replace(/^```[\s\S]*?^```/gm, '')
    .replace(/`[^`\n]*`/g, '``');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of md.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const text = (m[1] as string).replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const slug = text.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

function links(file: string): { target: string; line: string }[] {
  const out: { target: string; line: string }[] = [];
  for (const m of prose(read(file)).matchAll(/\]\(([^)\s]+)\)/g)) out.push({ target: m[1] as string, line: m[0] });
  return out;
}

test('the docs are where this test looks', () => {
  expect(docs).toEqual(expect.arrayContaining(['README.md', 'docs/architecture.md', 'docs/api.md', 'docs/adr/0001-secret-writes.md']));
});

test.each(docs)('every relative link in %s resolves (file, and heading for a #fragment)', (file) => {
  const broken: string[] = [];
  for (const { target } of links(file)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    const [path = '', fragment] = target.split('#', 2);
    const abs = path === '' ? join(repoRoot, file) : resolve(dirname(join(repoRoot, file)), path);
    const rel = relative(repoRoot, abs);
    // README's link to ../shared/DESIGN.md is outside the repository by design (it says so).
    if (rel.startsWith('..')) {
      if (!(file === 'README.md' && rel === join('..', 'shared', 'DESIGN.md'))) broken.push(`${target}: outside the repository`);
      continue;
    }
    if (!existsSync(abs)) {
      broken.push(`${target}: no such file`);
      continue;
    }
    if (fragment !== undefined) {
      if (statSync(abs).isDirectory() || !abs.endsWith('.md')) broken.push(`${target}: a fragment on a non-markdown target`);
      else if (!anchors(readFileSync(abs, 'utf8')).has(fragment)) broken.push(`${target}: no heading with that anchor`);
    }
  }
  expect(broken).toEqual([]);
});

test('anchors follow GitHub: punctuation dropped, spaces to dashes, repeats numbered', () => {
  expect([...anchors('# Rotation: new values written at the source, on a schedule\n## In use: deletion waits\n## `Ready` and `make run`\n## Notes\n## Notes\n')]).toEqual([
    'rotation-new-values-written-at-the-source-on-a-schedule',
    'in-use-deletion-waits',
    'ready-and-make-run',
    'notes',
    'notes-1',
  ]);
});

test('a broken link or anchor is found', () => {
  expect(prose('see [x](a.md) and `[y](b.md)`\n```\n[z](c.md)\n```\n').match(/\]\(([^)\s]+)\)/g)).toEqual(['](a.md)']);
  expect(anchors(read('docs/architecture.md')).has('the-pipeline')).toBe(true);
  expect(anchors(read('docs/architecture.md')).has('no-such-heading')).toBe(false);
});

test('every operator and agent flag the user docs name is one --help lists', () => {
  const known = new Set([...`${OPERATOR_HELP}\n${AGENT_HELP}`.matchAll(/--[a-z][a-z0-9-]*/g)].map((m) => m[0]));
  // Flags of other programs these pages name: kubectl, helm, kube-apiserver.
  const others = new Set(['--server-side', '--force-conflicts', '--from-literal', '--overwrite', '--create-namespace', '--set', '--for', '--field-selector', '--strict', '--admission-control-config-file', '--api-audiences']);
  // Not here: development.md and benchmarks.md, whose flags are the bench harness's, node's and ctr's.
  const userDocs = docs.filter((f) => !['docs/api.md', 'docs/development.md', 'docs/benchmarks.md'].includes(f));
  expect(userDocs).toEqual(expect.arrayContaining(['README.md', 'docs/install.md', 'docs/injection.md', 'docs/security.md']));
  const unknown: string[] = [];
  for (const file of userDocs) {
    for (const m of read(file).matchAll(/(?<![\w-])--[a-z][a-zA-Z0-9-]*/g)) {
      if (!known.has(m[0]) && !others.has(m[0])) unknown.push(`${file}: ${m[0]}`);
    }
  }
  expect([...new Set(unknown)]).toEqual([]);
});

test("README's quick start: the YAML parses, and its SecretSync passes the operator's validation", () => {
  const yamls = [...read('README.md').matchAll(/<<'YAML'\n([\s\S]*?)\nYAML\n/g)].map((m) => m[1] as string);
  expect(yamls.length).toBeGreaterThanOrEqual(2);
  const objects = yamls.flatMap((y) =>
    parseAllDocuments(y).map((d) => {
      expect(d.errors).toEqual([]);
      return d.toJS() as { kind: string; metadata: { name: string; namespace?: string }; spec: unknown };
    }),
  );
  expect(objects.map((o) => o.kind)).toEqual(['SecretSource', 'SecretSync', 'Pod']);
  const sync = objects.find((o) => o.kind === 'SecretSync') as unknown as SecretSync;
  expect(() => validateSecretSync(sync)).not.toThrow();
  const pod = objects.find((o) => o.kind === 'Pod') as unknown as { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: { serviceAccountName: string } };
  expect(pod.metadata.labels['secretsync.io/inject']).toBe('true');
  expect(pod.metadata.annotations['secretsync.io/inject']).toBe(sync.metadata.name);
  expect(sync.spec.access?.serviceAccounts).toContain(pod.spec.serviceAccountName);
});
