// The parts of a Pod the injection webhook reads or writes, as plain types: the webhook's
// pure code never imports @kubernetes/client-node (STYLE.md rule 4). Fields it does not
// touch are absent here and pass through untouched, since it answers with a JSON patch.

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}

export interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type: string; localhostProfile?: string };
}

export interface ResourceRequirements {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

export interface Container {
  name: string;
  image?: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  volumeMounts?: VolumeMount[];
  /** "Always" on an init container makes it a native sidecar (Kubernetes 1.29+). */
  restartPolicy?: string;
  securityContext?: SecurityContext;
  resources?: ResourceRequirements;
}

export interface KeyToPath {
  key?: string;
  path: string;
  fieldRef?: { apiVersion?: string; fieldPath: string };
}

export interface VolumeProjection {
  serviceAccountToken?: { audience?: string; expirationSeconds?: number; path: string };
  configMap?: { name: string; items?: KeyToPath[] };
  downwardAPI?: { items: KeyToPath[] };
}

export interface Volume {
  name: string;
  emptyDir?: { medium?: string; sizeLimit?: string };
  projected?: { sources: VolumeProjection[]; defaultMode?: number };
  /** Any other volume source: the webhook only reads names of those. */
  [source: string]: unknown;
}

export interface PodSecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  fsGroup?: number;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  serviceAccountName?: string;
  /** Deprecated alias of serviceAccountName, still filled in by the API server. */
  serviceAccount?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: PodSecurityContext;
}

export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    generateName?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: PodSpec;
}

/** RFC 6902 operations the webhook emits (only `add`: it never removes or rewrites the pod's own fields). */
export interface JsonPatchOp {
  op: 'add';
  path: string;
  value: unknown;
}
