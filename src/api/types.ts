// The API of secretsync.io/v1alpha1 as TypeScript types. The OpenAPI schema in
// schema.ts is the source of truth for what the apiserver accepts; these types
// mirror it (a unit test checks that every schema property has a field here).
import type { TargetTemplate } from './template.js';

export const GROUP = 'secretsync.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
}

/** A key of a Secret. In a SecretSource it resolves in the source's own namespace only. */
export interface SecretKeySelector {
  name: string;
  key: string;
  /** Optional; when set it must be the source's own namespace (the operator's for a ClusterSecretSource). */
  namespace?: string;
}

export interface VaultTokenAuth {
  secretRef: SecretKeySelector;
}
export interface VaultKubernetesAuth {
  mount?: string; // default "kubernetes"
  role: string;
  serviceAccountRef: { name: string; namespace?: string };
  /** Audiences for the requested service-account token; default ["vault"]; never one of the API server's. */
  audiences?: string[];
}
export interface VaultAppRoleAuth {
  mount?: string; // default "approle"
  roleId: string;
  secretIdRef: SecretKeySelector;
}
/** Vault's JWT/OIDC auth: a JWT from a Secret or a TokenRequest of a service account, logged in at auth/<mount>/login. */
export interface VaultJwtAuth {
  mount?: string; // default "jwt"
  role: string;
  /** A JWT stored in a Secret of the source namespace. */
  secretRef?: SecretKeySelector;
  /** A short-lived token of a service account of the source namespace (TokenRequest). */
  kubernetesServiceAccountToken?: {
    serviceAccountRef: { name: string; namespace?: string };
    /** Default ["vault"]; never one of the API server's. */
    audiences?: string[];
  };
}
/** Vault's TLS certificate auth: a client certificate and its key from Secrets, presented in the TLS handshake of the login. */
export interface VaultCertAuth {
  mount?: string; // default "cert"
  clientCert: SecretKeySelector;
  /** The private key of clientCert. */
  secretRef: SecretKeySelector;
}
export interface VaultAuth {
  token?: VaultTokenAuth;
  kubernetes?: VaultKubernetesAuth;
  appRole?: VaultAppRoleAuth;
  jwt?: VaultJwtAuth;
  cert?: VaultCertAuth;
}
/** A client certificate for Vault's listener (mutual TLS). */
export interface VaultClientTls {
  certSecretRef: SecretKeySelector;
  keySecretRef: SecretKeySelector;
}
export interface VaultProviderSpec {
  address: string;
  namespace?: string;
  caBundle?: string;
  tls?: VaultClientTls;
  kv?: { mount?: string; version?: 1 | 2 }; // defaults: secret, 2
  auth: VaultAuth;
}

export interface AwsProviderSpec {
  region: string;
  /** Endpoint override (tests, VPC endpoints). */
  endpoint?: string;
  /** Role to assume through STS (with webIdentity: the role the token is exchanged for). */
  roleArn?: string;
  /** ExternalId sent with AssumeRole (the role's trust policy may require it). */
  externalId?: string;
  /** Session tags sent with AssumeRole. */
  sessionTags?: { key: string; value: string }[];
  /** Exactly one; optional here only because objects stored before it was required may lack it (refused). */
  auth?: AwsAuth;
}

/** Whose AWS identity a source uses. A SecretSource must name its own: secretRef or webIdentity. */
export interface AwsAuth {
  /** Static keys from Secrets of the source namespace. */
  secretRef?: { accessKeyIdRef: SecretKeySelector; secretAccessKeyRef: SecretKeySelector; sessionTokenSecretRef?: SecretKeySelector };
  /** A token of this service account (source namespace, audience sts.amazonaws.com) exchanged for roleArn. */
  webIdentity?: { serviceAccountRef: { name: string } };
  /** ClusterSecretSource only: the operator's own default credential chain, said explicitly. */
  operatorIdentity?: Record<string, never>;
}

/** The audience of the service-account tokens exchanged through STS AssumeRoleWithWebIdentity. */
export const STS_AUDIENCE = 'sts.amazonaws.com';

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export interface SecretSourceSpec {
  vault?: VaultProviderSpec;
  aws?: AwsProviderSpec;
}
export interface ClusterSecretSourceSpec extends SecretSourceSpec {
  allowedNamespaces?: string[];
  namespaceSelector?: LabelSelector;
  /** What each admitted namespace may do through this source; absent: read any path, use any key, rotate nothing. */
  namespaceScopes?: NamespaceScopeEntry[];
}

