// Pods that asked for injection but were admitted without it (the webhook did not answer
// and its failurePolicy is Ignore): the operator sees them in a cache of labelled pods and
// says so on each SecretSync they named, once per pod, so the owner learns why the files
// are missing. Pure detection and the event's text here; the reporting is wired in
// src/wiring/uninjected-pods.ts.
import { INJECT_ANNOTATION, INJECT_LABEL, splitList } from '../api/annotations.js';
import { AGENT_INIT } from './names.js';

export interface PodLike {
  metadata: { name: string; namespace?: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { initContainers?: { name: string }[] };
}

/** The SecretSyncs a labelled pod asked for but did not get; [] for an injected pod or one that asked for nothing. */
export function uninjectedSyncs(pod: PodLike): string[] {
  if (pod.metadata.labels?.[INJECT_LABEL] !== 'true') return [];
  const asked = splitList(pod.metadata.annotations?.[INJECT_ANNOTATION]);
  if (asked.length === 0) return [];
  const injected = (pod.spec?.initContainers ?? []).some((c) => c.name === AGENT_INIT || c.name.startsWith(`${AGENT_INIT}-`));
  return injected ? [] : [...new Set(asked)];
}

/** The event recorded on SecretSync `sync` for a pod admitted without its files. */
export function podNotInjectedEvent(sync: string, pod: string): { type: 'Warning'; reason: 'PodNotInjected'; message: string } {
  return {
    type: 'Warning',
    reason: 'PodNotInjected',
    message: `Pod ${pod} asked for this SecretSync but was admitted without injection (the webhook did not answer and its failurePolicy is Ignore): it has no /run/secrets/${sync}/; delete the pod so it is created again`,
  };
}

/** Remembers reported pods (by uid) so each is reported once per process. */
export class UninjectedReporter {
  private readonly seen = new Set<string>();

  /** `report` says whether it could report (a replica that does not lead cannot: the next leader will). */
  constructor(private readonly report: (namespace: string, sync: string, pod: string) => boolean) {}

  observe(pod: PodLike): void {
    const uid = pod.metadata.uid ?? `${pod.metadata.namespace}/${pod.metadata.name}`;
    if (this.seen.has(uid)) return;
    const syncs = uninjectedSyncs(pod);
    if (syncs.length === 0) return;
    let reported = false;
    for (const s of syncs) reported = this.report(pod.metadata.namespace ?? '', s, pod.metadata.name) || reported;
    if (reported) this.seen.add(uid);
  }

  forget(pod: PodLike): void {
    this.seen.delete(pod.metadata.uid ?? `${pod.metadata.namespace}/${pod.metadata.name}`);
  }
}
