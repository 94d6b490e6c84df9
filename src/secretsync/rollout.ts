// Rollouts: which workloads depend on a SecretSync's target Secret, and the one decision
// per workload that rolls it once per new version. Pure: every decision is computed from
// cluster state (the pod-template annotation `secretsync.io/version-<sync>` and
// status.rollout), never from memory, so a reconcile, a restart of the operator, a relist
// or a leader change computes the same plan and rolls nothing twice. The annotation only
// ever moves forward, to a version number (never a timestamp).
import { parseDuration } from '../api/duration.js';
import { VERSION_ANNOTATION_PREFIX } from '../api/annotations.js';
import { ROLLOUT_FROM_ANNOTATION, type RolloutTargetStatus, type SecretSync, type WorkloadKind } from '../api/types.js';
import { INJECT_ANNOTATION, INJECT_LABEL, splitList } from '../webhook/names.js';
import type { KubeWorkload } from './ports.js';
import { targetName } from './target.js';
import { sameJson } from './same-json.js';
import { workloadState, type WorkloadState } from './workload-state.js';

export type WorkloadUse = 'volume' | 'env' | 'injection';
export interface WorkloadRef {
  kind: WorkloadKind;
  name: string;
}

/** While a rollout is in progress, look again this often (events usually come first). */
export const PROGRESS_REQUEUE_MS = 10_000;

const refKey = (r: WorkloadRef) => `${r.kind}/${r.name}`;
const byRef = (a: WorkloadRef, b: WorkloadRef) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The pod-template annotation a SecretSync's rollouts set. */
export const templateAnnotationKey = (sync: string): string => VERSION_ANNOTATION_PREFIX + sync;

/** How the pod template of `w` uses the Secret `targetSecret` of the SecretSync `sync`. */
export function usesOf(w: KubeWorkload, targetSecret: string, sync: string): WorkloadUse[] {
  const meta = w.spec.template.metadata;
  const pod = w.spec.template.spec;
  const uses: WorkloadUse[] = [];
  const volume = (pod?.volumes ?? []).some(
    (v) => v.secret?.secretName === targetSecret || (v.projected?.sources ?? []).some((s) => s.secret?.name === targetSecret),
  );
  if (volume) uses.push('volume');
  const env = [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])].some(
    (c) => (c.env ?? []).some((e) => e.valueFrom?.secretKeyRef?.name === targetSecret) || (c.envFrom ?? []).some((e) => e.secretRef?.name === targetSecret),
  );
  if (env) uses.push('env');
  if (meta?.labels?.[INJECT_LABEL] === 'true' && splitList(meta.annotations?.[INJECT_ANNOTATION]).includes(sync)) uses.push('injection');
  return uses;
}

const inNamespaceOf = (ss: SecretSync, w: KubeWorkload) => w.metadata.namespace === (ss.metadata.namespace ?? '');

/** The workload's owner opted in to rollouts by `sync` (annotation secretsync.io/rollout-from on the workload itself). */
export function optsIn(w: KubeWorkload, sync: string): boolean {
  return splitList(w.metadata.annotations?.[ROLLOUT_FROM_ANNOTATION]).includes(sync);
}

/**
 * Whether spec.rollout.targets may roll `w`: a SecretSync author may name any workload of
 * the namespace, but patching one is a restart its owner never asked for unless its pod
 * template uses the target (so a new version concerns it) or its owner consented.
 */
export function mayRoll(ss: SecretSync, w: KubeWorkload): boolean {
  return usesOf(w, targetName(ss), ss.metadata.name).length > 0 || optsIn(w, ss.metadata.name);
}

export interface Dependent {
  ref: WorkloadRef;
  /** Absent: a named target that does not exist. */
  workload?: KubeWorkload;
  /** A named target that neither uses the target nor opted in: reported, never patched. */
  notUsing?: true;
}

/**
 * The workloads to roll: spec.rollout.targets (a missing one has no `workload`; one that
 * may not be rolled is `notUsing`), plus with spec.rollout.auto every workload of the
 * namespace using the target. Sorted by kind/name.
 */
export function dependents(ss: SecretSync, workloads: KubeWorkload[]): Dependent[] {
  const rollout = ss.spec.rollout;
  if (!rollout) return [];
  const mine = workloads.filter((w) => inNamespaceOf(ss, w));
  const byKey = new Map(mine.map((w) => [refKey({ kind: w.kind, name: w.metadata.name }), w]));
  const out = new Map<string, Dependent>();
  for (const t of rollout.targets ?? []) {
    const ref = { kind: t.kind, name: t.name };
    const workload = byKey.get(refKey(ref));
    out.set(refKey(ref), !workload ? { ref } : mayRoll(ss, workload) ? { ref, workload } : { ref, workload, notUsing: true });
  }
  if (rollout.auto) {
    const target = targetName(ss);
    for (const w of mine) {
      const ref = { kind: w.kind, name: w.metadata.name };
      if (usesOf(w, target, ss.metadata.name).length > 0) out.set(refKey(ref), { ref, workload: w });
    }
  }
  return [...out.values()].sort((a, b) => byRef(a.ref, b.ref));
}

