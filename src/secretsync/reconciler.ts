// The SecretSync reconciler: level-triggered, one key at a time (the work queue guarantees
// it). A short pipeline: observe (caches only) → whatIsDue (pure) → read the source, only
// when due → plan (pure) → act (writes, in order). Deletion plans through finalizer.ts.
import type { AnySource } from '../api/types.js';
import { sourceKey } from '../api/source-ref.js';
import { StaleObjectError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { ProviderDeps, ProviderKube, SecretProvider } from '../providers/provider.js';
import { act } from './act.js';
import type { HmacKey } from './content.js';
import { describeError } from './describe-error.js';
import { whatIsDue } from './due.js';
import { fetchContent } from './fetch.js';
import { planDeletion } from './finalizer.js';
import { observe, type Memory, type Observed } from './observe.js';
import { planSync, type ReadOutcome } from './plan.js';
import type { SyncReader, SyncWriter } from './ports.js';

export interface ProviderSource {
  client(source: AnySource, deps: ProviderDeps): SecretProvider;
  alignsRefreshes(source: AnySource): boolean;
}

export interface ReconcilerDeps {
  reader: SyncReader;
  writer: SyncWriter;
  providers: ProviderSource;
  providerKube: ProviderKube;
  operatorNamespace: string;
  hmacKey: HmacKey;
  now?: () => Date;
  log: Logger;
  metrics?: Metrics;
}

/** Thrown to the controller after the failure is recorded in status; carries retryability. */
export class RecordedError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly retryable: boolean,
    /** For terminal errors: look again after this long (the next refresh tick). */
    readonly requeueAfterMs?: number,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

export class SecretSyncReconciler {
  private readonly memory = new Map<string, Memory>();
  private readonly now: () => Date;

  constructor(private readonly d: ReconcilerDeps) {
    this.now = d.now ?? (() => new Date());
  }

  async reconcile(key: string): Promise<{ requeueAfterMs?: number }> {
    const o = observe(
      { reader: this.d.reader, hmacKey: this.d.hmacKey, alignsRefreshes: (s) => this.d.providers.alignsRefreshes(s) },
      key,
      this.memory.get(key),
      this.now(),
    );
    if (!o) {
      this.memory.delete(key);
      return {};
    }
    if (o.ss.metadata.deletionTimestamp) {
      this.memory.delete(key);
      const plan = planDeletion(o);
      if (!plan) return {};
      const { error } = await act(o, plan, this.d.writer, this.d.log);
      if (error) throw new RecordedError(error.cause, error.retryable);
      return {};
    }
    const due = whatIsDue(o);
    let read: ReadOutcome | undefined;
    if (due.read && due.failure === undefined) {
      this.d.log.debug({ secretsync: key, due: due.read }, 'reading the source');
      read = await this.read(o);
    }
    const plan = planSync(o, due, read);
    this.memory.set(key, plan.memory);
    const { error } = await act(o, plan, this.d.writer, this.d.log);
    if (plan.result !== 'idle') this.d.metrics?.syncs.inc({ namespace: o.ss.metadata.namespace ?? '', result: error ? 'error' : plan.result });
    if (!error) return { requeueAfterMs: plan.requeueAfterMs };
    if (error.cause instanceof StaleObjectError) throw new RecordedError(error.cause, true); // a stale cache: quietly again
    const d = describeError(error.cause);
    this.d.log.warn({ secretsync: key, reason: d.reason, code: d.code, err: d.message }, 'sync failed');
    throw new RecordedError(error.cause, error.retryable, error.retryable ? undefined : plan.requeueAfterMs);
  }

  /** The one provider I/O of a reconcile: every entry of the SecretSync, read at once. */
  private async read(o: Observed): Promise<ReadOutcome> {
    const source = o.source as AnySource;
    const secretNamespace = source.kind === 'ClusterSecretSource' ? this.d.operatorNamespace : (source.metadata.namespace ?? '');
    const label = sourceKey(source);
    const provider = providerName(source);
    try {
      const client = this.d.providers.client(source, {
        kube: this.d.providerKube,
        secretNamespace,
        onCall: (operation, result) => this.d.metrics?.providerCalls.inc({ provider, source: label, operation, result }),
      });
      return { ok: true, ...(await fetchContent(o.ss, client)) };
    } catch (error) {
      return { ok: false, error };
    }
  }
}

function providerName(source: AnySource): string {
  return Object.keys(source.spec).find((k) => k !== 'allowedNamespaces' && k !== 'namespaceSelector') ?? 'unknown';
}
