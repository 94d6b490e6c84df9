// The CustomResourceDefinitions built from schema.ts. crds/*.yaml are rendered from
// these (`npm run crds`), and a unit test fails when the files drift.
import { stringify } from 'yaml';
import type { JSONSchemaProps } from './openapi.js';
import { clusterSecretSourceSchema, secretSourceSchema, secretSyncSchema } from './schema.js';
import { GROUP, VERSION } from './types.js';

interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
}

export interface CrdSpec {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: 'Namespaced' | 'Cluster';
  schema: JSONSchemaProps;
  columns: PrinterColumn[];
}

const ready: PrinterColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: 'Whether the object is ready',
};
const reason: PrinterColumn = {
  name: 'Reason',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
  description: 'Why it is (not) ready',
  priority: 1,
};
/**
 * `kubectl get secretsync-all` lists every kind of ours. kubectl expands a category before
 * it looks for a resource, so a category must never equal a plural, singular or short
 * name: `secretsync` did, and broke `kubectl get secretsync NAME`.
 */
export const CATEGORY = 'secretsync-all';

const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Age' };

export const crdSpecs: CrdSpec[] = [
  {
    kind: 'SecretSync',
    plural: 'secretsyncs',
    singular: 'secretsync',
    shortNames: ['ssync'],
    scope: 'Namespaced',
    schema: secretSyncSchema,
    columns: [
      ready,
      { name: 'Source', type: 'string', jsonPath: '.spec.sourceRef.name', description: 'Source it reads through' },
      { name: 'Version', type: 'integer', jsonPath: '.status.version', description: 'Version of the synced content' },
      { name: 'Last Sync', type: 'date', jsonPath: '.status.lastSyncTime', description: 'Last successful read' },
      // A string, not a date: kubectl prints a future date as <invalid>.
      { name: 'Next Rotation', type: 'string', jsonPath: '.status.nextRotationTime', description: 'Next scheduled rotation (UTC)' },
      age,
      reason,
    ],
  },
  {
    kind: 'SecretSource',
    plural: 'secretsources',
    singular: 'secretsource',
    shortNames: ['ssrc'],
    scope: 'Namespaced',
    schema: secretSourceSchema,
    columns: [ready, age, reason],
  },
  {
    kind: 'ClusterSecretSource',
    plural: 'clustersecretsources',
    singular: 'clustersecretsource',
    shortNames: ['cssrc'],
    scope: 'Cluster',
    schema: clusterSecretSourceSchema,
    columns: [ready, age, reason],
  },
];

export function crdObject(s: CrdSpec): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${s.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'secretsync', 'app.kubernetes.io/part-of': 'secretsync' },
    },
    spec: {
      group: GROUP,
      scope: s.scope,
      names: {
        kind: s.kind,
        listKind: `${s.kind}List`,
        plural: s.plural,
        singular: s.singular,
        shortNames: s.shortNames,
        categories: [CATEGORY],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: s.columns,
          schema: { openAPIV3Schema: s.schema },
        },
      ],
    },
  };
}

export function crdObjects(): Record<string, unknown>[] {
  return crdSpecs.map(crdObject);
}

/** File name and YAML text for each CRD, as committed in crds/. */
export function renderCrds(): { file: string; yaml: string }[] {
  return crdSpecs.map((s) => ({
    file: `${GROUP}_${s.plural}.yaml`,
    yaml: `# Generated from src/api/schema.ts by \`npm run crds\`. Do not edit.\n${stringify(crdObject(s), { lineWidth: 0 })}`,
  }));
}
