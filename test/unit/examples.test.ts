// examples/ (what `make run` applies, and what users copy): every file parses, uses only
// the placeholders hack/demo.sh fills in, and every SecretSync passes the operator's own
// semantic validation. The CRD schema check is test/integration/kube/examples.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { SecretSync } from '../../src/api/types.js';
import { validateSecretSync } from '../../src/api/validate.js';
import { repoRoot } from '../testenv/config.js';

const dir = join(repoRoot, 'examples');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
const PLACEHOLDERS = ['${VAULT_ADDR}', '${AWS_REGION}', '${AWS_ENDPOINT_URL}'];

function objects(file: string): { kind: string; metadata: { name: string; namespace?: string } }[] {
  return parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as { kind: string; metadata: { name: string; namespace?: string } };
  });
}

test('the samples make run promises are there', () => {
  const all = files.flatMap(objects);
  const names = (kind: string) => all.filter((o) => o.kind === kind).map((o) => o.metadata.name).sort();
  expect(names('SecretSource')).toEqual(['aws', 'vault']);
  expect(names('SecretSync')).toEqual(['api-keys', 'app-token', 'aws-db-creds', 'db-creds', 'db-creds-sealed', 'db-url']);
  expect(names('Deployment')).toEqual(['web']);
  expect(names('Pod')).toEqual(['injected']);
});

test.each(files)('%s: namespaced in demo, only known placeholders, valid SecretSyncs', (file) => {
  const text = readFileSync(join(dir, file), 'utf8');
  for (const p of text.match(/\$\{[A-Z_]+\}/g) ?? []) expect(PLACEHOLDERS).toContain(p);
  for (const o of objects(file)) {
    if (o.kind !== 'Namespace') expect(o.metadata.namespace).toBe('demo');
    if (o.kind === 'SecretSync') expect(() => validateSecretSync(o as unknown as SecretSync)).not.toThrow();
  }
});
