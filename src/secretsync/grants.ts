// spec.access: the Role and RoleBinding that let exactly the listed service accounts read
// exactly the target Secret (the agent reads it with the pod's identity, so RBAC is what
// decides who receives the secret), and get exactly this SecretSync (the agent checks the
// Secret's controller uid against the SecretSync's own). Pure: the desired objects, and the writes that turn
// what the cache holds into them — none when they already match.
import { createHash } from 'node:crypto';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, OWNER_LABEL } from '../api/annotations.js';
import { GROUP, type SecretSync } from '../api/types.js';
import type { GrantWrite, KubeRole, KubeRoleBinding, RbacMeta } from './ports.js';
import { sameJson } from './same-json.js';
import { isOwnedBy, ownerLabelValue, ownerReference, targetName } from './target.js';

// The Role / RoleBinding shapes are port types (ports.ts); re-exported for this file's users.
export type { GrantWrite, KubeRole, KubeRoleBinding, RbacMeta, RbacObject } from './ports.js';

/** Verbs the agent needs: read the Secret, and follow it (watch with a metadata.name field selector). */
export const AGENT_VERBS = ['get', 'watch'];
/** And on the SecretSync: read its uid. */
export const AGENT_SYNC_VERBS = ['get'];
const NAME_MAX = 253;

/** `secretsync-<sync>` (shortened with a hash when the SecretSync's name is long). */
export function grantName(ss: SecretSync): string {
  const name = `secretsync-${ss.metadata.name}`;
  if (name.length <= NAME_MAX) return name;
  const hash = createHash('sha256').update(ss.metadata.name).digest('hex').slice(0, 10);
  return `${name.slice(0, NAME_MAX - hash.length - 1)}-${hash}`;
}

function meta(ss: SecretSync): RbacMeta {
  return {
    name: grantName(ss),
    namespace: ss.metadata.namespace ?? '',
    labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [OWNER_LABEL]: ownerLabelValue(ss.metadata.name) },
    ownerReferences: [ownerReference(ss)],
  };
}

/** The Role and RoleBinding spec.access asks for; undefined without spec.access. */
export function desiredGrant(ss: SecretSync): { role: KubeRole; binding: KubeRoleBinding } | undefined {
  const accounts = ss.spec.access?.serviceAccounts;
  if (!accounts) return undefined;
  const m = meta(ss);
  return {
    role: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: m,
      rules: [
        { apiGroups: [''], resources: ['secrets'], resourceNames: [targetName(ss)], verbs: AGENT_VERBS },
        { apiGroups: [GROUP], resources: ['secretsyncs'], resourceNames: [ss.metadata.name], verbs: AGENT_SYNC_VERBS },
      ],
    },
    binding: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { ...m },
      subjects: [...new Set(accounts)].sort().map((name) => ({ kind: 'ServiceAccount', name, namespace: m.namespace })),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: m.name },
    },
  };
}

function sameMeta(have: RbacMeta, want: RbacMeta): boolean {
  const labels = Object.entries(want.labels ?? {}).every(([k, v]) => have.labels?.[k] === v);
  const owner = (have.ownerReferences ?? []).some((o) => o.uid === want.ownerReferences?.[0]?.uid && o.controller === true);
  return labels && owner;
}

function sameRole(have: KubeRole, want: KubeRole): boolean {
  const rules = (have.rules ?? []).map((r) => ({ apiGroups: r.apiGroups, resources: r.resources, resourceNames: r.resourceNames, verbs: r.verbs }));
  return sameMeta(have.metadata, want.metadata) && sameJson(rules, want.rules ?? []);
}

function sameBinding(have: KubeRoleBinding, want: KubeRoleBinding): boolean {
  const subjects = (have.subjects ?? []).map((s) => ({ kind: s.kind, name: s.name, namespace: s.namespace }));
  return sameMeta(have.metadata, want.metadata) && sameJson(subjects, want.subjects ?? []) && sameJson(have.roleRef, want.roleRef);
}

/**
 * The writes that make the cached Role and RoleBinding (ours: controlled by this SecretSync)
 * what spec.access asks for. A name taken by an object we do not control is left alone
 * (the create fails and says so).
 */
export function grantWrites(ss: SecretSync, role: KubeRole | undefined, binding: KubeRoleBinding | undefined): GrantWrite[] {
  const uid = ss.metadata.uid;
  const ours = <T extends { metadata: RbacMeta }>(o: T | undefined) => (o && isOwnedBy(o, uid) ? o : undefined);
  const r = ours(role);
  const b = ours(binding);
  const want = desiredGrant(ss);
  if (!want) {
    const out: GrantWrite[] = [];
    if (b) out.push({ op: 'delete', kind: 'RoleBinding', namespace: b.metadata.namespace, name: b.metadata.name, uid: b.metadata.uid ?? '' });
    if (r) out.push({ op: 'delete', kind: 'Role', namespace: r.metadata.namespace, name: r.metadata.name, uid: r.metadata.uid ?? '' });
    return out;
  }
  const out: GrantWrite[] = [];
  if (!r) out.push({ op: 'create', object: { kind: 'Role', obj: want.role } });
  else if (!sameRole(r, want.role)) {
    out.push({ op: 'replace', object: { kind: 'Role', obj: { ...want.role, metadata: { ...want.role.metadata, resourceVersion: r.metadata.resourceVersion } } } });
  }
  if (!b) out.push({ op: 'create', object: { kind: 'RoleBinding', obj: want.binding } });
  else if (!sameBinding(b, want.binding)) {
    out.push({ op: 'replace', object: { kind: 'RoleBinding', obj: { ...want.binding, metadata: { ...want.binding.metadata, resourceVersion: b.metadata.resourceVersion } } } });
  }
  return out;
}