/**
 * Live workloads using the target (the deletion hold): Deployments and StatefulSets with
 * replicas (default 1) above 0 and every DaemonSet, none being deleted. Sorted by kind/name.
 */
export function inUseBy(ss: SecretSync, workloads: KubeWorkload[]): (WorkloadRef & { uses: WorkloadUse[] })[] {
  const target = targetName(ss);
  return workloads
    .filter((w) => inNamespaceOf(ss, w) && !w.metadata.deletionTimestamp && (w.kind === 'DaemonSet' || (w.spec.replicas ?? 1) > 0))
    .map((w) => ({ kind: w.kind, name: w.metadata.name, uses: usesOf(w, target, ss.metadata.name) }))
    .filter((u) => u.uses.length > 0)
    .sort(byRef);
}

/** Keys (`namespace/name`) of the SecretSyncs to reconcile when `w` changed. */
export function syncsAffectedBy(w: KubeWorkload, syncsOfNamespace: SecretSync[]): string[] {
  const keys = new Set<string>();
  for (const ss of syncsOfNamespace) {
    if (!inNamespaceOf(ss, w)) continue;
    // Named for a rollout, or using the target: rollouts (auto), the in-use finalizer and the deletion hold.
    const named = (ss.spec.rollout?.targets ?? []).some((t) => t.kind === w.kind && t.name === w.metadata.name);
    if (named || usesOf(w, targetName(ss), ss.metadata.name).length > 0) keys.add(`${w.metadata.namespace}/${ss.metadata.name}`);
  }
  return [...keys].sort();
}

/** An update worth a look: the template, replicas, generation, deletion, status or the rollout opt-in changed (not a resync of the same object). */
export function workloadChanged(a: KubeWorkload, b: KubeWorkload): boolean {
  const view = (w: KubeWorkload) => [
    w.metadata.generation,
    w.metadata.deletionTimestamp,
    w.metadata.annotations?.[ROLLOUT_FROM_ANNOTATION],
    w.spec.replicas,
    w.spec.template,
    w.status,
  ];
  return !sameJson(view(a), view(b));
}

export interface TemplatePatch {
  kind: WorkloadKind;
  namespace: string;
  name: string;
  /** Set the pod-template annotation key=value. */
  key: string;
  value: string;
}

export interface RolloutPlan {
  patches: TemplatePatch[];
  /** The new status.rollout.targets. */
  targets: RolloutTargetStatus[];
  /** RolloutComplete; undefined when there are no dependents. */
  condition?: { status: 'True' | 'False' | 'Unknown'; reason: string; message: string };
  /** Look again: the end of a minInterval wait, or a rollout in progress. */
  requeueAfterMs?: number;
}

export const ROLLOUT_CONDITION = 'RolloutComplete';

/** The annotation's version: undefined when absent, 0 when not a version number (it is overwritten then). */
function annotatedVersion(w: KubeWorkload, key: string): number | undefined {
  const text = w.spec.template.metadata?.annotations?.[key];
  if (text === undefined) return undefined;
  return /^[1-9][0-9]{0,15}$/.test(text) ? Number(text) : 0;
}

interface Decision {
  entry: RolloutTargetStatus;
  patch?: TemplatePatch;
  /** Waiting for minInterval until then (ms since the epoch). */
  waitUntil?: number;
}

/** Why a named target is not rolled, and the two ways to change that. */
export function notUsingMessage(ss: SecretSync, ref: WorkloadRef): string {
  const sync = ss.metadata.name;
  return (
    `${refKey(ref)} neither uses Secret "${targetName(ss)}" nor injects SecretSync "${sync}", so it is not rolled: ` +
    `use the Secret in its pod template (volume, env, envFrom) or inject the SecretSync, ` +
    `or let its owner opt in with the annotation ${ROLLOUT_FROM_ANNOTATION}: "${sync}" on ${refKey(ref)}`
  );
}

