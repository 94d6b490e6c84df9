// Writes crds/*.yaml and config/rbac/*.yaml from src/api (the one source of truth).
// Run: npm run crds
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCrds } from '../src/api/crds.js';
import { renderRbac } from '../src/api/rbac.js';

const root = join(import.meta.dirname, '..');
for (const [dir, files] of [
  ['crds', renderCrds()],
  [join('config', 'rbac'), renderRbac()],
] as const) {
  mkdirSync(join(root, dir), { recursive: true });
  for (const f of readdirSync(join(root, dir))) if (f.endsWith('.yaml')) rmSync(join(root, dir, f));
  for (const { file, yaml } of files) {
    writeFileSync(join(root, dir, file), yaml);
    console.log(`wrote ${dir}/${file}`);
  }
}
