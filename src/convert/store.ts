// ESO SecretStore / ClusterSecretStore specs to our SecretSource / ClusterSecretSource specs:
// the vault and aws providers, their auth methods, a ClusterSecretStore's conditions, and the
// references, which ours resolves in the source's own namespace (the operator's for a cluster one).
import { STS_AUDIENCE } from '../api/types.js';
import type { AwsProviderSpec, ClusterSecretSourceSpec, VaultAuth, VaultProviderSpec } from '../api/types.js';
import { isObj, Unconvertible } from './fields.js';
import type { Fields, Obj, StoreInfo } from './fields.js';

export function convertStoreSpec(spec: Fields, ctx: StoreCtx, info: StoreInfo): Obj {
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