/**
 * One entry of ClusterSecretSource spec.namespaceScopes. A namespace's scope is the union
 * of the entries that match it (by name or by labels); with scopes and no matching entry
 * it may read nothing. Prefixes are plain string prefixes of the remote path.
 */
export interface NamespaceScopeEntry {
  /** Admitted namespaces this entry applies to (and/or namespaceSelector). */
  namespaces?: string[];
  namespaceSelector?: LabelSelector;
  /** Path prefixes these namespaces may read; absent: any path. */
  paths?: string[];
  /** Path prefixes these namespaces may rotate (write); absent: none. */
  rotationPaths?: string[];
  /** KEKs these namespaces may use: Vault Transit `<mount>/<key>`, AWS KMS keyId as written; absent: any. */
  keys?: string[];
}

/** Fields of a source spec that are not provider blocks. */
export const NON_PROVIDER_FIELDS: ReadonlySet<string> = new Set(['allowedNamespaces', 'namespaceSelector', 'namespaceScopes']);

/** The provider blocks a source spec sets (`vault`, `aws`, ...): exactly one on a valid source. */
export function providerBlocks(spec: object | undefined): string[] {
  const fields = (spec ?? {}) as Record<string, unknown>;
  return Object.keys(fields).filter((k) => !NON_PROVIDER_FIELDS.has(k) && fields[k] !== undefined && fields[k] !== null);
}

