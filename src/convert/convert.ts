// `secretsync convert`: ESO ExternalSecret / SecretStore / ClusterSecretStore objects (parsed
// YAML, external-secrets.io/v1 and v1beta1) to SecretSync / SecretSource / ClusterSecretSource.
// Pure: every field of the input is either carried over or named in a line saying why not
// (Fields.done() reports any field nobody read). The CLI (src/cli.ts) does the I/O.
import { parseDuration } from '../api/duration.js';
import { referencedKeys } from '../api/template.js';
import { API_VERSION, STS_AUDIENCE } from '../api/types.js';
import type { AwsProviderSpec, ClusterSecretSourceSpec, DataEntry, DataFromEntry, RefreshSpec, SecretSyncSpec, TargetSpec, VaultAuth, VaultProviderSpec } from '../api/types.js';
import { Fields, isObj } from './fields.js';
import type { Obj } from './fields.js';
import { TemplateUnsupported, translateTemplate } from './template.js';

export const ESO_API_VERSIONS: readonly string[] = ['external-secrets.io/v1', 'external-secrets.io/v1beta1'];

export interface ConvertResult {
  /** Our objects, in input order. */
  objects: Obj[];
  /** One line per field not carried over, per object not converted, per document passed over. */
  lines: string[];
}

/** What a store converted earlier in the same input says about remote paths (the Vault KV mount). */
interface StoreInfo {
  vaultMount?: string;
}

/** Metadata the API server sets: never carried, never reported. */
const SERVER_METADATA = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds'];
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

class Unconvertible extends Error {}

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

// ---------------------------------------------------------------- stores

function convertStoreSpec(spec: Fields, ctx: StoreCtx, info: StoreInfo): Obj {
  const cluster = ctx.cluster;
  const out: Obj = {};
  const provider = spec.sub('provider');
  if (!provider) throw new Unconvertible('spec.provider is missing');
  const vault = provider.sub('vault');
  const aws = provider.sub('aws');
  for (const k of Object.keys(provider.obj)) {
    if (k !== 'vault' && k !== 'aws') provider.cannot(k, `the ${k} provider: secretsync reads Vault/OpenBao and AWS Secrets Manager only`);
  }
  if (vault) out.vault = convertVault(vault, info, ctx);
  else if (aws) out.aws = convertAws(aws, ctx);
  else throw new Unconvertible('no vault or aws provider (see the lines above)');
  spec.cannot('controller', 'ours has no controller classes: every operator serves every source');
  spec.cannot('retrySettings', 'ours retries with its own backoff');
  spec.cannot('refreshInterval', "ours checks a source's provider block when it changes, not on an interval");
  const conditions = spec.list('conditions');
  if (cluster) {
    Object.assign(out, convertConditions(conditions));
  } else if (conditions.length > 0) {
    spec.cannot('conditions', 'a SecretStore has no conditions');
  }
  return out;
}

function convertConditions(conditions: ReturnType<Fields['list']>): Partial<ClusterSecretSourceSpec> {
  // ESO: no conditions admit every namespace; each condition admits the namespaces it names
  // or its selector matches. Ours: the union of allowedNamespaces and one namespaceSelector.
  if (conditions.length === 0) {
    return { namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'Exists' }] } };
  }
  const names: string[] = [];
  let selector: Obj | undefined;
  for (const c of conditions) {
    if (!c.f) continue;
    for (const n of (c.f.take('namespaces') as unknown[] | undefined) ?? []) if (typeof n === 'string' && !names.includes(n)) names.push(n);
    const sel = c.f.take('namespaceSelector');
    if (isObj(sel)) {
      if (selector === undefined) selector = sel;
      else c.f.cannot('namespaceSelector', 'ours has one namespaceSelector: the first condition\'s is kept; merge this one into it or list its namespaces');
    }
    c.f.cannot('namespaceRegexes', 'ours has no regexes: list the namespaces in allowedNamespaces or label them for namespaceSelector');
    c.f.done();
  }
  const out: Partial<ClusterSecretSourceSpec> = {};
  if (names.length > 0) out.allowedNamespaces = names;
  if (selector) out.namespaceSelector = selector as ClusterSecretSourceSpec['namespaceSelector'];
  return out;
}

