// The admission.k8s.io/v1 AdmissionReview, only the fields the webhook reads or writes
// (https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/).

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface AdmissionRequest {
  /** Copied into the response; the API server matches on it. */
  uid: string;
  kind: GroupVersionKind;
  /** The object's namespace (for a Pod being created, the namespace it is created in). */
  namespace?: string;
  /** The object's name; empty for a Pod with generateName. */
  name?: string;
  operation: Operation;
  /** The object as it is to be admitted (a Pod for the injection webhook). */
  object?: unknown;
  /** True when the request is a dry run: no side effects (the webhook has none). */
  dryRun?: boolean;
  userInfo?: { username?: string; uid?: string; groups?: string[] };
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  /** Base64 of a JSON Patch (RFC 6902) document; with patchType 'JSONPatch'. */
  patch?: string;
  patchType?: 'JSONPatch';
  /** Shown to the user when the request is refused. */
  status?: { code?: number; message?: string };
  /** Shown to the user (kubectl prints them) whether or not the request is allowed. */
  warnings?: string[];
}

export interface AdmissionReview {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: 'AdmissionReview';
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

/** What the server calls for each review; the response's uid is set by the server anyway. */
export type AdmissionHandler = (review: AdmissionReview & { request: AdmissionRequest }) => Promise<AdmissionResponse>;

/** A JSON Patch operation, for building `patch`. */
export type JsonPatchOp =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string };

/** The response that applies `ops` (none: allowed unchanged). */
export function patchResponse(uid: string, ops: JsonPatchOp[], warnings?: string[]): AdmissionResponse {
  const base: AdmissionResponse = { uid, allowed: true, ...(warnings?.length ? { warnings } : {}) };
  if (ops.length === 0) return base;
  return { ...base, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops), 'utf8').toString('base64') };
}

/** A refusal with a message for the user (it must not contain secret data). */
export function refuse(uid: string, message: string, code = 403): AdmissionResponse {
  return { uid, allowed: false, status: { code, message } };
}

/** A JSON Pointer token (RFC 6901): `~` and `/` escaped, as in annotation keys. */
export function pointerToken(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Checks the shape the server relies on; the handler gets a review with a request. */
export function parseReview(body: unknown): (AdmissionReview & { request: AdmissionRequest }) | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const r = body as Partial<AdmissionReview>;
  if (r.apiVersion !== ADMISSION_API_VERSION || r.kind !== 'AdmissionReview') return undefined;
  const q = r.request as Partial<AdmissionRequest> | undefined;
  if (!q || typeof q !== 'object' || typeof q.uid !== 'string' || q.uid === '' || typeof q.operation !== 'string') return undefined;
  if (!q.kind || typeof q.kind !== 'object') return undefined;
  return r as AdmissionReview & { request: AdmissionRequest };
}
