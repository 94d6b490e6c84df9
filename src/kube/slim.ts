// What the caches keep of SecretSyncs and of our Secrets (list-watch transforms, as
// client-go's TransformFunc): everything the operator reads, without managedFields, which
// are most of an object's bytes. Of a Secret's managedFields only the label and annotation
// keys our field manager owns are kept (target.ts ownedMetadataKeys reads them), in the
// same fieldsV1 shape, so the rest of the code sees an ordinary, smaller object.
import { FIELD_MANAGER } from '../api/types.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Any object without metadata.managedFields (a SecretSync, a source). */
export function withoutManagedFields<T>(o: T): T {
  if (!isObj(o) || !isObj(o.metadata) || !('managedFields' in o.metadata)) return o;
  const { managedFields: _dropped, ...metadata } = o.metadata;
  return { ...o, metadata } as T;
}

/** Keeps, per entry of our manager, only `f:metadata` `f:labels` / `f:annotations` keys. */
function ourMetadataFields(entries: unknown): Obj[] | undefined {
  if (!Array.isArray(entries)) return undefined;
  const kept: Obj[] = [];
  for (const e of entries) {
    if (!isObj(e) || e.manager !== FIELD_MANAGER) continue;
    const meta = isObj(e.fieldsV1) && isObj(e.fieldsV1['f:metadata']) ? e.fieldsV1['f:metadata'] : {};
    const f: Obj = {};
    for (const k of ['f:labels', 'f:annotations']) {
      if (isObj(meta[k])) f[k] = Object.fromEntries(Object.keys(meta[k]).filter((x) => x.startsWith('f:')).map((x) => [x, {}]));
    }
    if (Object.keys(f).length > 0) kept.push({ manager: e.manager, fieldsV1: { 'f:metadata': f } });
  }
  return kept.length > 0 ? kept : undefined;
}

/** A Secret as the cache keeps it: managedFields reduced to the metadata keys we own. */
export function slimSecret<T>(o: T): T {
  if (!isObj(o) || !isObj(o.metadata)) return o;
  const { managedFields, ...metadata } = o.metadata;
  const ours = ourMetadataFields(managedFields);
  return { ...o, metadata: ours ? { ...metadata, managedFields: ours } : metadata } as T;
}
