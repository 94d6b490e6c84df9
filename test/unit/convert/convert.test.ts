// `secretsync convert` on the ESO corpus (test/fixtures/eso/input): the output and the lines
// match the golden files, every converted object passes our CRD's OpenAPI schema (structure,
// types, enums, patterns, required; the CEL rules are checked by the API server in
// test/integration/kube/convert.test.ts) and the operator's semantic validation, and every
// field of the input is either carried or named in a line.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { JSONSchemaProps } from '../../../src/api/openapi.js';
import { clusterSecretSourceSchema, secretSourceSchema, secretSyncSchema } from '../../../src/api/schema.js';
import type { SecretSync } from '../../../src/api/types.js';
import { validateSecretSync } from '../../../src/api/validate.js';
import { convertDocuments, convertTexts, goDurationMs } from '../../../src/convert/index.js';
import { repoRoot } from '../../testenv/config.js';

const corpus = join(repoRoot, 'test', 'fixtures', 'eso', 'input');
const expected = join(repoRoot, 'test', 'fixtures', 'eso', 'expected');

function files(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : /\.ya?ml$/.test(f) ? [join(dir, f)] : []));
}
const input = () => files(corpus).map((f) => ({ source: relative(repoRoot, f), text: readFileSync(f, 'utf8') }));

/** The OpenAPI checks the API server applies before CEL: unknown fields, types, enums, patterns, lengths, required. */
function schemaErrors(v: unknown, s: JSONSchemaProps, path: string): string[] {
  const errs: string[] = [];
  if (s.type === 'object') {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return [`${path}: not an object`];
    const o = v as Record<string, unknown>;
    for (const r of s.required ?? []) if (o[r] === undefined) errs.push(`${path}.${r}: required`);
    for (const [k, val] of Object.entries(o)) {
      const p = s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
      if (p) errs.push(...schemaErrors(val, p, `${path}.${k}`));
      else if (!s['x-kubernetes-preserve-unknown-fields'] && s.additionalProperties !== true) errs.push(`${path}.${k}: unknown field`);
    }
  } else if (s.type === 'array') {
    if (!Array.isArray(v)) return [`${path}: not a list`];
    v.forEach((item, i) => s.items && errs.push(...schemaErrors(item, s.items, `${path}[${i}]`)));
  } else if (s.type === 'string') {
    if (typeof v !== 'string') return [`${path}: not a string`];
    if (s.pattern && !new RegExp(s.pattern).test(v)) errs.push(`${path}: does not match ${s.pattern}`);
    if (s.maxLength !== undefined && v.length > s.maxLength) errs.push(`${path}: too long`);
    if (s.minLength !== undefined && v.length < s.minLength) errs.push(`${path}: too short`);
  } else if (s.type === 'integer' && !Number.isInteger(v)) errs.push(`${path}: not an integer`);
  else if (s.type === 'boolean' && typeof v !== 'boolean') errs.push(`${path}: not a boolean`);
  if (s.enum && !s.enum.includes(v as string)) errs.push(`${path}: not one of ${s.enum.join(', ')}`);
  return errs;
}
const SCHEMAS: Record<string, JSONSchemaProps> = { SecretSync: secretSyncSchema, SecretSource: secretSourceSchema, ClusterSecretSource: clusterSecretSourceSchema };

test('the corpus converts to the golden output, with the golden lines', () => {
  const out = convertTexts(input());
  expect(out.yaml).toBe(readFileSync(join(expected, 'output.yaml'), 'utf8'));
  expect(out.lines.join('\n') + '\n').toBe(readFileSync(join(expected, 'stderr.txt'), 'utf8'));
  expect(out.converted).toBe(13);
});

test('every converted object passes our schema and semantic validation, keeping names and namespaces', () => {
  const out = convertTexts(input());
  const objects = parseAllDocuments(out.yaml).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string }; spec: unknown });
  expect(objects).toHaveLength(13);
  for (const o of objects) {
    const { metadata, spec } = o;
    expect(schemaErrors(spec, SCHEMAS[o.kind]!.properties!.spec!, `${o.kind} ${metadata.name}: spec`)).toEqual([]);
    if (o.kind === 'SecretSync') expect(() => validateSecretSync(o as unknown as SecretSync)).not.toThrow();
    if (o.kind === 'ClusterSecretSource') expect(metadata.namespace).toBeUndefined();
    else expect(metadata.namespace).toMatch(/^(team-a|payments)$/);
  }
});

test('no field is dropped silently: a field the converter does not know is a line', () => {
  const doc = {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: { name: 'x', namespace: 'n', uid: 'server-set' },
    spec: { secretStoreRef: { name: 's' }, data: [{ secretKey: 'a', remoteRef: { key: 'p', futureField: 1 } }], somethingNew: true },
  };
  const r = convertDocuments([{ source: '-', index: 0, doc }]);
  expect(r.objects).toHaveLength(1);
  expect(r.lines).toEqual([
    'ExternalSecret n/x: spec.data[0].remoteRef.futureField: a field the converter does not know; add its equivalent by hand',
    'ExternalSecret n/x: spec.somethingNew: a field the converter does not know; add its equivalent by hand',
  ]);
});

test('Go durations', () => {
  expect(goDurationMs('1h0m0s')).toBe(3_600_000);
  expect(goDurationMs('0')).toBe(0);
  expect(goDurationMs('1.5m')).toBe(90_000);
  expect(goDurationMs('1d')).toBeUndefined();
});

test('the CLI: a DIR recursively, stdin, and exit 1 when nothing converted', () => {
  const cli = (args: string[], stdin?: string) => spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli.ts'), 'convert', ...args], { cwd: repoRoot, encoding: 'utf8', input: stdin, timeout: 30_000 });
  const dir = cli([relative(repoRoot, corpus)]);
  expect(dir.status).toBe(0);
  expect(dir.stdout).toBe(readFileSync(join(expected, 'output.yaml'), 'utf8'));
  expect(dir.stderr).toBe(readFileSync(join(expected, 'stderr.txt'), 'utf8') + 'secretsync convert: 13 object(s) converted, 28 line(s) above\n');
  const none = cli(['-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n');
  expect(none.status).toBe(1);
  expect(none.stdout).toBe('');
  expect(none.stderr).toContain('-#1: passed over: ConfigMap v1 is not an ESO');
});
