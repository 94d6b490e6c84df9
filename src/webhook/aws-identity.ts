// The pod's AWS identity, handed to the agent containers the webhook adds. An agent opening
// a KMS envelope calls Decrypt with the SDK's default chain, i.e. the pod's own identity.
// On EKS that identity is a set of env vars (plus a projected token) that the EKS Pod
// Identity / IRSA webhook puts on the containers it sees: when it runs before ours, our
// agent containers do not exist yet and would start with no AWS identity at all. So the
// agents get the identity variables of the pod's first app container that has them, and
// the volume mounts holding the files those variables name. Only the pod's own
// configuration is copied, into the same pod, under the same service account: nothing the
// pod could not use already. `envFrom` is not copied (it may carry any variable).

import type { Container, EnvVar, VolumeMount } from './pod.js';

/** Variables of the SDK's default chain and of STS / the credential endpoints it calls. */
export const AWS_IDENTITY_VARS: readonly string[] = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_CREDENTIAL_EXPIRATION',
  'AWS_ROLE_ARN',
  'AWS_ROLE_SESSION_NAME',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  'AWS_PROFILE',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_STS_REGIONAL_ENDPOINTS',
  'AWS_ENDPOINT_URL_STS',
  'AWS_USE_FIPS_ENDPOINT',
  'AWS_CA_BUNDLE',
];

/** Variables that alone say "this container has an AWS identity". */
const IDENTITY_MARKERS = ['AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_ACCESS_KEY_ID', 'AWS_PROFILE'];

/** Variables naming a file the SDK reads. */
const FILE_VARS = ['AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CA_BUNDLE'];

export interface AwsIdentity {
  /** The container it was taken from, for messages and tests. */
  from: string;
  env: EnvVar[];
  mounts: VolumeMount[];
}

const normal = (p: string): string => p.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');

/** The mount of `c` holding `file` (the deepest one), if any. */
function mountHolding(c: Container, file: string): VolumeMount | undefined {
  const f = normal(file);
  let best: VolumeMount | undefined;
  for (const m of c.volumeMounts ?? []) {
    const at = normal(m.mountPath);
    const inside = at === '/' || f === at || f.startsWith(`${at}/`);
    if (inside && (best === undefined || at.length > normal(best.mountPath).length)) best = m;
  }
  return best;
}

/**
 * The AWS identity of the pod's first app container that has one, or undefined. Mounts
 * are read-only copies of the container's own; a mount at a path the agent already uses
 * (`taken`) is left out rather than making the pod invalid.
 */
export function awsIdentityOf(containers: readonly Container[], taken: readonly string[]): AwsIdentity | undefined {
  const c = containers.find((x) => (x.env ?? []).some((e) => IDENTITY_MARKERS.includes(e.name)));
  if (c === undefined) return undefined;
  const env = (c.env ?? []).filter((e) => AWS_IDENTITY_VARS.includes(e.name)).map((e) => ({ ...e }));
  const mounts: VolumeMount[] = [];
  const used = new Set(taken.map(normal));
  for (const e of env) {
    if (!FILE_VARS.includes(e.name) || typeof e.value !== 'string' || !e.value.startsWith('/')) continue;
    const m = mountHolding(c, e.value);
    if (m === undefined || used.has(normal(m.mountPath))) continue;
    used.add(normal(m.mountPath));
    mounts.push({ name: m.name, mountPath: m.mountPath, readOnly: true, ...(m.subPath !== undefined ? { subPath: m.subPath } : {}) });
  }
  return { from: c.name, env, mounts };
}