/** Where a store's references resolve: its own namespace (a SecretStore) or, for ours, the operator's (a ClusterSecretStore). */
interface StoreCtx {
  cluster: boolean;
  namespace?: string;
}

/**
 * A namespace on a reference: ours resolves references in the source's own namespace (the
 * operator's for a ClusterSecretSource), so another namespace is reported and left out.
 */
function refNamespace(f: Fields, ctx: StoreCtx): void {
  const ns = f.obj.namespace;
  if (ns === undefined || ns === null) return;
  if (!ctx.cluster && ns === ctx.namespace) {
    f.take('namespace');
    return;
  }
  f.cannot('namespace', ctx.cluster ? "ours reads a ClusterSecretSource's references in the operator's namespace: put the object there" : "ours reads a SecretSource's references in its own namespace: put the object there");
}

function secretKeyRef(f: Fields | undefined, ctx: StoreCtx): { name: string; key: string } | undefined {
  if (!f) return undefined;
  const name = f.str('name');
  const key = f.str('key');
  refNamespace(f, ctx);
  f.done();
  if (!name || !key) throw new Unconvertible(`${f.path} needs name and key`);
  return { name, key };
}

function convertVault(v: Fields, info: StoreInfo, ctx: StoreCtx): VaultProviderSpec {
  const address = v.str('server');
  if (!address) throw new Unconvertible(`${v.path}.server is missing`);
  const out: Partial<VaultProviderSpec> = { address };
  const ns = v.str('namespace');
  if (ns) out.namespace = ns;
  const ca = v.str('caBundle');
  if (ca) out.caBundle = Buffer.from(ca, 'base64').toString('utf8'); // ESO's is base64 of the PEM; ours is the PEM
  v.cannot('caProvider', 'ours takes the CA bundle inline (caBundle): copy the PEM from that Secret or ConfigMap');
  const mount = v.str('path');
  const version = v.str('version');
  const kv: { mount?: string; version?: 1 | 2 } = {};
  if (mount) kv.mount = mount.replace(/^\/+|\/+$/g, '');
  if (version === 'v1') kv.version = 1;
  else if (version === 'v2') kv.version = 2;
  else if (version !== undefined) throw new Unconvertible(`${v.path}.version "${version}" is neither v1 nor v2`);
  if (Object.keys(kv).length > 0) out.kv = kv;
  info.vaultMount = kv.mount ?? 'secret';
  const tls = v.sub('tls');
  if (tls) {
    const cert = secretKeyRef(tls.sub('certSecretRef'), ctx);
    const key = secretKeyRef(tls.sub('keySecretRef'), ctx);
    if (cert && key) out.tls = { certSecretRef: cert, keySecretRef: key };
    else if (cert || key) tls.cannot(cert ? 'certSecretRef' : 'keySecretRef', 'ours needs both the certificate and its key');
    tls.done();
  }
  v.cannot('readYourWrites', 'ours has no read-your-writes option (it is for Vault performance standbys)');
  v.cannot('forwardInconsistent', 'ours has no forwarding option');
  v.cannot('headers', 'ours sends no custom headers');
  v.cannot('checkAndSet', 'ours always uses check-and-set when it rotates');
  const auth = v.sub('auth');
  if (!auth) throw new Unconvertible(`${v.path}.auth is missing`);
  out.auth = convertVaultAuth(auth, ctx);
  v.done();
  return out as VaultProviderSpec;
}

