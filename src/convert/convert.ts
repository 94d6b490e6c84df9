// `secretsync convert`: ESO ExternalSecret / SecretStore / ClusterSecretStore objects (parsed
// YAML, external-secrets.io/v1 and v1beta1) to SecretSync / SecretSource / ClusterSecretSource.
// Pure: every field of the input is either carried over or named in a line saying why not
// (Fields.done() reports any field nobody read). The CLI (src/cli.ts) does the I/O.
import { API_VERSION } from '../api/types.js';
import { convertExternalSecret } from './external-secret.js';
import { Fields, isObj, Unconvertible } from './fields.js';
import type { Obj, StoreInfo } from './fields.js';
import { convertStoreSpec } from './store.js';

export const ESO_API_VERSIONS: readonly string[] = ['external-secrets.io/v1', 'external-secrets.io/v1beta1'];

export interface ConvertResult {
  /** Our objects, in input order. */
  objects: Obj[];
  /** One line per field not carried over, per object not converted, per document passed over. */
  lines: string[];
}

/** Metadata the API server sets: never carried, never reported. */
const SERVER_METADATA = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds'];
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Converts every document; `source` names the file (or "-") in the lines. */
export function convertDocuments(docs: { source: string; index: number; doc: unknown }[]): ConvertResult {
  const objects: Obj[] = [];
  const lines: string[] = [];
  const stores = new Map<string, StoreInfo>();
  const storeKey = (kind: string, ns: string | undefined, name: string) => `${kind}/${kind === 'ClusterSecretStore' ? '' : (ns ?? '')}/${name}`;
  // Stores first, so an ExternalSecret before its store in the input still knows the KV mount.
  const ordered = [...docs].sort((a, b) => rank(a.doc) - rank(b.doc));
  const out = new Map<unknown, Obj>();
  const docLines = new Map<unknown, string[]>();
  for (const { source, index, doc } of ordered) {
    if (doc === null || doc === undefined) continue;
    const lines: string[] = [];
    docLines.set(doc, lines);
    const where = `${source}#${index + 1}`;
    if (!isObj(doc)) {
      lines.push(`${where}: passed over: not a Kubernetes object`);
      continue;
    }
    const kind = String(doc.kind ?? '');
    const apiVersion = String(doc.apiVersion ?? '');
    const name = isObj(doc.metadata) ? String(doc.metadata.name ?? '') : '';
    const ns = isObj(doc.metadata) && typeof doc.metadata.namespace === 'string' ? doc.metadata.namespace : undefined;
    const id = `${kind} ${ns ? `${ns}/` : ''}${name}`;
    if (!['ExternalSecret', 'SecretStore', 'ClusterSecretStore'].includes(kind) || !ESO_API_VERSIONS.includes(apiVersion)) {
      lines.push(`${where}: passed over: ${kind || 'no kind'} ${apiVersion || 'no apiVersion'} is not an ESO ExternalSecret, SecretStore or ClusterSecretStore (v1, v1beta1)`);
      continue;
    }
    const objLines: string[] = [];
    const report = (path: string, why: string) => objLines.push(`${id}: ${path}: ${why}`);
    try {
      const root = new Fields(doc, '', report);
      root.take('apiVersion');
      root.take('kind');
      root.take('status');
      const metadata = convertMetadata(root.sub('metadata'));
      if (!metadata.name) throw new Unconvertible('metadata.name is missing');
      const spec = root.sub('spec');
      if (!spec) throw new Unconvertible('spec is missing');
      let converted: Obj;
      if (kind === 'ExternalSecret') {
        const ref = isObj(doc.spec) && isObj(doc.spec.secretStoreRef) ? doc.spec.secretStoreRef : {};
        const refKind = ref.kind === 'ClusterSecretStore' ? 'ClusterSecretStore' : 'SecretStore';
        const info = stores.get(storeKey(refKind, ns, String(ref.name ?? '')));
        converted = { apiVersion: API_VERSION, kind: 'SecretSync', metadata, spec: convertExternalSecret(spec, info) };
      } else {
        const info: StoreInfo = {};
        const ourSpec: Obj = convertStoreSpec(spec, { cluster: kind === 'ClusterSecretStore', namespace: ns }, info);
        stores.set(storeKey(kind, ns, metadata.name as string), info);
        converted = { apiVersion: API_VERSION, kind: kind === 'SecretStore' ? 'SecretSource' : 'ClusterSecretSource', metadata, spec: ourSpec };
      }
      spec.done();
      root.done();
      out.set(doc, converted);
      lines.push(...objLines);
    } catch (err) {
      if (!(err instanceof Unconvertible)) throw err;
      lines.push(...objLines, `${id}: not converted: ${err.message}`);
    }
  }
  for (const { doc } of docs) {
    const o = out.get(doc);
    if (o) objects.push(o);
    lines.push(...(docLines.get(doc) ?? []));
  }
  return { objects, lines };
}

function rank(doc: unknown): number {
  return isObj(doc) && (doc.kind === 'SecretStore' || doc.kind === 'ClusterSecretStore') ? 0 : 1;
}

function convertMetadata(m: Fields | undefined): Obj {
  if (!m) return {};
  const out: Obj = {};
  const name = m.str('name');
  if (name !== undefined) out.name = name;
  const ns = m.str('namespace');
  if (ns !== undefined) out.namespace = ns;
  const labels = m.take('labels');
  if (isObj(labels) && Object.keys(labels).length > 0) out.labels = labels;
  const annotations = m.take('annotations');
  if (isObj(annotations)) {
    const kept = Object.fromEntries(Object.entries(annotations).filter(([k]) => k !== LAST_APPLIED));
    if (Object.keys(kept).length > 0) out.annotations = kept;
  }
  for (const k of SERVER_METADATA) m.take(k);
  m.cannot('finalizers', "ESO's finalizers belong to ESO's controller");
  m.cannot('ownerReferences', 'the owners are not converted with it; set them again if you need them');
  m.cannot('generateName', 'ours needs a fixed name');
  m.done();
  return out;
}
