// Pods admitted without injection (the webhook did not answer and its failurePolicy is
// Ignore) have no files: the leader says so on each SecretSync such a pod named, once per
// pod per process (webhook/uninjected.ts decides which and what the event says).
import { UninjectedReporter, podNotInjectedEvent } from '../webhook/uninjected.js';
import type { Core } from './core.js';

export interface UninjectedPods {
  /** On becoming leader: report the pods already cached (the start-up pass). */
  reportCached(): void;
}

export function wireUninjectedPods(core: Core): UninjectedPods {
  const { reader, writer, log, informers } = core;
  const reporter = new UninjectedReporter((namespace, name, podName) => {
    // Not leading, or the SecretSync not in the cache (yet): the leader's start-up pass reports it.
    if (!core.canWrite() || !core.synced()) return false;
    const ss = reader.getSecretSync(namespace, name);
    if (ss) {
      const e = podNotInjectedEvent(name, podName);
      void writer.event(ss, e.type, e.reason, e.message);
      log.warn({ secretsync: `${namespace}/${name}`, pod: podName }, 'pod admitted without injection');
    }
    return true;
  });
  informers.injectPods.addHandlers({ onAdd: (p) => reporter.observe(p), onUpdate: (_a, b) => reporter.observe(b), onDelete: (p) => reporter.forget(p) });
  return { reportCached: () => informers.injectPods.list().forEach((p) => reporter.observe(p)) };
}
