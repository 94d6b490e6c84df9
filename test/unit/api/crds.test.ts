import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { crdObjects, renderCrds } from '../../../src/api/crds.js';
import type { JSONSchemaProps } from '../../../src/api/openapi.js';
import { clusterSecretSourceSchema, secretSourceSchema, secretSyncSchema } from '../../../src/api/schema.js';

const crdDir = join(import.meta.dirname, '..', '..', '..', 'crds');

test('crds/ matches the schema in src/api (run `npm run crds` after changing it)', () => {
  const rendered = renderCrds();
  const files = readdirSync(crdDir).filter((f) => f.endsWith('.yaml')).sort();
  expect(files).toEqual(rendered.map((r) => r.file).sort());
  for (const r of rendered) expect(readFileSync(join(crdDir, r.file), 'utf8')).toBe(r.yaml);
});

function undocumented(node: JSONSchemaProps, path: string, out: string[]): string[] {
  for (const [k, child] of Object.entries(node.properties ?? {})) {
    const p = `${path}.${k}`;
    if (k !== 'metadata' && !child.description) out.push(p);
    undocumented(child, p, out);
  }
  if (node.items) undocumented(node.items, `${path}[]`, out);
  if (node.additionalProperties && typeof node.additionalProperties === 'object') undocumented(node.additionalProperties, `${path}{}`, out);
  return out;
}

test.each([
  ['SecretSync', secretSyncSchema],
  ['SecretSource', secretSourceSchema],
  ['ClusterSecretSource', clusterSecretSourceSchema],
])('every field of %s has a description (kubectl explain)', (_kind, schema) => {
  expect(undocumented(schema, '', [])).toEqual([]);
});

test('SecretSync printer columns are the documented ones', () => {
  const crd = renderCrds().find((r) => r.file.includes('secretsyncs'));
  for (const col of ['Ready', 'Source', 'Version', 'Last Sync', 'Next Rotation', 'Age']) expect(crd?.yaml).toContain(`name: ${col}`);
});

test('no category equals a resource name of ours (kubectl expands categories first)', () => {
  const names = crdObjects().map((crd) => (crd.spec as { names: { kind: string; plural: string; singular: string; shortNames?: string[]; categories?: string[] } }).names);
  const resourceNames = new Set(names.flatMap((n) => [n.plural, n.singular, n.kind, ...(n.shortNames ?? [])].map((x) => x.toLowerCase())));
  const categories = names.flatMap((n) => n.categories ?? []);
  expect(categories.length).toBeGreaterThan(0);
  expect(categories.filter((c) => resourceNames.has(c.toLowerCase()))).toEqual([]);
});
