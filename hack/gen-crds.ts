// Writes crds/*.yaml, config/rbac/*.yaml and the Helm chart's copies (charts/secretsync/crds/,
// files/rbac-rules.yaml) from src/api (the one source of truth).
// Run: npm run crds
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCrds } from '../src/api/crds.js';
import { renderChartRbacRules, renderRbac } from '../src/api/rbac.js';

const root = join(import.meta.dirname, '..');
for (const [dir, files] of [
  ['crds', renderCrds()],
  [join('config', 'rbac'), renderRbac()],
  [join('charts', 'secretsync', 'crds'), renderCrds()],
] as const) {
  mkdirSync(join(root, dir), { recursive: true });
  for (const f of readdirSync(join(root, dir))) if (f.endsWith('.yaml')) rmSync(join(root, dir, f));
  for (const { file, yaml } of files) {
    writeFileSync(join(root, dir, file), yaml);
    console.log(`wrote ${dir}/${file}`);
  }
}
const rulesFile = join('charts', 'secretsync', 'files', 'rbac-rules.yaml');
mkdirSync(join(root, 'charts', 'secretsync', 'files'), { recursive: true });
writeFileSync(join(root, rulesFile), renderChartRbacRules());
console.log(`wrote ${rulesFile}`);
