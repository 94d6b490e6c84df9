// The SecretSync reconciler: level-triggered, one key at a time (the work queue
// guarantees it). Reads current state from the caches, decides whether a refresh is due,
// fetches through the provider, writes the target Secret only when it differs, and the
// status only when it differs. A failure leaves the Secret as it was and says why in
// Ready=False. Deletion is handled in finalizer.ts.
import { ConditionType, findCondition } from '../api/conditions.js';
import {
  FINALIZER,
  FORCE_SYNC_ANNOTATION,
  type AnySource,
  type ClusterSecretSource,
  type SecretSync,
} from '../api/types.js';
import { validateSecretSync } from '../api/validate.js';
import { DEFAULTS } from '../api/types.js';
import { NamespaceNotAllowedError, SourceRefNotFoundError, StaleObjectError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { ProviderDeps, ProviderKube, SecretProvider } from '../providers/provider.js';
import { admitsNamespace } from './access.js';
import { checkSize, contentHmac, fromSecretData } from './content.js';
import { describeError } from './describe-error.js';
import { fetchContent } from './fetch.js';
import { finalize } from './finalizer.js';
import type { SyncReader, SyncWriter } from './ports.js';
import { intervalMs, nextRefreshAfter } from './schedule.js';
import { failureStatus, sameStatus, successStatus } from './status.js';
import { assertOwnable, desiredSecret, ownedBy, secretMatches, targetName } from './target.js';

export interface ProviderSource {
  validate(source: AnySource, secretNamespace: string): void;
  client(source: AnySource, deps: ProviderDeps): SecretProvider;
}

export interface ReconcilerDeps {
  reader: SyncReader;
  writer: SyncWriter;
  providers: ProviderSource;
  providerKube: ProviderKube;
  operatorNamespace: string;
  hmacKey: Buffer;
  now?: () => Date;
  log: Logger;
  metrics?: Metrics;
}

/** What this process remembers between reconciles of one key (lost on restart, by design). */
interface Memory {
  lastCheck: Date;
  forceSeen?: string;
  sourceVersion?: string;
}

/** Thrown to the controller after the failure is recorded in status; carries retryability. */
export class RecordedError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly retryable: boolean,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

const MIN_REQUEUE_MS = 1000;
const TERMINAL_RECHECK_MS = 3_600_000;

export class SecretSyncReconciler {
  private readonly memory = new Map<string, Memory>();
  private readonly now: () => Date;

  constructor(private readonly d: ReconcilerDeps) {
    this.now = d.now ?? (() => new Date());
  }

  async reconcile(key: string): Promise<{ requeueAfterMs?: number }> {
    const [namespace = '', name = ''] = key.split('/');
    const cached = this.d.reader.getSecretSync(namespace, name);
    if (!cached) {
      this.memory.delete(key);
      return {};
    }
    // A working copy: our own writes below move its resourceVersion forward.
    const ss: SecretSync = { ...cached, metadata: { ...cached.metadata } };
    if (ss.metadata.deletionTimestamp) {
      await finalize(ss, this.d.reader, this.d.writer, this.d.log);
      this.memory.delete(key);
      return {};
    }
    if (!(ss.metadata.finalizers ?? []).includes(FINALIZER)) {
      const finalizers = [...(ss.metadata.finalizers ?? []), FINALIZER];
      ss.metadata.resourceVersion = (await this.d.writer.setFinalizers(ss, finalizers)) ?? ss.metadata.resourceVersion;
      ss.metadata.finalizers = finalizers;
    }

    const now = this.now();
    const mem = this.memory.get(key);
    const seed = jitterSeed(ss);
    const anchor = ss.status?.lastSyncTime ? new Date(ss.status.lastSyncTime) : now;
    try {
      validateSecretSync(ss);
      const source = this.source(ss);
      const sourceVersion = `${source.metadata.uid}/${source.metadata.generation}`;
      const due = await this.dueReason(ss, mem, sourceVersion, anchor, now, seed);
      if (!due) {
        const next = nextRefreshAfter(ss.spec.refresh, anchor, mem?.lastCheck ?? anchor, seed);
        return { requeueAfterMs: Math.max(MIN_REQUEUE_MS, next.getTime() - now.getTime()) };
      }
      this.d.log.debug({ key, due }, 'refreshing');
      await this.sync(ss, source);
      this.memory.set(key, { lastCheck: now, forceSeen: ss.metadata.annotations?.[FORCE_SYNC_ANNOTATION], sourceVersion });
      const next = nextRefreshAfter(ss.spec.refresh, anchor, now, seed);
      return { requeueAfterMs: Math.max(MIN_REQUEUE_MS, next.getTime() - now.getTime()) };
    } catch (err) {
      // A stale cache is not the user's problem: retry quietly from fresh data.
      if (err instanceof StaleObjectError) throw new RecordedError(err, true);
      await this.recordFailure(ss, err, now);
      this.d.metrics?.syncs.inc({ namespace, result: 'error' });
      if (describeError(err).retryable) throw new RecordedError(err, true);
      // Not retryable with backoff (the spec or the remote value must change first), but
      // still looked at again on the refresh schedule, so a fix outside this object is seen.
      return { requeueAfterMs: intervalMs(ss.spec.refresh) ?? TERMINAL_RECHECK_MS };
    }
  }

  /** Why a refresh is due now, or undefined when nothing asks for one. */
  private async dueReason(
    ss: SecretSync,
    mem: Memory | undefined,
    sourceVersion: string,
    anchor: Date,
    now: Date,
    seed: string,
  ): Promise<string | undefined> {
    const st = ss.status;
    if (!st?.contentHmac) return 'first sync';
    if (st.observedGeneration !== ss.metadata.generation) return 'spec changed';
    if (findCondition(st.conditions, ConditionType.Ready)?.status !== 'True') return 'retry after failure';
    const force = ss.metadata.annotations?.[FORCE_SYNC_ANNOTATION];
    if (force !== undefined && force !== mem?.forceSeen && !(mem === undefined && force === '')) return 'force-sync';
    if (mem && mem.sourceVersion !== sourceVersion) return 'source changed';
    const target = await this.d.reader.getSecret(ss.metadata.namespace ?? '', targetName(ss));
    if (!target || !ownedBy(target, ss)) return 'target missing';
    if (contentHmac(this.d.hmacKey, fromSecretData(target.data)) !== st.contentHmac) return 'target drifted';
    const lastCheck = mem?.lastCheck ?? anchor;
    if (nextRefreshAfter(ss.spec.refresh, anchor, lastCheck, seed).getTime() <= now.getTime()) return 'refresh due';
    return undefined;
  }

  private source(ss: SecretSync): AnySource {
    const kind = ss.spec.sourceRef.kind ?? 'SecretSource';
    const ns = kind === 'SecretSource' ? (ss.metadata.namespace ?? '') : '';
    const src = this.d.reader.getSource(kind, ns, ss.spec.sourceRef.name);
    if (!src) {
      const where = kind === 'SecretSource' ? `${ns}/${ss.spec.sourceRef.name}` : ss.spec.sourceRef.name;
      throw new SourceRefNotFoundError(`${kind} ${where} not found: create it, or fix spec.sourceRef`);
    }
    return src;
  }

  private async sync(ss: SecretSync, source: AnySource): Promise<void> {
    const namespace = ss.metadata.namespace ?? '';
    let secretNamespace = namespace;
    if (source.kind === 'ClusterSecretSource') {
      const labels = await this.d.reader.getNamespaceLabels(namespace);
      if (!admitsNamespace(source as ClusterSecretSource, namespace, labels)) {
        throw new NamespaceNotAllowedError(
          `ClusterSecretSource ${source.metadata.name} does not admit namespace ${namespace}: add it to the source's ` +
            'spec.allowedNamespaces, or label the namespace to match its spec.namespaceSelector',
        );
      }
      secretNamespace = this.d.operatorNamespace;
    }
    this.d.providers.validate(source, secretNamespace);
    const provider = this.d.providers.client(source, {
      kube: this.d.providerKube,
      secretNamespace,
      onCall: (operation, result) =>
        this.d.metrics?.providerCalls.inc({ provider: providerName(source), source: sourceLabel(source), operation, result }),
    });
    const { content, sourceVersions } = await fetchContent(ss, provider);
    checkSize(content, ss.spec.target?.maxSizeBytes ?? DEFAULTS.maxSizeBytes);
    const hmac = contentHmac(this.d.hmacKey, content);

    const desired = desiredSecret(ss, content);
    const existing = await this.d.reader.getSecret(namespace, desired.metadata.name);
    assertOwnable(existing, ss);
    const specChanged = ss.status?.observedGeneration !== ss.metadata.generation;
    if (existing && (existing.type ?? 'Opaque') !== desired.type) {
      // A Secret's type is immutable: replace ours.
      await this.d.writer.deleteSecret(namespace, desired.metadata.name, existing.metadata.uid ?? '');
      await this.d.writer.applySecret(desired);
    } else if (specChanged || !secretMatches(existing, desired, this.d.hmacKey)) {
      await this.d.writer.applySecret(desired);
    }

    const now = this.now();
    const anchor = ss.status?.contentHmac === hmac && ss.status.lastSyncTime ? new Date(ss.status.lastSyncTime) : now;
    const status = successStatus(ss, {
      hmac,
      sourceVersions,
      keyCount: Object.keys(content).length,
      now,
      nextRefresh: nextRefreshAfter(ss.spec.refresh, anchor, now, jitterSeed(ss)),
    });
    const changed = ss.status?.contentHmac !== hmac;
    if (!sameStatus(ss.status, status)) {
      ss.metadata.resourceVersion = (await this.d.writer.patchStatus(ss, status)) ?? ss.metadata.resourceVersion;
    }
    if (changed) {
      await this.d.writer.event(ss, 'Normal', 'Synced', `synced version ${status.version} into Secret ${desired.metadata.name}`);
    }
    this.d.metrics?.syncs.inc({ namespace, result: changed ? 'synced' : 'unchanged' });
  }

  private async recordFailure(ss: SecretSync, err: unknown, now: Date): Promise<void> {
    const d = describeError(err);
    this.d.log.warn({ secretsync: `${ss.metadata.namespace}/${ss.metadata.name}`, reason: d.reason, code: d.code, err: d.message }, 'sync failed');
    const status = failureStatus(ss, d, now);
    if (sameStatus(ss.status, status)) return; // the same failure again: nothing new to write
    try {
      await this.d.writer.patchStatus(ss, status);
      await this.d.writer.event(ss, 'Warning', d.reason, d.message);
    } catch (writeErr) {
      this.d.log.warn({ err: writeErr }, 'could not record the failure in status');
    }
  }
}

/**
 * The jitter is per source, not per SecretSync: syncs reading one source on one schedule
 * stay due in the same moment, so a batching provider (AWS: 20 secrets a call) serves
 * them together, while different sources are spread apart.
 */
export function jitterSeed(ss: SecretSync): string {
  const kind = ss.spec.sourceRef.kind ?? 'SecretSource';
  return `${kind}/${kind === 'SecretSource' ? (ss.metadata.namespace ?? '') : ''}/${ss.spec.sourceRef.name}`;
}

function providerName(source: AnySource): string {
  return Object.keys(source.spec).find((k) => k !== 'allowedNamespaces' && k !== 'namespaceSelector') ?? 'unknown';
}

function sourceLabel(source: AnySource): string {
  return source.kind === 'ClusterSecretSource' ? source.metadata.name : `${source.metadata.namespace}/${source.metadata.name}`;
}
