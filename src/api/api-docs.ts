// docs/api.md, the API reference, rendered from the same schema as the CRDs (schema.ts,
// crds.ts): `npm run docs` writes it, and a unit test fails when the file drifts.
// Pure: returns the Markdown text.
import { CATEGORY, crdSpecs, type CrdSpec } from './crds.js';
import type { JSONSchemaProps } from './openapi.js';
import { API_VERSION } from './types.js';

interface Row {
  path: string;
  node: JSONSchemaProps;
  required: boolean;
}

interface CelRule {
  path: string;
  rule: string;
  message: string;
}

/** Every field below `node`, depth first in schema order; array items as `[]`, map values as `{}`. */
function fields(node: JSONSchemaProps, path: string, out: Row[]): Row[] {
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const p = path ? `${path}.${name}` : name;
    out.push({ path: p, node: child, required: (node.required ?? []).includes(name) });
    descend(child, p, out);
  }
  return out;
}

function descend(node: JSONSchemaProps, path: string, out: Row[]): void {
  if (node.properties) fields(node, path, out);
  if (node.items?.properties) fields(node.items, `${path}[]`, out);
  const values = node.additionalProperties;
  if (values && typeof values === 'object' && values.properties) fields(values, `${path}{}`, out);
}

function rules(node: JSONSchemaProps, path: string, out: CelRule[]): CelRule[] {
  for (const r of node['x-kubernetes-validations'] ?? []) out.push({ path: path || '(object)', rule: r.rule, message: r.message });
  for (const [name, child] of Object.entries(node.properties ?? {})) rules(child, path ? `${path}.${name}` : name, out);
  if (node.items) rules(node.items, `${path}[]`, out);
  if (node.additionalProperties && typeof node.additionalProperties === 'object') rules(node.additionalProperties, `${path}{}`, out);
  return out;
}

export function typeOf(node: JSONSchemaProps): string {
  if (node.type === 'array') return `[]${node.items ? typeOf(node.items) : 'any'}`;
  if (node.type === 'object' && node.additionalProperties && typeof node.additionalProperties === 'object') {
    return `map[string]${typeOf(node.additionalProperties)}`;
  }
  return node.type ?? 'any';
}

const code = (s: string) => `\`${s}\``;

/** Enum, pattern, format, limits and list semantics, in words. */
export function constraintsOf(node: JSONSchemaProps): string[] {
  const c: string[] = [];
  if (node.enum) c.push(`one of ${node.enum.map((v) => code(String(v))).join(', ')}`);
  if (node.pattern) c.push(`pattern ${code(node.pattern)}`);
  if (node.format) c.push(`format ${code(node.format)}`);
  const range = (what: string, min?: number, max?: number) => {
    if (min !== undefined && max !== undefined) c.push(`${min} ≤ ${what} ≤ ${max}`);
    else if (min !== undefined) c.push(`${what} ≥ ${min}`);
    else if (max !== undefined) c.push(`${what} ≤ ${max}`);
  };
  range('value', node.minimum, node.maximum);
  range('length', node.minLength, node.maxLength);
  range('items', node.minItems, node.maxItems);
  range('properties', node.minProperties, node.maxProperties);
  if (node['x-kubernetes-list-type'] === 'set') c.push('unique items');
  if (node['x-kubernetes-list-type'] === 'map') c.push(`unique by ${(node['x-kubernetes-list-map-keys'] ?? []).map(code).join(' + ')}`);
  if (node['x-kubernetes-validations']?.length) c.push('CEL rules below');
  return c;
}

/** Text safe inside one Markdown table cell (GFM splits cells on `|`, even inside code). */
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
/** Prose outside code spans: `<sync>` would otherwise be read as an HTML tag. */
const prose = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function describe(row: Row): string {
  if (row.path === 'metadata') return 'Standard Kubernetes object metadata (name, namespace, labels, annotations, ...).';
  return row.node.description ?? '';
}

function fieldTable(rows: Row[]): string[] {
  const lines = ['| field | type | required | default | constraints | description |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const dflt = r.node.default === undefined ? '' : code(JSON.stringify(r.node.default));
    lines.push(
      `| ${cell(code(r.path))} | ${cell(typeOf(r.node))} | ${r.required ? 'yes' : ''} | ${cell(dflt)} | ${cell(constraintsOf(r.node).join('; '))} | ${cell(prose(describe(r)))} |`,
    );
  }
  return lines;
}

function ruleTable(list: CelRule[]): string[] {
  if (list.length === 0) return [];
  return [
    '',
    'CEL validation rules (checked by the API server on create and update; the message is what `kubectl` prints):',
    '',
    '| on | rule | message |',
    '|---|---|---|',
    ...list.map((r) => `| ${cell(code(r.path))} | ${cell(code(r.rule))} | ${cell(prose(r.message))} |`),
  ];
}

function kindSection(s: CrdSpec): string[] {
  const names = [s.singular, s.plural, ...s.shortNames].map(code).join(', ');
  const columns = s.columns.map((c) => (c.priority ? `${c.name} (-o wide)` : c.name)).join(', ');
  return [
    `## ${s.kind}`,
    '',
    prose(s.schema.description ?? ''),
    '',
    `- \`apiVersion: ${API_VERSION}\`, \`kind: ${s.kind}\`, ${s.scope === 'Cluster' ? 'cluster-scoped' : 'namespaced'}`,
    `- kubectl names: ${names}; category ${code(CATEGORY)}`,
    `- \`kubectl get\` columns: ${columns}`,
    '',
    ...fieldTable(fields(s.schema, '', [])),
    ...ruleTable(rules(s.schema, '', [])),
    '',
  ];
}

/** The whole of docs/api.md. */
export function renderApiDocs(): string {
  return [
    `<!-- Generated from src/api/schema.ts by \`npm run docs\`. Do not edit. -->`,
    '',
    `# API reference: ${API_VERSION}`,
    '',
    `Every field of the three kinds, from the schema the CRDs are built from (\`kubectl explain\` shows the same descriptions).`,
    `Paths use \`[]\` for the items of a list and \`{}\` for the values of a map. "required" means required when its parent is set.`,
    `\`status\` is written by the operator only.`,
    `What the schema cannot check, the operator checks and reports as \`Ready=False\` with reason \`InvalidSpec\` ([errors.md](errors.md)).`,
    '',
    ...crdSpecs.map((s) => `- [${s.kind}](#${s.kind.toLowerCase()})`),
    '',
    ...crdSpecs.flatMap(kindSection),
  ].join('\n');
}
