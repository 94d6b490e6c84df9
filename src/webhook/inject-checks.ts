// The checks before the injection webhook patches a pod: its annotations parse, the
// SecretSyncs it names exist, give its service account access and are Ready, and the
// agent can write their files as the owner they ask for. Each failure is a Refusal whose
// message says what to fix and never carries a value.
import { INJECT_ANNOTATION, INJECT_CONTAINERS_ANNOTATION, VERSION_ANNOTATION_PREFIX, WATCH_ANNOTATION, splitList } from '../api/annotations.js';
import { AGENT_UID } from './agent-containers.js';
import { isContainerName, isObjectName } from './names.js';
import type { Pod } from './pod.js';

/** What the webhook knows of one SecretSync, from the operator's caches. */
export interface SyncView {
  /** SecretSync name (the pod's namespace). */
  name: string;
  /** spec.target.name ?? name. */
  targetSecret: string;
  ready: boolean;
  readyReason?: string;
  readyMessage?: string;
  /** spec.access.serviceAccounts (undefined: no access block). */
  serviceAccounts?: string[];
  /** Undefined: plain mode. */
  kek?: 'vault-transit' | 'aws-kms';
  /** The target's data keys (file names). */
  keys: string[];
  /** spec.mount.uid/gid: the agent runs as that owner (see agentIdentity). */
  mount?: { uid?: number; gid?: number };
}

/** 400: the pod's own annotations or spec must change. 403: the SecretSyncs refuse it (missing, access, not Ready). */
export class Refusal extends Error {
  constructor(readonly code: 400 | 403, message: string) {
    super(message);
  }
}

export interface InjectRequest {
  syncs: string[];
  /** secretsync.io/inject-containers, when given. */
  only?: string[];
  watch: boolean;
  pins: Map<string, number>;
}

export function parseRequest(a: Record<string, string>): InjectRequest {
  const syncs = splitList(a[INJECT_ANNOTATION]);
  const seen = new Set<string>();
  for (const s of syncs) {
    if (!isObjectName(s)) {
      throw new Refusal(400, `${INJECT_ANNOTATION}: "${s.slice(0, 64)}" is not a SecretSync name (lowercase letters, digits, "-" and "."); list names separated by commas`);
    }
    if (seen.has(s)) throw new Refusal(400, `${INJECT_ANNOTATION} names SecretSync "${s}" twice: list each once`);
    seen.add(s);
  }
  let only: string[] | undefined;
  if (a[INJECT_CONTAINERS_ANNOTATION] !== undefined) {
    only = splitList(a[INJECT_CONTAINERS_ANNOTATION]);
    if (only.length === 0) {
      throw new Refusal(400, `${INJECT_CONTAINERS_ANNOTATION} names no container: list the containers that read the files, or remove it to mean every app container`);
    }
    const bad = only.find((c) => !isContainerName(c));
    if (bad !== undefined) throw new Refusal(400, `${INJECT_CONTAINERS_ANNOTATION}: "${bad.slice(0, 64)}" is not a container name`);
  }
  const pins = new Map<string, number>();
  for (const s of syncs) {
    const text = a[VERSION_ANNOTATION_PREFIX + s];
    if (text === undefined) continue;
    const v = Number(text);
    if (!/^[1-9][0-9]*$/.test(text) || !Number.isSafeInteger(v)) {
      throw new Refusal(400, `${VERSION_ANNOTATION_PREFIX}${s} must be a version number (1, 2, ...): fix or remove that annotation`);
    }
    pins.set(s, v);
  }
  return { syncs, ...(only !== undefined ? { only } : {}), watch: a[WATCH_ANNOTATION] === 'true', pins };
}

export function serviceAccountOf(pod: Pod): string {
  return pod.spec.serviceAccountName || pod.spec.serviceAccount || 'default';
}

/**
 * The refusal for a SecretSync the pod may not have, when the caller is not known to be
 * the API server: the same text whether it is missing, does not list the service account
 * or is not Ready, quoting nothing of it (no access list, no condition message), so a
 * hand-made review for another namespace learns nothing its author could not read with
 * kubectl. The namespace's own members find out which with `kubectl describe`.
 */
