// The SecretSync reconciler: level-triggered, one key at a time (the work queue guarantees
// it). A short pipeline in which every decision is a pure function and this file only
// reads and carries out: observe (caches only) → whatIsDue and the rotation step (pure) →
// the rotation's writes at the source, when one is due (planned by rotation/plan.ts) → read
// the source, only when due (readFor) → the KEK's version, when a force-sync asks for it
// (due.kekCheck) → the key-service calls (planned by planSeal, made by seal-calls.ts) →
// planSync (pure) → act (writes, in order) → the metrics of what it came to (series.ts).
// When act stops (a write failed, or a create found the name taken), what follows is
// planned too and carried out by another act. Deletion plans through finalizer.ts.
import { randomUUID } from 'node:crypto';
import { sourceKey } from '../api/source-ref.js';
import { providerName, type AnySource, type PendingRotation, type SecretSync } from '../api/types.js';
import type { KeyEncrypter } from '../crypto/key-encrypter.js';
import { InvalidSpecError, StaleObjectError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { ProviderDeps, ProviderKube, SecretProvider } from '../providers/provider.js';
import { act } from './act.js';
import type { HmacKey } from './content.js';
import { describeError } from './describe-error.js';
import { readFor, whatIsDue } from './due.js';
import { DEFAULT_FIND_MAX_SECRETS, fetchContent, type FindBounds } from './fetch.js';
import { planDeletion } from './finalizer.js';
import { encrypterSpec, type KekRef } from './kek.js';
import type { KekVersions } from './kek-versions.js';
import { observe, type Memory, type Observed } from './observe.js';
import { isStale, planSync, planTakenName, planWriteFailure, type Plan, type ReadOutcome } from './plan.js';
import type { SyncReader, SyncWriter } from './ports.js';
import type { TemplatePatch } from './rollout.js';
import { pendingStatus, withRotationStep, type RotationOutcome, type RotationStep } from './rotate.js';
import { generate } from './rotation/generator.js';
import { newPendingRotation, planRotation, rotationDone, rotationFailed, rotationWrites } from './rotation/plan.js';
import { carryOutSeal } from './seal-calls.js';
import { renderRead } from './render.js';
import { readPrefixes } from './scope.js';
import { planSeal } from './seal-plan.js';
import { syncSeries } from './series.js';

export interface ProviderSource {
  client(source: AnySource, deps: ProviderDeps): SecretProvider;
  alignsRefreshes(source: AnySource): boolean;
  /** The provider's semantic checks (no I/O); throws what is wrong. */
  validate(source: AnySource, secretNamespace: string): void;
}

export interface ReconcilerDeps {
  reader: SyncReader;
  writer: SyncWriter;
  providers: ProviderSource;
  providerKube: ProviderKube;
  operatorNamespace: string;
  /** Names of the operator's own Secrets in operatorNamespace (HMAC key, webhook TLS): never a SecretSync's target. */
  operatorSecrets?: readonly string[];
  hmacKey: HmacKey;
  now?: () => Date;
  log: Logger;
  metrics?: Metrics;
  /** Newest KEK versions known to this process (shared with the KEK watcher). */
  kekVersions?: KekVersions;
  /** Secrets one SecretSync's dataFrom finds may discover in all (--find-max-secrets). */
  findMaxSecrets?: number;
  /** Test hooks: fault injection at the points crash-safety is about (SECRETSYNC_TEST_FAULT). */
  faults?: { afterRotationWrite?(): void; beforeRotationWrite?(): Promise<void> };
}

/** What carrying out a plan came to. */
interface Carried {
  /** The SecretSync as the writes left it (its status, when one was written). */
  ss: SecretSync;
  /** Workloads rolled. */
  rolled: TemplatePatch[];
  /** A status was written (the plan's, or the failure's). */
  statusWritten: boolean;
  /** A write failed (the failure recorded in status, when that write worked). */
  writeFailed: boolean;
  /** The error the reconcile ends with. */
  error?: { cause: unknown; retryable: boolean; requeueAfterMs: number };
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
    let o = observe(
      {
        reader: this.d.reader,
        hmacKey: this.d.hmacKey,
        operatorSecrets: { namespace: this.d.operatorNamespace, names: this.d.operatorSecrets ?? [] },
        alignsRefreshes: (s) => this.d.providers.alignsRefreshes(s),
        kekLatest: (id) => this.d.kekVersions?.get(id),
        sourceProblem: (s) => {
          try {
            this.d.providers.validate(s, this.secretNamespaceOf(s));
            return undefined;
          } catch (err) {
            return err;
          }
        },
      },
      key,
      this.memory.get(key),
      this.now(),
    );
    if (!o) {
      this.memory.delete(key);
      this.d.metrics?.secretsyncs.delete(key);
      return {};
    }
    if (o.ss.metadata.deletionTimestamp) {
      this.memory.delete(key);
      const plan = planDeletion(o);
      if (!plan) {
        this.recordMetrics(o, { ss: o.ss, rolled: [], statusWritten: false, writeFailed: false }, undefined, false);
        return {};
      }
      const done = await this.carryOut(o, plan);
      this.recordMetrics(o, done, undefined, false);
      if (done.error) throw new RecordedError(done.error.cause, done.error.retryable);
      return {};
    }
    const { due, step } = withRotationStep(o, whatIsDue(o));
    let rotation: RotationOutcome | undefined;
    if (step.kind !== 'none') ({ o, outcome: rotation } = await this.rotate(o, step));
    const wanted = readFor(due, rotation?.ok === true, this.now().getTime());
    let read: ReadOutcome | undefined;
    if (wanted) {
      this.d.log.debug({ secretsync: key, due: wanted.reason }, 'reading the source');
      // spec.target.template, applied in memory (pure): the content compared and written is the rendered one.
      read = renderRead(o.ss, await this.read(o, wanted.notBefore));
    }
    if (due.kekCheck) o = await this.checkKek(o);
    const sealed = await carryOutSeal(key, planSeal(o, due, read), {
      encrypter: (source, ref) => this.keyEncrypter(source, ref),
      kekVersions: this.d.kekVersions,
      log: this.d.log,
    });
    const plan = planSync(o, due, read, sealed, rotation);
    this.memory.set(key, plan.memory);
    const done = await this.carryOut(o, plan);
    const error = done.error;
    this.recordMetrics(o, done, rotation, read?.ok === true && !done.writeFailed);
    if (plan.result !== 'idle') this.d.metrics?.syncs.inc({ namespace: o.ss.metadata.namespace ?? '', result: error ? 'error' : plan.result });
    if (!error) return { requeueAfterMs: plan.requeueAfterMs };
    if (isStale(error.cause)) throw new RecordedError(error.cause, true); // a stale cache: quietly again
    const d = describeError(error.cause);
    this.d.log.warn({ secretsync: key, reason: d.reason, code: d.code, err: d.message }, 'sync failed');
    throw new RecordedError(error.cause, error.retryable, error.retryable ? undefined : error.requeueAfterMs);
  }

  /**
   * The metrics of a reconcile: the workloads it rolled and the rotation it attempted, once
   * its writes are all made (a reconcile from a cache that is behind fails its status write
   * and is retried: what it did again is not counted twice), and the SecretSync's series
   * (`synced`: it read the source and wrote everything it planned).
   */
  private recordMetrics(o: Observed, done: Omit<Carried, 'error'>, rotation: RotationOutcome | undefined, synced: boolean): void {
    const m = this.d.metrics;
    if (!m) return;
    const namespace = o.ss.metadata.namespace ?? '';
    if (!done.writeFailed) {
      for (const r of done.rolled) m.rollouts.inc({ namespace, kind: r.kind });
      if (rotation) m.rotations.inc({ namespace, result: rotation.ok ? 'succeeded' : 'failed' });
    }
    const status = { cached: o.ss.status, ...(done.statusWritten ? { written: done.ss.status } : {}) };
    m.secretsyncs.set(o.key, syncSeries(m.secretsyncs.get(o.key), o.ss.metadata.uid ?? '', status, synced, this.now()));
  }

  /**
   * Envelope mode, a force-sync (due.kekCheck): the KEK's current version from the key
   * service, so a key rotated since the watcher's last pass is re-wrapped now. A failed
   * check leaves what was known (the seal's own call reports a key service that is down).
   */
  private async checkKek(o: Observed): Promise<Observed> {
    const kek = o.kek;
    if (!kek?.source) return o;
    try {
      const version = await this.keyEncrypter(kek.source, kek.ref).currentVersion();
      this.d.kekVersions?.observe(kek.ref.id, version);
      return { ...o, kek: { ...kek, latest: version } };
    } catch (err) {
      const d = describeError(err);
      this.d.log.warn({ secretsync: o.key, kek: kek.ref.id, reason: d.reason, err: d.message }, 'could not check the KEK version');
      return o;
    }
  }

  /**
   * Carries out `plan`. When act stops, what follows is planned and carried out in turn: a
   * create that found the name taken reads that Secret (the cache holds only ours) and
   * plans the repair or the conflict; a failed write becomes Ready=False (a stale cache is
   * not reported). Returns the error the reconcile ends with, if any, and the SecretSync as
   * the writes left it.
   */
  private async carryOut(o: Observed, plan: Plan): Promise<Carried> {
    let out = await act(o, plan, this.d.writer, this.d.log);
    const rolled = [...out.rolled];
    let statusWritten = out.statusWritten;
    let failed = out.failed;
    if (out.taken) {
      o = { ...o, ss: out.ss };
      let next: ReturnType<typeof planTakenName>;
      try {
        next = planTakenName(o, plan, await this.d.writer.readSecret(out.taken.namespace, out.taken.name));
      } catch (err) {
        next = { failed: err };
      }
      if ('repair' in next) {
        plan = next.repair;
        out = await act(o, plan, this.d.writer, this.d.log);
        rolled.push(...out.rolled);
        statusWritten ||= out.statusWritten;
        // Taken again right after it was read: the cache is behind; look again from fresh caches.
        failed = out.taken ? new StaleObjectError(`Secret ${out.taken.namespace}/${out.taken.name} was recreated meanwhile; retrying`) : out.failed;
      } else {
        failed = next.failed;
      }
    }
    const ss = out.ss;
    if (failed === undefined) {
      return { ss, rolled, statusWritten, writeFailed: false, ...(plan.error ? { error: { ...plan.error, requeueAfterMs: plan.requeueAfterMs } } : {}) };
    }
    if (isStale(failed)) return { ss, rolled, statusWritten, writeFailed: true, error: { cause: failed, retryable: true, requeueAfterMs: plan.requeueAfterMs } };
    const failure = planWriteFailure({ ...o, ss }, plan, failed);
    const recorded = await act({ ...o, ss }, failure, this.d.writer, this.d.log);
    if (recorded.failed !== undefined) {
      this.d.log.warn({ secretsync: o.key, err: describeError(recorded.failed).message }, 'could not record the failure in status');
    }
    const error = failure.error ?? { cause: failed, retryable: true };
    return { ss: recorded.ss, rolled, statusWritten: statusWritten || recorded.statusWritten, writeFailed: true, error: { ...error, requeueAfterMs: failure.requeueAfterMs } };
  }

  /**
   * Carries out a rotation step (planned by rotate.ts): for a new rotation, read the
   * versions the new values build on and record them with a fresh id in status (the
   * pending rotation) before anything is written; then write each rotated path at the
   * source. A pending rotation from an interrupted reconcile goes straight to the writes,
   * which find their own earlier write (AWS by the id, Vault by the version having moved
   * past the base) and write nothing twice.
   */
  private async rotate(o: Observed, step: Exclude<RotationStep, { kind: 'none' }>): Promise<{ o: Observed; outcome: RotationOutcome }> {
    let provider: SecretProvider | undefined;
    let writer: { canWrite: boolean } | { error: unknown };
    try {
      provider = this.providerFor(o.source as AnySource);
      writer = { canWrite: provider.rotate !== undefined };
    } catch (error) {
      writer = { error };
    }
    const fail = (cause: unknown, recorded: boolean) => {
      const outcome = rotationFailed(o.ss, step, cause, recorded);
      this.d.log.warn({ secretsync: o.key, reason: outcome.error.reason, code: outcome.error.code, err: outcome.error.message }, 'rotation failed');
      return { o, outcome };
    };
    const plan = planRotation(o.ss, o.source, writer);
    if (plan.kind === 'fail') return fail(plan.cause, false);
    const source = provider as SecretProvider & Required<Pick<SecretProvider, 'rotate'>>; // planRotation found it can write
    let pending: PendingRotation;
    if (step.kind === 'resume') {
      pending = step.pending;
      this.d.log.info({ secretsync: o.key, rotation: pending.id }, 'finishing an interrupted rotation');
    } else {
      try {
        const { sourceVersions } = await fetchContent(o.ss, source, undefined, this.findBounds(o));
        pending = newPendingRotation(step, plan.targets, sourceVersions, randomUUID(), o.now);
      } catch (err) {
        return fail(err, false);
      }
      const status = pendingStatus(o.ss, pending, step.rotateNowHandled);
      try {
        const rv = await this.d.writer.writeStatus(o.ss, status);
        o = { ...o, ss: { ...o.ss, metadata: { ...o.ss.metadata, resourceVersion: rv ?? o.ss.metadata.resourceVersion }, status } };
      } catch (err) {
        if (isStale(err)) throw new RecordedError(err, true);
        return fail(err, false);
      }
    }
    const written: { path: string; outcome: string; version: string }[] = [];
    const { length, charset } = plan.generator;
    for (const w of rotationWrites(plan.targets, pending)) {
      const set = Object.fromEntries(w.properties.map((p) => [p, generate(length, charset)]));
      const whole = w.whole ? generate(length, charset) : undefined;
      try {
        await this.d.faults?.beforeRotationWrite?.();
        const r = await source.rotate({ path: w.path, id: pending.id, basedOn: w.basedOn, set, ...(whole ? { whole } : {}) });
        written.push({ path: w.path, outcome: r.outcome, version: r.version });
        this.d.log.info({ secretsync: o.key, rotation: pending.id, path: w.path, outcome: r.outcome, version: r.version }, 'rotated at the source');
      } catch (err) {
        return fail(err, true);
      } finally {
        for (const b of Object.values(set)) b.fill(0);
        whole?.fill(0);
      }
      if (written.at(-1)?.outcome === 'written') this.d.faults?.afterRotationWrite?.();
    }
    return { o, outcome: rotationDone(step, pending, plan.targets, written) };
  }

  /** A KeyEncrypter for the KEK, authenticated as its source (the provider's cached client). */
  keyEncrypter(source: AnySource, ref: KekRef): KeyEncrypter {
    const provider = this.providerFor(source);
    if (!provider.keyEncrypter) {
      throw new InvalidSpecError(`${sourceKey(source)} cannot reach a key service: point spec.target.encryption.kek at a vault or aws source`);
    }
    return provider.keyEncrypter(encrypterSpec(ref.spec));
  }

  /** Where a source's references resolve: its own namespace, or the operator's for a ClusterSecretSource. */
  private secretNamespaceOf(source: AnySource): string {
    return source.kind === 'ClusterSecretSource' ? this.d.operatorNamespace : (source.metadata.namespace ?? '');
  }

  private providerFor(source: AnySource): SecretProvider {
    const secretNamespace = this.secretNamespaceOf(source);
    const label = sourceKey(source);
    const provider = providerName(source);
    return this.d.providers.client(source, {
      kube: this.d.providerKube,
      secretNamespace,
      onCall: (operation, result) => this.d.metrics?.providerCalls.inc({ provider, source: label, operation, result }),
    });
  }

  /**
   * The one provider I/O of a reconcile: every entry of the SecretSync, read at once,
   * from reads that started at or after `notBefore` (shared with other syncs).
   */
  private async read(o: Observed, notBefore: number): Promise<ReadOutcome> {
    try {
      const client = this.providerFor(o.source as AnySource);
      return { ok: true, ...(await fetchContent(o.ss, client, { notBefore }, this.findBounds(o))) };
    } catch (error) {
      return { ok: false, error };
    }
  }

  /** What bounds a dataFrom find: the operator's limit and the namespace's path prefixes on a ClusterSecretSource. */
  private findBounds(o: Observed): FindBounds {
    return { maxSecrets: this.d.findMaxSecrets ?? DEFAULT_FIND_MAX_SECRETS, prefixes: readPrefixes(o.ss, o.source, o.namespaceLabels) };
  }
}
