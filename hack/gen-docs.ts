// Writes docs/api.md from src/api/schema.ts (the one source of truth, as for crds/).
// Run: npm run docs
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderApiDocs } from '../src/api/api-docs.js';

const file = join(import.meta.dirname, '..', 'docs', 'api.md');
writeFileSync(file, renderApiDocs());
console.log('wrote docs/api.md');