function convertVaultAuth(a: Fields, ctx: StoreCtx): VaultAuth {
  const out: VaultAuth = {};
  const token = secretKeyRef(a.sub('tokenSecretRef'), ctx);
  if (token) out.token = { secretRef: token };
  const k = a.sub('kubernetes');
  if (k) {
    const role = k.str('role');
    const mount = k.str('mountPath');
    const sa = k.sub('serviceAccountRef');
    k.cannot('secretRef', 'ours requests short-lived tokens: name a service account in serviceAccountRef instead of a stored token');
    if (role && sa) {
      const name = sa.str('name');
      const aud = sa.take('audiences') as string[] | undefined;
      refNamespace(sa, ctx);
      sa.done();
      if (name) out.kubernetes = { role, serviceAccountRef: { name }, ...(mount ? { mount } : {}), ...(aud?.length ? { audiences: aud } : {}) };
    } else if (role) {
      a.cannot('kubernetes', "without serviceAccountRef ESO uses its controller's own token; ours needs a service account named in serviceAccountRef");
    }
    k.done();
  }
  const ar = a.sub('appRole');
  if (ar) {
    const roleId = ar.str('roleId');
    const mount = ar.str('path');
    ar.cannot('roleRef', 'ours takes roleId inline: copy it from that Secret');
    const secretIdRef = secretKeyRef(ar.sub('secretRef'), ctx);
    if (roleId && secretIdRef) out.appRole = { roleId, secretIdRef, ...(mount ? { mount } : {}) };
    ar.done();
  }
  const jwt = a.sub('jwt');
  if (jwt) {
    const role = jwt.str('role');
    const mount = jwt.str('path');
    const secretRef = secretKeyRef(jwt.sub('secretRef'), ctx);
    const kt = jwt.sub('kubernetesServiceAccountToken');
    let kst: NonNullable<VaultAuth['jwt']>['kubernetesServiceAccountToken'];
    if (kt) {
      const sa = kt.sub('serviceAccountRef');
      const saName = sa?.str('name');
      const aud = [...((kt.take('audiences') as string[] | undefined) ?? []), ...((sa?.take('audiences') as string[] | undefined) ?? [])];
      if (sa) refNamespace(sa, ctx);
      sa?.done();
      kt.cannot('expirationSeconds', 'ours requests tokens of the API server\'s default lifetime');
      if (saName) kst = { serviceAccountRef: { name: saName }, ...(aud.length ? { audiences: [...new Set(aud)] } : {}) };
      kt.done();
    }
    if (role) out.jwt = { role, ...(mount ? { mount } : {}), ...(secretRef ? { secretRef } : {}), ...(kst ? { kubernetesServiceAccountToken: kst } : {}) };
    else jwt.cannot('role', 'ours needs a role');
    jwt.done();
  }
  const cert = a.sub('cert');
  if (cert) {
    const clientCert = secretKeyRef(cert.sub('clientCert'), ctx);
    const key = secretKeyRef(cert.sub('secretRef'), ctx);
    const mount = cert.str('path');
    if (clientCert && key) out.cert = { clientCert, secretRef: key, ...(mount ? { mount } : {}) };
    cert.done();
  }
  for (const m of Object.keys(a.obj)) {
    if (!['tokenSecretRef', 'kubernetes', 'appRole', 'jwt', 'cert'].includes(m)) a.cannot(m, `Vault ${m} auth: ours logs in with token, kubernetes, appRole, jwt or cert`);
  }
  const set = Object.keys(out);
  if (set.length === 0) throw new Unconvertible(`${a.path}: no auth method ours has (see the lines above)`);
  if (set.length > 1) throw new Unconvertible(`${a.path} sets ${set.join(', ')}: ours takes exactly one`);
  a.done();
  return out;
}

