// The Helm chart's generated files: its crds/ are the top-level crds/ byte for byte, and
// its RBAC rule sets are src/api/rbac.ts's (both written by `npm run crds`).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { renderChartRbacRules } from '../../../src/api/rbac.js';

const root = join(import.meta.dirname, '..', '..', '..');
const chart = join(root, 'charts', 'secretsync');

test('charts/secretsync/crds/ holds the same files as crds/, byte for byte (run `npm run crds`)', () => {
  const top = readdirSync(join(root, 'crds')).sort();
  expect(readdirSync(join(chart, 'crds')).sort()).toEqual(top);
  for (const f of top) expect([f, readFileSync(join(chart, 'crds', f)).equals(readFileSync(join(root, 'crds', f)))]).toEqual([f, true]);
});

test('charts/secretsync/files/rbac-rules.yaml is rendered from src/api/rbac.ts (run `npm run crds`)', () => {
  expect(readFileSync(join(chart, 'files', 'rbac-rules.yaml'), 'utf8')).toBe(renderChartRbacRules());
});

test("the chart's appVersion is the operator's version (the image tag)", () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  expect(readFileSync(join(chart, 'Chart.yaml'), 'utf8')).toMatch(new RegExp(`^appVersion: "${pkg.version.replace(/\./g, '\\.')}"$`, 'm'));
});