function decide(ss: SecretSync, dep: Dependent, version: number, now: Date): Decision {
  const { ref, workload: w } = dep;
  // A Missing or NotUsing entry records nothing: the workload, once created or once it
  // uses the target (or opts in), is first seen then, and rolled from the next version on.
  const r = (ss.status?.rollout?.targets ?? []).find((t) => t.kind === ref.kind && t.name === ref.name && t.state !== 'Missing' && t.state !== 'NotUsing');
  const last = r?.lastRolloutTime !== undefined ? { lastRolloutTime: r.lastRolloutTime } : {};
  if (!w) return { entry: { ...ref, version: r?.version ?? 0, ...last, state: 'Missing', message: `${refKey(ref)} not found in namespace ${ss.metadata.namespace ?? ''}` } };
  if (dep.notUsing) return { entry: { ...ref, version: r?.version ?? 0, ...last, state: 'NotUsing', message: notUsingMessage(ss, ref) } };
  const key = templateAnnotationKey(ss.metadata.name);
  const a = annotatedVersion(w, key);
  const observed = (recorded: number, lastRolloutTime: string | undefined): RolloutTargetStatus => {
    // The workload's status says something about `recorded` only once its template carries it.
    const carries = a === undefined || a >= recorded;
    const s: WorkloadState = carries ? workloadState(w, lastRolloutTime, now) : workloadState(w, undefined, now, true);
    return { ...ref, version: recorded, ...(lastRolloutTime !== undefined ? { lastRolloutTime } : {}), ...s };
  };
  // First sight: the workload started with the Secret as it is now. Unless its template
  // pins another version: left by an earlier SecretSync of this name (versions restart at
  // 1 with a new one) or written by hand, it names content this SecretSync does not hold.
  if (r === undefined && (a === undefined || a === version)) return { entry: observed(version, undefined) };
  // Rolled already: by status, or by the annotation alone (a status write lost after the patch).
  if (r !== undefined && (r.version >= version || a === version)) return { entry: observed(Math.max(r.version, version), r.lastRolloutTime) };
  const have = r?.version ?? a ?? 0;
  if (w.metadata.deletionTimestamp) return { entry: { ...observed(have, r?.lastRolloutTime), message: `${refKey(ref)} is being deleted` } };
  const minMs = ss.spec.rollout?.minInterval !== undefined ? (parseDuration(ss.spec.rollout.minInterval) ?? 0) : 0;
  const lastMs = r?.lastRolloutTime !== undefined ? Date.parse(r.lastRolloutTime) : NaN;
  if (minMs > 0 && Number.isFinite(lastMs) && now.getTime() < lastMs + minMs) {
    const waitUntil = lastMs + minMs;
    const entry = observed(have, r?.lastRolloutTime);
    return { entry: { ...entry, message: `waiting for spec.rollout.minInterval: rolls to version ${version} at ${new Date(waitUntil).toISOString()}` }, waitUntil };
  }
  const lastRolloutTime = now.toISOString();
  const patch = { kind: ref.kind, namespace: w.metadata.namespace, name: ref.name, key, value: String(version) };
  // The cached workload does not carry the patch yet: Progressing, with its current counts.
  return { entry: { ...ref, version, lastRolloutTime, ...workloadState(w, lastRolloutTime, now, true) }, patch };
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

function condition(entries: RolloutTargetStatus[], version: number): RolloutPlan['condition'] {
  const named = (state: RolloutTargetStatus['state']) => entries.filter((e) => e.state === state);
  const failed = named('Failed');
  const missing = named('Missing');
  const missingText = missing.length > 0 ? `not found: ${missing.map(refKey).join(', ')}` : '';
  if (failed.length > 0) {
    const text = failed.map((e) => `${refKey(e)}: ${e.message ?? 'rollout failed'}`).join('; ');
    return { status: 'False', reason: 'ProgressDeadlineExceeded', message: [text, missingText].filter(Boolean).join('; ') };
  }
  if (missing.length > 0) return { status: 'False', reason: 'TargetNotFound', message: `spec.rollout.targets ${missingText}` };
  const notUsing = named('NotUsing');
  if (notUsing.length > 0) return { status: 'False', reason: 'TargetNotUsing', message: `spec.rollout.targets: ${notUsing.map((e) => e.message).join('; ')}` };
  const rolling = entries.filter((e) => e.version < version || e.state !== 'Complete');
  if (rolling.length > 0) {
    const text = rolling.map((e) =>
      e.version < version
        ? `${refKey(e)} on version ${e.version} (${e.message ?? 'not rolled yet'})`
        : `${refKey(e)} ${e.updatedReplicas ?? 0}/${e.replicas ?? 0} updated, ${e.readyReplicas ?? 0}/${e.replicas ?? 0} ready`,
    );
    return { status: 'False', reason: 'RolloutInProgress', message: `rolling to version ${version}: ${text.join('; ')}` };
  }
  return { status: 'True', reason: 'RolloutComplete', message: `${plural(entries.length, 'workload')} on version ${version}` };
}

/**
 * The patches that roll each dependent of `ss` to ss.status.version (the version the
 * target Secret holds now; pass the new status when this reconcile wrote a new version,
 * with the previous status.rollout), and the new status.rollout.targets. The same input
 * gives deep-equal output, so an unchanged status is not rewritten.
 */
export function planRollout(ss: SecretSync, workloads: KubeWorkload[], now: Date): RolloutPlan {
  const deps = dependents(ss, workloads);
  const version = ss.status?.version;
  if (deps.length === 0) return { patches: [], targets: [] };
  // Nothing synced yet: nothing to roll to.
  if (version === undefined) return { patches: [], targets: ss.status?.rollout?.targets ?? [] };
  const decisions = deps.map((d) => decide(ss, d, version, now));
  const targets = decisions.map((d) => d.entry);
  const patches = decisions.flatMap((d) => (d.patch ? [d.patch] : []));
  const waits = decisions.flatMap((d) => (d.waitUntil !== undefined ? [d.waitUntil - now.getTime()] : []));
  const rolling = targets.some((t) => t.state === 'Progressing');
  const after = [...waits, ...(rolling ? [PROGRESS_REQUEUE_MS] : [])];
  return {
    patches,
    targets,
    condition: condition(targets, version),
    ...(after.length > 0 ? { requeueAfterMs: Math.max(1, Math.min(...after)) } : {}),
  };
}
