// The injection webhook's decision for one Pod CREATE: refuse, or a JSON patch that adds
// the in-memory volumes, the agent containers and the `_FILE` env vars. Pure: the
// SecretSyncs come from the operator's caches through `lookup`, and serving, TLS and
// registration live elsewhere. Reinvocation-safe: whatever the pod already carries under
// our names is left alone, so admitting an injected pod again gives an empty patch.
import { FILE_ENV_ANNOTATION, INJECTED_ANNOTATION, INJECT_ANNOTATION, INJECT_CONTAINERS_ANNOTATION, INJECT_LABEL } from '../api/annotations.js';
import { AGENT_UID, type AgentSync, agentContainers } from './agent-containers.js';
import { awsIdentityOf } from './aws-identity.js';
import { type InjectRequest, type SyncView, Refusal, agentIdentity, checkSyncs, parseRequest, serviceAccountOf } from './inject-checks.js';
import { appendOps, pointerToken } from './json-patch.js';
import {
  AGENT_INIT, AGENT_WATCH, FILE_ENV_OMITTED, KUBE_API_DIR, KUBE_API_VOLUME, VAULT_TOKEN_DIR, VAULT_TOKEN_VOLUME, fileEnvNames, mountPath, volumeName,
} from './names.js';
import type { Container, EnvVar, JsonPatchOp, Pod, Volume, VolumeMount } from './pod.js';

export type { SyncView } from './inject-checks.js';

export interface InjectOptions {
  /** The operator's own image (it ships `secretsync agent`; its entrypoint is `secretsync`). */
  agentImage: string;
  imagePullPolicy?: string;
  /** sizeLimit of each in-memory emptyDir; default DEFAULT_VOLUME_SIZE_LIMIT. */
  volumeSizeLimit?: string;
  /**
   * The caller proved to be the API server (--webhook-client-ca): refusals say exactly what
   * is wrong with each SecretSync. Otherwise anyone reaching the port can send a review for
   * any namespace, so a refusal says the same whether a SecretSync is missing, does not list
   * the service account or is not Ready, and quotes nothing of it (see checkSyncs).
   */
  callerVerified?: boolean;
  /** The operator's --insecure-allow-http, passed on to the agents (development stacks only). */
  insecureAllowHttp?: boolean;
  /**
   * `verified` (default): an unverified caller gets a blind patch (see admitPod). `always`:
   * the SecretSyncs are looked up for any caller, so pods get the `<KEY>_FILE` env vars
   * (which name keys) even when the API server is not verified.
   */
  fileEnv?: 'verified' | 'always';
}

export type Admission = { allowed: true; patch: JsonPatchOp[]; injected: string[] } | { allowed: false; code: number; message: string };

/**
 * A Secret holds at most 1 MiB. During an atomic swap the old and the new version share
 * the volume, and tmpfs charges every file at least one 4 KiB page: 4 MiB holds two full
 * 1 MiB versions of up to 256 keys each. A limit is a ceiling, not a reservation: memory
 * is only used for what the agent writes.
 */
export const DEFAULT_VOLUME_SIZE_LIMIT = '4Mi';
/** The API server's minimum; kubelet refreshes the file at 80% of it, Vault reads it only at login. */
export const VAULT_TOKEN_EXPIRATION_SECONDS = 600;
/** What the ServiceAccount admission plugin uses for kube-api-access volumes. */
const KUBE_API_TOKEN_EXPIRATION_SECONDS = 3607;

/**
 * Anyone reaching the port can send a review naming another namespace. Unless the caller
 * was verified as the API server (or the operator was told `fileEnv: always`), the webhook
 * answers blind: it does not look the SecretSyncs up, so the answer is a function of the
 * request alone and tells nothing of them, not even whether they exist. The agent then
 * finds the target Secret from the SecretSync and does every check in the pod, where only
 * the namespace's own members see the result: no `<KEY>_FILE` variables (the annotation
 * secretsync.io/file-env says why), a Vault-audience token for the agents whatever the
 * KEK, pins passed as asked (the agent gives a plain Secret's current version), and the
 * agent running as the pod's own non-root user.
 */