export function opaqueProblem(name: string, sa: string, namespace: string): string {
  return (
    `SecretSync "${name}" cannot be delivered to service account "${sa}" in namespace "${namespace}": ` +
    `it does not exist, does not list "${sa}" in spec.access.serviceAccounts, or is not Ready ` +
    `(\`kubectl describe secretsync ${name} -n ${namespace}\` says which)`
  );
}

/**
 * Every SecretSync must exist, let the pod's service account receive it, and be Ready. All
 * problems in one message: precise when `detailed` (the caller is the API server), else
 * opaqueProblem for each.
 */
export function checkSyncs(names: string[], sa: string, namespace: string, lookup: (n: string) => SyncView | undefined, detailed = true): SyncView[] {
  const views: SyncView[] = [];
  const problems: string[] = [];
  for (const name of names) {
    const v = lookup(name);
    if (!detailed && (v === undefined || !v.serviceAccounts?.includes(sa) || !v.ready)) {
      problems.push(opaqueProblem(name, sa, namespace));
    } else if (v === undefined) {
      problems.push(`SecretSync "${name}" does not exist in namespace "${namespace}": create it, or remove it from the pod's ${INJECT_ANNOTATION} annotation`);
    } else if (v.serviceAccounts === undefined) {
      problems.push(`SecretSync "${name}" gives no service account access: add "${sa}" to spec.access.serviceAccounts of SecretSync "${name}"`);
    } else if (!v.serviceAccounts.includes(sa)) {
      problems.push(`service account "${sa}" may not receive SecretSync "${name}": add it to spec.access.serviceAccounts of SecretSync "${name}"`);
    } else if (!v.ready) {
      // Reason and message are the operator's own condition text, which never carries a value.
      const why = [v.readyReason, v.readyMessage].filter((x) => x !== undefined && x !== '').join(': ');
      problems.push(`SecretSync "${name}" is not Ready${why !== '' ? ` (${why})` : ''}: the pod is admitted once it is`);
    } else {
      views.push(v);
    }
  }
  if (problems.length > 0) throw new Refusal(403, problems.join('; '));
  return views;
}

/**
 * Who the agent runs as. It is never root and has no capabilities, so it cannot chown
 * files to someone else; but the agent always applies spec.mount.uid/gid with chown(),
 * which the owner of a file may do without CAP_CHOWN when the uid is its own and the gid
 * one of its groups. So with spec.mount.uid/gid the agent runs as exactly that uid/gid
 * and the chown is a no-op; without them it runs as 65532:65532. Consequences, written in
 * the refusals: every sync of a pod must agree on uid and gid (one sidecar writes them
 * all), and uid 0 is refused. With the default mode 0400 and no spec.mount.uid, only an
 * app running as 65532 (or root) reads the files: set spec.mount.uid to the app's uid,
 * or spec.mount.gid to the pod's fsGroup with mode 0440. A uid changed later makes the
 * watch sidecar fail to chown (it keeps the old files) until the pod is replaced.
 */
export function agentIdentity(views: SyncView[]): { uid: number; gid: number } {
  const pick = (field: 'uid' | 'gid'): number | undefined => {
    const set = views.filter((v) => v.mount?.[field] !== undefined);
    const values = [...new Set(set.map((v) => v.mount?.[field] as number))];
    if (values.length > 1) {
      throw new Refusal(400, `SecretSyncs ${set.map((v) => `"${v.name}"`).join(', ')} set different spec.mount.${field} (${values.join(', ')}); one agent writes every file of a pod: give them the same ${field}, or inject them into different pods`);
    }
    return values[0];
  };
  const uid = pick('uid');
  const gid = pick('gid');
  if (uid === 0) {
    const v = views.find((x) => x.mount?.uid === 0);
    throw new Refusal(400, `SecretSync "${v?.name ?? ''}" sets spec.mount.uid 0: the agent runs as non-root without capabilities and cannot give files to root; set the app's non-root uid`);
  }
  return { uid: uid ?? AGENT_UID, gid: gid ?? AGENT_UID };
}
