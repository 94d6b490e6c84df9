// The agent containers the webhook injects: `secretsync agent init` before everything
// else in the pod, and optionally `secretsync agent watch` as a native sidecar.
import type { AwsIdentity } from './aws-identity.js';
import type { Container, ResourceRequirements, SecurityContext, VolumeMount } from './pod.js';
import { AGENT_INIT, AGENT_WATCH, SECRETS_DIR, VAULT_TOKEN_DIR, VAULT_TOKEN_VOLUME, KUBE_API_DIR, mountPath, pinnedInitName, volumeName } from './names.js';

/** The user of distroless "nonroot"; the agent's default identity. */
export const AGENT_UID = 65532;

/**
 * The agent is a Node process (tens of MiB resident) that writes at most a Secret's worth
 * of files; the in-memory volume's pages it writes count against its own memory limit.
 * No CPU limit would be kinder to start-up time, but clusters with a LimitRange often
 * require one, so it is generous.
 */
export const AGENT_RESOURCES: ResourceRequirements = {
  requests: { cpu: '10m', memory: '64Mi' },
  limits: { cpu: '500m', memory: '256Mi' },
};

export interface AgentSync {
  name: string;
  /** Undefined: the agent reads it from the SecretSync (`--sync NAME`), so the patch need not name it. */
  targetSecret?: string;
  transit: boolean;
}

export interface AgentSetup {
  image: string;
  imagePullPolicy?: string;
  uid: number;
  gid: number;
  /** The volume holding the pod's API token, CA and namespace (the pod's own, or one we add). */
  kubeApiVolume: string;
  /** The operator runs with --insecure-allow-http: its agents accept the same http:// addresses. */
  insecureAllowHttp?: boolean;
  /** The pod's AWS identity (env vars and the mounts of the files they name), for KMS Decrypt. */
  awsIdentity?: AwsIdentity;
}

function securityContext(s: AgentSetup): SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: s.uid,
    runAsGroup: s.gid,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

function agentContainer(name: string, command: 'init' | 'watch', syncs: AgentSync[], s: AgentSetup, version?: number): Container {
  // The agent writes <dir>/<NAME>/<key>: each volume is mounted at <dir>/<NAME>, read-write.
  const mounts: VolumeMount[] = syncs.map((x) => ({ name: volumeName(x.name), mountPath: mountPath(x.name) }));
  if (syncs.some((x) => x.transit)) mounts.push({ name: VAULT_TOKEN_VOLUME, mountPath: VAULT_TOKEN_DIR, readOnly: true });
  mounts.push({ name: s.kubeApiVolume, mountPath: KUBE_API_DIR, readOnly: true });
  if (s.awsIdentity) mounts.push(...s.awsIdentity.mounts.map((m) => ({ ...m })));
  const args = ['agent', command, ...syncs.flatMap((x) => ['--sync', x.targetSecret === undefined ? x.name : `${x.name}=${x.targetSecret}`]), '--dir', SECRETS_DIR];
  if (version !== undefined) args.push('--version', String(version));
  if (s.insecureAllowHttp === true) args.push('--insecure-allow-http');
  return {
    name,
    image: s.image,
    ...(s.imagePullPolicy !== undefined ? { imagePullPolicy: s.imagePullPolicy } : {}),
    args,
    ...(s.awsIdentity && s.awsIdentity.env.length > 0 ? { env: s.awsIdentity.env.map((e) => ({ ...e })) } : {}),
    ...(command === 'watch' ? { restartPolicy: 'Always' } : {}),
    volumeMounts: mounts,
    securityContext: securityContext(s),
    resources: AGENT_RESOURCES,
  };
}

/**
 * The agent's init containers, then the watch sidecar, in the order they go at the front
 * of spec.initContainers.
 *
 * `agent --version` takes one --sync only, so the unpinned syncs share one init container
 * (`secretsync-agent-init`, which reads all of them before writing any) and every pinned
 * sync gets its own (`secretsync-agent-init-<sync>`, shortened with a hash when needed).
 * The watch sidecar never gets --version: it follows the current version by design, so a
 * pinned pod that asks for watch is only pinned until the sidecar's first delivery.
 */
export function agentContainers(syncs: AgentSync[], pins: ReadonlyMap<string, number>, watch: boolean, s: AgentSetup): Container[] {
  const unpinned = syncs.filter((x) => !pins.has(x.name));
  const out: Container[] = [];
  if (unpinned.length > 0) out.push(agentContainer(AGENT_INIT, 'init', unpinned, s));
  for (const x of syncs) {
    const v = pins.get(x.name);
    if (v !== undefined) out.push(agentContainer(pinnedInitName(x.name), 'init', [x], s, v));
  }
  if (watch) out.push(agentContainer(AGENT_WATCH, 'watch', syncs, s));
  return out;
}