export function admitPod(pod: Pod, namespace: string, lookup: (syncName: string) => SyncView | undefined, o: InjectOptions): Admission {
  const annotations = pod.metadata?.annotations ?? {};
  if (pod.metadata?.labels?.[INJECT_LABEL] !== 'true' || annotations[INJECT_ANNOTATION] === undefined) {
    return { allowed: true, patch: [], injected: [] };
  }
  try {
    const req = parseRequest(annotations);
    if (req.syncs.length === 0) return { allowed: true, patch: [], injected: [] };
    const verified = o.callerVerified ?? false;
    const blind = !verified && o.fileEnv !== 'always';
    const plan = blind ? blindPlan(pod, req) : lookedUpPlan(req, checkSyncs(req.syncs, serviceAccountOf(pod), namespace, lookup, verified));
    return { allowed: true, patch: planPatch(pod, req, plan, o), injected: req.syncs };
  } catch (err) {
    if (err instanceof Refusal) return { allowed: false, code: err.code, message: err.message };
    throw err;
  }
}

/** What the patch delivers, decided from the SecretSyncs or from the request alone. */
interface DeliveryPlan {
  agents: AgentSync[];
  /** Pins the agents get. */
  pins: ReadonlyMap<string, number>;
  /** `<KEY>_FILE` variables; undefined: left out (blind). */
  fileEnv?: { name: string; keys: readonly string[] }[];
  uid: number;
  gid: number;
}

function lookedUpPlan(req: InjectRequest, views: SyncView[]): DeliveryPlan {
  // A pin is honoured for envelope syncs only: their Secret keeps the previous version. A plain
  // Secret holds only the current one, as kubelet delivers it, so a pinned pod of an old
  // ReplicaSet gets the current version instead of an agent that must refuse.
  const pins = new Map([...req.pins].filter(([sync]) => views.find((v) => v.name === sync)?.kek !== undefined));
  return {
    agents: views.map((v) => ({ name: v.name, targetSecret: v.targetSecret, transit: v.kek === 'vault-transit' })),
    pins,
    fileEnv: views.map((v) => ({ name: v.name, keys: v.keys })),
    ...agentIdentity(views),
  };
}

function blindPlan(pod: Pod, req: InjectRequest): DeliveryPlan {
  const sc = pod.spec.securityContext;
  const nonRoot = (n: number | undefined) => (n !== undefined && Number.isInteger(n) && n > 0 ? n : undefined);
  return {
    agents: req.syncs.map((name) => ({ name, transit: true })),
    pins: req.pins,
    uid: nonRoot(sc?.runAsUser) ?? AGENT_UID,
    gid: nonRoot(sc?.runAsGroup) ?? AGENT_UID,
  };
}

interface Target {
  field: 'containers' | 'initContainers';
  index: number;
  c: Container;
}

/** The containers that get the mounts and env vars: every app container, or those named (app or init). */
function targetContainers(pod: Pod, only: string[] | undefined): Target[] {
  const app: Target[] = pod.spec.containers.map((c, index) => ({ field: 'containers', index, c }));
  if (only === undefined) return app;
  const init: Target[] = (pod.spec.initContainers ?? []).map((c, index) => ({ field: 'initContainers', index, c }));
  const all = [...app, ...init];
  for (const name of only) {
    if (!all.some((t) => t.c.name === name)) {
      throw new Refusal(400, `${INJECT_CONTAINERS_ANNOTATION} names "${name}", which is not a container of the pod (it has ${all.map((t) => `"${t.c.name}"`).join(', ')})`);
    }
  }
  return all.filter((t) => only.includes(t.c.name));
}