function convertAws(a: Fields, ctx: StoreCtx): AwsProviderSpec {
  const service = a.str('service');
  if (service !== 'SecretsManager') throw new Unconvertible(`${a.path}.service ${service ?? '(missing)'}: ours reads AWS Secrets Manager only`);
  const region = a.str('region');
  if (!region) throw new Unconvertible(`${a.path}.region is missing`);
  const out: AwsProviderSpec = { region };
  const role = a.str('role');
  if (role) out.roleArn = role;
  const externalId = a.str('externalID');
  if (externalId) out.externalId = externalId;
  const tags = a.list('sessionTags');
  if (tags.length > 0) out.sessionTags = tags.map((t) => ({ key: String(t.f?.str('key') ?? ''), value: String(t.f?.str('value') ?? '') }));
  for (const t of tags) t.f?.done();
  a.cannot('additionalRoles', 'ours assumes one role (roleArn)');
  a.cannot('transitiveTagKeys', 'ours sends session tags without transitive keys');
  a.cannot('prefix', 'ours has no path prefix: write the full secret names in the SecretSyncs');
  a.cannot('secretsManager', 'ours never deletes at the source, so its delete options have no use');
  const auth = a.sub('auth');
  if (auth) {
    const s = auth.sub('secretRef');
    if (s) {
      const accessKeyIdRef = secretKeyRef(s.sub('accessKeyIDSecretRef'), ctx);
      const secretAccessKeyRef = secretKeyRef(s.sub('secretAccessKeySecretRef'), ctx);
      const sessionTokenSecretRef = secretKeyRef(s.sub('sessionTokenSecretRef'), ctx);
      if (accessKeyIdRef && secretAccessKeyRef) out.auth = { secretRef: { accessKeyIdRef, secretAccessKeyRef, ...(sessionTokenSecretRef ? { sessionTokenSecretRef } : {}) } };
      s.done();
    }
    const jwt = auth.sub('jwt');
    if (jwt) {
      const sa = jwt.sub('serviceAccountRef');
      const name = sa?.str('name');
      const aud = sa?.take('audiences');
      if (Array.isArray(aud) && aud.some((x) => x !== STS_AUDIENCE)) {
        sa?.note('audiences', `ours always asks for the audience ${STS_AUDIENCE}, which STS expects`);
      }
      if (sa) refNamespace(sa, ctx);
      sa?.done();
      if (name && role) out.auth = { webIdentity: { serviceAccountRef: { name } } };
      else if (name) jwt.cannot('serviceAccountRef', "ESO reads the role from the service account's eks.amazonaws.com/role-arn annotation; ours needs it in roleArn: add it");
      jwt.done();
    }
    auth.done();
  }
  if (!out.auth) {
    if (ctx.cluster) out.auth = { operatorIdentity: {} };
    else throw new Unconvertible(`${a.path}.auth: a SecretSource must name its own identity (auth.secretRef or auth.jwt with role); ESO's default is the controller's own`);
  }
  a.done();
  return out;
}

// ---------------------------------------------------------------- ExternalSecret

/** ESO's remoteRef.key for a Vault KV store may start with the mount (and "data/" for v2); ours is below the mount. */
function ourPath(written: string, info: StoreInfo | undefined): string {
  const key = written.replace(/^\/+/, ''); // ours is relative: no leading slash
  const mount = info?.vaultMount;
  if (!mount) return key;
  for (const prefix of [`${mount}/data/`, `${mount}/`]) if (key.startsWith(prefix)) return key.slice(prefix.length);
  return key;
}

function decoding(f: Fields, out: { decodingStrategy?: string }): void {
  const d = f.str('decodingStrategy');
  if (d && d !== 'None') out.decodingStrategy = d;
  const conv = f.str('conversionStrategy');
  if (conv && conv !== 'Default') f.cannot('conversionStrategy', `${conv}: ours keeps keys as the source names them`);
  const meta = f.str('metadataPolicy');
  if (meta && meta !== 'None') f.cannot('metadataPolicy', `${meta}: ours reads secret values, never their metadata`);
}

