import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { constraintsOf, renderApiDocs, typeOf } from '../../../src/api/api-docs.js';
import { arr, int, map, str } from '../../../src/api/openapi.js';
import { clusterSecretSourceSchema, secretSourceSchema, secretSyncSchema } from '../../../src/api/schema.js';
import type { JSONSchemaProps } from '../../../src/api/openapi.js';

const apiMd = join(import.meta.dirname, '..', '..', '..', 'docs', 'api.md');

test('docs/api.md matches the schema in src/api (run `npm run docs` after changing it)', () => {
  expect(readFileSync(apiMd, 'utf8')).toBe(renderApiDocs());
});

function paths(node: JSONSchemaProps, path: string, out: string[]): string[] {
  for (const [k, child] of Object.entries(node.properties ?? {})) {
    const p = path ? `${path}.${k}` : k;
    out.push(p);
    paths(child, p, out);
  }
  if (node.items) paths(node.items, `${path}[]`, out);
  if (node.additionalProperties && typeof node.additionalProperties === 'object') paths(node.additionalProperties, `${path}{}`, out);
  return out;
}

test.each([
  ['SecretSync', secretSyncSchema],
  ['SecretSource', secretSourceSchema],
  ['ClusterSecretSource', clusterSecretSourceSchema],
])('every field of %s has a row, and every CEL message is listed', (kind, schema) => {
  const md = renderApiDocs();
  const section = md.slice(md.indexOf(`## ${kind}\n`)).split(/\n## /)[0] ?? '';
  for (const p of paths(schema, '', [])) expect(section).toContain(`| \`${p}\` |`);
  const messages: string[] = [];
  const walk = (n: JSONSchemaProps) => {
    for (const r of n['x-kubernetes-validations'] ?? []) messages.push(r.message);
    Object.values(n.properties ?? {}).forEach(walk);
    if (n.items) walk(n.items);
  };
  walk(schema);
  expect(messages.length).toBeGreaterThan(0);
  for (const m of messages) expect(section).toContain(m.replace(/</g, '&lt;').replace(/>/g, '&gt;'));
});

test('types and constraints read as a user writes them', () => {
  expect(typeOf(arr('x', str('y')))).toBe('[]string');
  expect(typeOf(map('x', str('y')))).toBe('map[string]string');
  expect(constraintsOf(int('x', { minimum: 1, maximum: 10 }))).toEqual(['1 ≤ value ≤ 10']);
  expect(constraintsOf(str('x', { enum: ['A', 'B'], maxLength: 5 }))).toEqual(['one of `A`, `B`', 'length ≤ 5']);
});

test('a | inside a cell is escaped, so a pattern with alternatives keeps the table intact', () => {
  const row = renderApiDocs().split('\n').find((l) => l.startsWith('| `spec.refresh.interval` |'));
  expect(row).toContain('(ms\\|(\\.[0-9]+)?(s\\|m\\|h))');
  expect(row?.split(/(?<!\\)\|/).length).toBe(8); // 6 cells between 7 bars
});
