// Writes crds/*.yaml from src/api (the one source of truth). Run: npm run crds
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCrds } from '../src/api/crds.js';

const dir = join(import.meta.dirname, '..', 'crds');
mkdirSync(dir, { recursive: true });
for (const f of readdirSync(dir)) if (f.endsWith('.yaml')) rmSync(join(dir, f));
for (const { file, yaml } of renderCrds()) {
  writeFileSync(join(dir, file), yaml);
  console.log(`wrote crds/${file}`);
}