function convertExternalSecret(spec: Fields, info: StoreInfo | undefined): SecretSyncSpec {
  const ref = spec.sub('secretStoreRef');
  const refName = ref?.str('name');
  const refKind = ref?.str('kind') ?? 'SecretStore';
  ref?.done();
  if (!refName) throw new Unconvertible('spec.secretStoreRef.name is missing (ours needs one source per SecretSync)');
  if (refKind !== 'SecretStore' && refKind !== 'ClusterSecretStore') throw new Unconvertible(`spec.secretStoreRef.kind ${refKind}: ours refers to SecretSources and ClusterSecretSources only`);
  const out: SecretSyncSpec = { sourceRef: { kind: refKind === 'SecretStore' ? 'SecretSource' : 'ClusterSecretSource', name: refName } };

  const refresh: RefreshSpec = {};
  const interval = spec.str('refreshInterval');
  const policy = spec.str('refreshPolicy');
  if (interval !== undefined && policy && policy !== 'Periodic') {
    // ESO ignores refreshInterval under OnChange and CreatedOnce; so does ours.
  } else if (interval !== undefined) {
    const ms = goDurationMs(interval);
    if (ms === undefined) spec.cannot('refreshInterval', `"${interval}" is not a Go duration`);
    else if (ms === 0) {
      // ESO's 0: sync once, and again when the ExternalSecret changes: our OnChange.
      if (!policy) refresh.policy = 'OnChange';
    } else if (ms < 10_000) {
      refresh.interval = '10s';
      spec.note('refreshInterval', `"${interval}" is below our minimum of 10s: written as 10s`);
    } else {
      const ours = parseDuration(interval);
      refresh.interval = ours !== undefined && Number.isInteger(ours) ? interval : `${Math.ceil(ms / 1000)}s`;
    }
  }
  if (policy) {
    if (['Periodic', 'OnChange', 'CreatedOnce'].includes(policy)) refresh.policy = policy as RefreshSpec['policy'];
    else spec.cannot('refreshPolicy', `"${policy}" is none of Periodic, OnChange, CreatedOnce`);
  }
  if (refresh.policy && refresh.policy !== 'Periodic') delete refresh.interval;
  if (Object.keys(refresh).length > 0) out.refresh = refresh;

  const data: DataEntry[] = [];
  for (const d of spec.list('data')) {
    if (!d.f) continue;
    const key = d.f.str('secretKey');
    const r = d.f.sub('remoteRef');
    if (d.f.cannot('sourceRef', 'ours reads one source per SecretSync: entry left out; put it in a SecretSync of its own')) {
      d.f.take('secretKey');
      d.f.take('remoteRef');
      continue;
    }
    if (!key || !r) {
      d.f.note('remoteRef', 'needs secretKey and remoteRef.key: entry left out');
      d.f.done();
      continue;
    }
    const path = r.str('key');
    if (!path) r.note('key', 'missing: entry left out');
    const entry: DataEntry = { key, remoteRef: { path: ourPath(path ?? '', info) } };
    const property = r.str('property');
    if (property) entry.remoteRef.property = property;
    const version = r.str('version');
    if (version) entry.remoteRef.version = version;
    decoding(r, entry);
    r.done();
    d.f.done();
    if (path) data.push(entry);
  }
  if (data.length > 0) out.data = data;

  const dataFrom: DataFromEntry[] = [];
  for (const d of spec.list('dataFrom')) {
    if (!d.f) continue;
    const entry: DataFromEntry = {};
    const extract = d.f.sub('extract');
    const find = d.f.sub('find');
    if (d.f.cannot('sourceRef', 'ours reads one source per SecretSync and has no generators: entry left out; put it in a SecretSync of its own')) {
      for (const k of ['extract', 'find', 'rewrite']) d.f.take(k);
      continue;
    }
    if (extract) {
      entry.remoteRef = { path: ourPath(extract.str('key') ?? '', info) };
      const version = extract.str('version');
      if (version) entry.remoteRef.version = version;
      extract.cannot('property', 'ours extracts the whole secret: list the keys below that property in spec.data instead');
      decoding(extract, entry);
      extract.done();
    } else if (find) {
      entry.find = {};
      const path = find.str('path');
      if (path) entry.find.path = path; // ESO's find.path is below the store's path already
      const name = find.sub('name');
      const re = name?.str('regexp');
      if (re) entry.find.name = { regexp: re };
      name?.done();
      const tags = find.take('tags');
      if (isObj(tags)) entry.find.tags = tags as Record<string, string>;
      decoding(find, entry);
      find.done();
    } else {
      d.f.note('extract', 'an entry with neither extract nor find: left out');
      d.f.done();
      continue;
    }
    const rewrites = d.f.list('rewrite');
    for (const rw of rewrites) {
      if (!rw.f) continue;
      const r = rw.f.sub('regexp');
      rw.f.cannot('transform', 'ours rewrites by regexp only');
      if (r) {
        const source = r.str('source');
        const target = r.str('target') ?? '';
        if (source !== undefined) (entry.rewrite ??= []).push({ regexp: { source, target } });
        r.done();
      }
      rw.f.done();
    }
    d.f.done();
    dataFrom.push(entry);
  }
  if (dataFrom.length > 0) out.dataFrom = dataFrom;
  if (!out.data && !out.dataFrom) throw new Unconvertible('no data or dataFrom entry ours can read (see the lines above)');

  const target: TargetSpec = {};
  const t = spec.sub('target');
  if (t) {
    const name = t.str('name');
    if (name) target.name = name;
    const creation = t.str('creationPolicy');
    if (creation && creation !== 'Owner') {
      t.cannot('creationPolicy', `${creation}: ours always creates and owns its Secret (ESO's Owner); it refuses a Secret someone else owns`);
    }
    const deletion = t.str('deletionPolicy');
    if (deletion) {
      t.cannot('deletionPolicy', `${deletion}: ESO's says what happens to the Secret when the provider's secrets are gone; ours (target.deletionPolicy) says what happens to it when the SecretSync is deleted (default Delete): set ours by hand if Delete is not what you want`);
    }
    const immutable = t.take('immutable');
    if (immutable === true) target.immutable = true;
    const tpl = t.sub('template');
    if (tpl) convertTemplate(tpl, target);
    t.done();
  }
  if (Object.keys(target).length > 0) out.target = target;
  // Without dataFrom the synced keys are known: a template naming one that was not carried
  // (an entry left out above) would be Ready=False TemplateError; say so here.
  if (target.template && !out.dataFrom && t) {
    const synced = new Set((out.data ?? []).map((d) => d.key));
    const missing = [...referencedKeys(target.template)].filter((k) => !synced.has(k));
    if (missing.length > 0) {
      t.note('template', `names ${missing.map((k) => `"${k}"`).join(', ')}, which no converted data entry syncs: the operator would refuse it (TemplateError) until you sync ${missing.length > 1 ? 'them' : 'it'}`);
    }
  }
  return out;
}