/** The name of a source's provider (for metrics and logs); 'unknown' when it sets no provider block. */
export function providerName(source: Pick<AnySource, 'spec'>): string {
  return providerBlocks(source.spec)[0] ?? 'unknown';
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export interface SourceStatus {
  conditions?: Condition[];
  observedGeneration?: number;
}

export interface SecretSource {
  apiVersion: typeof API_VERSION;
  kind: 'SecretSource';
  metadata: ObjectMeta;
  spec: SecretSourceSpec;
  status?: SourceStatus;
}
export interface ClusterSecretSource {
  apiVersion: typeof API_VERSION;
  kind: 'ClusterSecretSource';
  metadata: ObjectMeta;
  spec: ClusterSecretSourceSpec;
  status?: SourceStatus;
}
export type AnySource = SecretSource | ClusterSecretSource;

export interface RemoteRef {
  path: string;
  property?: string;
  version?: string;
}
/**
 * How a value stored encoded at the source is decoded before it is synced (ESO's names,
 * case-insensitive): None keeps it as stored; Base64 / Base64URL decode it or fail; Auto
 * decodes valid padded Base64, else valid padded Base64URL, else keeps it.
 */
export type DecodingStrategy = string;

export interface DataEntry {
  key: string;
  remoteRef: RemoteRef;
  decodingStrategy?: DecodingStrategy;
}
/** dataFrom[].find: secrets discovered under a path, by name and (AWS) tags. */
export interface FindSpec {
  path?: string;
  name?: { regexp: string };
  tags?: Record<string, string>;
}
/** dataFrom[].rewrite[]: a key rewrite (regexp replace-all). */
export interface RewriteRule {
  regexp: { source: string; target: string };
}
/** Exactly one of remoteRef or find (the CRD's rule). */
export interface DataFromEntry {
  remoteRef?: { path: string; version?: string };
  find?: FindSpec;
  rewrite?: RewriteRule[];
  /** Applies to every property of the secret (of every secret found). */
  decodingStrategy?: DecodingStrategy;
}

/** Periodic (default): on the schedule; OnChange: on a spec change or force-sync; CreatedOnce: while the Secret does not exist. */
export type RefreshPolicy = 'Periodic' | 'OnChange' | 'CreatedOnce';

export interface RefreshSpec {
  policy?: RefreshPolicy;
  schedule?: string;
  interval?: string;
  timeZone?: string;
}

export interface SourceRefSpec {
  kind?: 'SecretSource' | 'ClusterSecretSource';
  name: string;
}

export interface VaultTransitKek {
  sourceRef: SourceRefSpec;
  mount?: string; // default "transit"
  key: string;
  agentAuth: { kubernetes: { mount?: string; role: string } };
}
export interface AwsKmsKek {
  sourceRef: SourceRefSpec;
  keyId: string;
}
export interface EncryptionSpec {
  kek: { vaultTransit?: VaultTransitKek; awsKms?: AwsKmsKek };
}

export interface TargetSpec {
  name?: string;
  type?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionPolicy?: 'Delete' | 'Retain';
  maxSizeBytes?: number;
  /** Create the Secret with immutable: true; a new version is then refused (TargetImmutable) until the Secret is deleted. */
  immutable?: boolean;
  encryption?: EncryptionSpec;
  /** Target keys built from the synced keys (docs/templates.md); the Secret then holds exactly these keys. */
  template?: TargetTemplate;
}

export interface MountSpec {
  mode?: string;
  uid?: number;
  gid?: number;
}

export type RotationCharset = 'alphanumeric' | 'ascii-printable' | 'hex' | 'base64';

export interface RotationSpec {
  schedule: string;
  timeZone?: string;
  /** Keys of the target (spec.data keys, or properties of a dataFrom secret) that get new values. */
  keys: string[];
  generator?: { length?: number; charset?: RotationCharset };
}

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

export interface RolloutSpec {
  /** Roll every workload of the namespace whose pod template uses the target (mount, env, injection). */
  auto?: boolean;
  targets?: { kind: WorkloadKind; name: string }[];
  /** At most one rollout per workload per this duration. */
  minInterval?: string;
}

export interface SecretSyncSpec {
  sourceRef: SourceRefSpec;
  data?: DataEntry[];
  dataFrom?: DataFromEntry[];
  refresh?: RefreshSpec;
  target?: TargetSpec;
  mount?: MountSpec;
  access?: { serviceAccounts: string[] };
  rotation?: RotationSpec;
  rollout?: RolloutSpec;
}

/** A rotation recorded before the source is written, so an interrupted one is finished, never repeated. */
export interface PendingRotation {
  /** Unique per rotation: the AWS ClientRequestToken. */
  id: string;
  /** What asked for it: the schedule, or the rotate-now annotation value. */
  trigger: 'schedule' | 'rotate-now';
  startedAt: string;
  /** remote path → the provider version the new values are written on top of (Vault check-and-set). */
  basedOn: Record<string, string>;
}

export interface RolloutTargetStatus {
  kind: WorkloadKind;
  name: string;
  /** The version the workload's pod template is on (annotation secretsync.io/version-<sync>). */
  version: number;
  /** When the operator last rolled it (minInterval counts from here). */
  lastRolloutTime?: string;
  /** Complete, Progressing, Failed, Missing, or NotUsing (named in spec.rollout.targets but neither using the target nor opted in: never patched). */
  state: 'Complete' | 'Progressing' | 'Failed' | 'Missing' | 'NotUsing';
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  message?: string;
}

export interface SecretSyncStatus {
  conditions?: Condition[];
  observedGeneration?: number;
  version?: number;
  contentHmac?: string;
  sourceVersions?: Record<string, string>;
  /** When the operator last wrote the target Secret (new version, spec change or repair). */
  lastSyncTime?: string;
  /** The secretsync.io/force-sync annotation value last acted upon (long values as a hash). */
  forceSyncHandled?: string;
  /** When a force-sync was last acted upon: the next one waits until 10 s after it. */
  lastForceSyncTime?: string;
  /** Envelope mode: the KEK version wrapping the current version's data key. */
  keyId?: string;
  lastRotationTime?: string;
  nextRotationTime?: string;
  pendingRotation?: PendingRotation;
  /** The secretsync.io/rotate-now annotation value last acted upon. */
  rotateNowHandled?: string;
  rollout?: { targets: RolloutTargetStatus[] };
}

export interface SecretSync {
  apiVersion: typeof API_VERSION;
  kind: 'SecretSync';
  metadata: ObjectMeta;
  spec: SecretSyncSpec;
  status?: SecretSyncStatus;
}

export const DEFAULTS = {
  refreshInterval: '1h',
  maxSizeBytes: 524_288,
  kvMount: 'secret',
  kvVersion: 2,
  kubernetesAuthMount: 'kubernetes',
  appRoleMount: 'approle',
  jwtAuthMount: 'jwt',
  certAuthMount: 'cert',
  transitMount: 'transit',
  fileMode: '0400',
} as const;

/** Secret types the API server fills with credentials it mints: never a sync target. */
export const MINTING_TYPES: readonly string[] = ['kubernetes.io/service-account-token', 'bootstrap.kubernetes.io/token'];

export const FIELD_MANAGER = 'secretsync';