const normalPath = (p: string): string => p.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');

function kubeApiVolume(): Volume {
  return {
    name: KUBE_API_VOLUME,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: KUBE_API_TOKEN_EXPIRATION_SECONDS, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

/**
 * The volume holding the pod's API credentials for the agent. Webhooks run after the
 * ServiceAccount admission plugin, so the containers we add do not get its mount: we
 * reuse the pod's own kube-api-access volume when an app container mounts one, and add an
 * equivalent projected volume (agent containers only) when the pod has none, e.g. with
 * automountServiceAccountToken: false on the pod or its service account.
 */
function kubeApiVolumeName(pod: Pod): string {
  if (pod.spec.automountServiceAccountToken === false) return KUBE_API_VOLUME;
  const mounts = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].flatMap((c) => c.volumeMounts ?? []);
  return mounts.find((m) => normalPath(m.mountPath) === KUBE_API_DIR)?.name ?? KUBE_API_VOLUME;
}

function planPatch(pod: Pod, req: InjectRequest, plan: DeliveryPlan, o: InjectOptions): JsonPatchOp[] {
  const { uid, gid } = plan;
  const targets = targetContainers(pod, req.only);
  const kubeApi = kubeApiVolumeName(pod);
  const transit = plan.agents.some((a) => a.transit);

  const wanted: Volume[] = req.syncs.map((name) => ({ name: volumeName(name), emptyDir: { medium: 'Memory', sizeLimit: o.volumeSizeLimit ?? DEFAULT_VOLUME_SIZE_LIMIT } }));
  if (transit) {
    wanted.push({ name: VAULT_TOKEN_VOLUME, projected: { sources: [{ serviceAccountToken: { audience: 'vault', expirationSeconds: VAULT_TOKEN_EXPIRATION_SECONDS, path: 'token' } }] } });
  }
  if (kubeApi === KUBE_API_VOLUME) wanted.push(kubeApiVolume());
  const existing = pod.spec.volumes ?? [];
  const newVolumes = wanted.filter((w) => {
    const have = existing.find((e) => e.name === w.name);
    if (have === undefined) return true;
    const sameKind = w.emptyDir !== undefined ? have.emptyDir?.medium === 'Memory' : have.projected !== undefined;
    if (!sameKind) {
      throw new Refusal(400, `the pod has its own volume "${w.name}": rename it (volume names starting with "secretsync-" are the injection webhook's)`);
    }
    return false; // ours, from an earlier invocation
  });

  const ops: JsonPatchOp[] = appendOps('/spec/volumes', pod.spec.volumes, newVolumes);
  const envNames = plan.fileEnv !== undefined ? fileEnvNames(plan.fileEnv) : [];
  for (const t of targets) {
    const mounts: VolumeMount[] = [];
    for (const name of req.syncs) {
      const path = mountPath(name);
      const have = (t.c.volumeMounts ?? []).find((m) => normalPath(m.mountPath) === path);
      if (have === undefined) mounts.push({ name: volumeName(name), mountPath: path, readOnly: true });
      else if (have.name !== volumeName(name)) {
        throw new Refusal(400, `container "${t.c.name}" already mounts volume "${have.name}" at ${path}, where SecretSync "${name}" is delivered: move that mount, or leave the container out with ${INJECT_CONTAINERS_ANNOTATION}`);
      }
    }
    // Never override a variable the container sets itself (the app's choice wins).
    const own = new Set((t.c.env ?? []).map((e) => e.name));
    const env: EnvVar[] = envNames.filter((e) => !own.has(e.name)).map((e) => ({ name: e.name, value: `${mountPath(e.sync)}/${e.key}` }));
    const base = `/spec/${t.field}/${t.index}`;
    ops.push(...appendOps(`${base}/volumeMounts`, t.c.volumeMounts, mounts), ...appendOps(`${base}/env`, t.c.env, env));
  }

  if (plan.fileEnv === undefined && pod.metadata?.annotations?.[FILE_ENV_ANNOTATION] !== FILE_ENV_OMITTED) {
    ops.push({ op: 'add', path: `/metadata/annotations/${pointerToken(FILE_ENV_ANNOTATION)}`, value: FILE_ENV_OMITTED });
  }
  const injected = req.syncs.join(',');
  if (pod.metadata?.annotations?.[INJECTED_ANNOTATION] !== injected) {
    ops.push({ op: 'add', path: `/metadata/annotations/${pointerToken(INJECTED_ANNOTATION)}`, value: injected });
  }

  // Last, since inserting at the front shifts the indexes of the pod's own init containers used above.
  const awsIdentity = awsIdentityOf(pod.spec.containers, [...req.syncs.map(mountPath), VAULT_TOKEN_DIR, KUBE_API_DIR]);
  const agents = agentContainers(plan.agents, plan.pins, req.watch, {
    image: o.agentImage,
    ...(o.imagePullPolicy !== undefined ? { imagePullPolicy: o.imagePullPolicy } : {}),
    uid,
    gid,
    kubeApiVolume: kubeApi,
    ...(o.insecureAllowHttp === true ? { insecureAllowHttp: true } : {}),
    ...(awsIdentity ? { awsIdentity } : {}),
  });
  refuseOwnAgentNames(pod, o.agentImage);
  ops.push(...agentOps(pod.spec.initContainers, agents));
  return ops;
}

/** An image reference without its tag and digest: a policy webhook may pin ours to a digest before we are reinvoked. */
function imageRepository(image: string): string {
  const noDigest = image.split('@')[0] ?? image;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/** Container names the webhook gives its agents: secretsync-agent-init, -init-<sync>, -watch. */
function isAgentName(name: string): boolean {
  return name === AGENT_INIT || name === AGENT_WATCH || name.startsWith(`${AGENT_INIT}-`);
}

/**
 * A container under one of the agent's names is ours only if it is an init container
 * running our image (any tag or digest) as `secretsync agent ...` (what agentContainers puts in it; an earlier
 * invocation of this webhook). Anything else under those names is the pod's own: taken for
 * the agent, it would run instead of it (init) or collide with it (app containers), so it
 * is refused the way volumes with our names are.
 */
function refuseOwnAgentNames(pod: Pod, agentImage: string): void {
  const ours = (c: Container) =>
    c.image !== undefined && imageRepository(c.image) === imageRepository(agentImage) && c.args?.[0] === 'agent' && (c.args[1] === 'init' || c.args[1] === 'watch');
  const own = [
    ...pod.spec.containers.filter((c) => isAgentName(c.name)),
    ...(pod.spec.initContainers ?? []).filter((c) => isAgentName(c.name) && !ours(c)),
  ];
  if (own[0] !== undefined) {
    throw new Refusal(
      400,
      `the pod has its own container "${own[0].name}": rename it (container names ${AGENT_INIT}, ${AGENT_INIT}-<sync> and ${AGENT_WATCH} are the injection webhook's)`,
    );
  }
}

/**
 * Puts the agent containers first among the init containers, in their order, skipping
 * those already there (a reinvocation): each missing one goes right after the previous
 * agent container, or at the very front.
 */
function agentOps(current: Container[] | undefined, agents: Container[]): JsonPatchOp[] {
  if (current === undefined) return agents.length > 0 ? [{ op: 'add', path: '/spec/initContainers', value: agents }] : [];
  const names = current.map((c) => c.name);
  const ops: JsonPatchOp[] = [];
  let at = 0;
  for (const a of agents) {
    const i = names.indexOf(a.name);
    if (i >= 0) {
      at = i + 1;
      continue;
    }
    ops.push({ op: 'add', path: `/spec/initContainers/${at}`, value: a });
    names.splice(at, 0, a.name);
    at += 1;
  }
  return ops;
}