function convertTemplate(tpl: Fields, target: TargetSpec): void {
  const type = tpl.str('type');
  if (type) target.type = type;
  const merge = tpl.str('mergePolicy');
  if (merge && merge !== 'Replace') tpl.cannot('mergePolicy', `${merge}: ours writes exactly the template's keys; add "key: \\"{{key}}\\"" for each synced key to keep`);
  const engine = tpl.str('engineVersion');
  if (engine && engine !== 'v2') tpl.cannot('engineVersion', `${engine}: only v2 templates translate`);
  tpl.cannot('templateFrom', 'ours has no templates from ConfigMaps or Secrets: copy their keys into template.data');
  const meta = tpl.sub('metadata');
  if (meta) {
    const labels = meta.take('labels');
    if (isObj(labels) && Object.keys(labels).length > 0) target.labels = labels as Record<string, string>;
    const annotations = meta.take('annotations');
    if (isObj(annotations) && Object.keys(annotations).length > 0) target.annotations = annotations as Record<string, string>;
    meta.cannot('finalizers', 'ours sets no finalizers on the Secret');
    meta.done();
    for (const [k, v] of [...Object.entries(target.labels ?? {}), ...Object.entries(target.annotations ?? {})]) {
      if (String(v).includes('{{')) tpl.cannot('metadata', `${k}: ours writes labels and annotations literally, never rendered from values`);
    }
  }
  const data = tpl.sub('data');
  if (data) {
    const out: Record<string, string> = {};
    for (const [key, src] of Object.entries(data.obj)) {
      data.take(key);
      try {
        out[key] = translateTemplate(String(src));
      } catch (err) {
        if (!(err instanceof TemplateUnsupported)) throw err;
        data.cannot(key, `the template uses ${err.message}: key left out; write it in ours (docs/templates.md)`);
      }
    }
    data.done();
    if (Object.keys(out).length > 0) target.template = { data: out };
  }
  tpl.done();
}

/** A Go duration in milliseconds ("1h30m", "90s", "0"); undefined when it is not one. */
export function goDurationMs(s: string): number | undefined {
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 };
  let total = 0;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * unit[m[2]!]!;
    end = re.lastIndex;
  }
  return end === s.length && s.length > 0 ? total : undefined;
}
