// The SecretSync reconciler: level-triggered, one key at a time (the work queue guarantees
// it). A short pipeline: observe (caches only) → whatIsDue (pure) → read the source, only
// when due → plan (pure) → act (writes, in order). When act stops (a write failed, or a
// create found the name taken), what follows is planned too and carried out by another
// act. Deletion plans through finalizer.ts.
import type { AnySource } from '../api/types.js';
import { sourceKey } from '../api/source-ref.js';
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
import { isStale, planSync, planTakenName, planWriteFailure, versionFor, type Plan, type ReadOutcome, type SealOutcome } from './plan.js';
import { heldVersions, seal as sealValues, type VersionEnvelope } from '../crypto/envelope.js';
import type { KeyEncrypter } from '../crypto/key-encrypter.js';
import { InvalidSpecError, StaleObjectError } from '../errors.js';
import { contentHmac, macVerifies, type Content } from './content.js';
import { wantedKek } from './due.js';
import { encrypterSpec, keyIdOf, type KekRef } from './kek.js';
import type { KekVersions } from './kek-versions.js';
import { heldContentHmac, heldEnvelope, sealAction } from './sealing.js';
import type { SyncReader, SyncWriter } from './ports.js';
import { randomUUID } from 'node:crypto';
import { providerName, type PendingRotation } from '../api/types.js';
import { pendingStatus, rotationStep, type RotationOutcome, type RotationStep } from './rotate.js';
import { DEFAULT_CHARSET, DEFAULT_LENGTH, generate } from './rotation/generator.js';
import { rotationTargets, type RotationTarget } from './rotation/targets.js';

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
  /** Test hooks: fault injection at the points crash-safety is about (SECRETSYNC_TEST_FAULT). */
  faults?: { afterRotationWrite?(): void; beforeRotationWrite?(): Promise<void> };
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
      return {};
    }
    if (o.ss.metadata.deletionTimestamp) {
      this.memory.delete(key);
      const plan = planDeletion(o);
      if (!plan) return {};
      const error = await this.carryOut(o, plan);
      if (error) throw new RecordedError(error.cause, error.retryable);
      return {};
    }
    let due = whatIsDue(o);
    let rotation: RotationOutcome | undefined;
    if (due.failure === undefined) {
      const step = rotationStep(o.ss, o.source, o.now, o.namespaceLabels);
      if (step.kind !== 'none') ({ o, outcome: rotation } = await this.rotate(o, step));
      else if (step.throttled) due = { ...due, throttled: [...(due.throttled ?? []), step.throttled] };
    }
    let read: ReadOutcome | undefined;
    if ((due.read || rotation?.ok) && due.failure === undefined) {
      this.d.log.debug({ secretsync: key, due: rotation?.ok ? 'rotated' : due.read }, 'reading the source');
      // After our own rotation write only a read started from now on sees it.
      read = await this.read(o, rotation?.ok ? this.now().getTime() : (due.notBefore ?? this.now().getTime()));
    }
    let sealed: SealOutcome | undefined;
    if (o.kek && due.failure === undefined) {
      if (read?.ok) sealed = await this.seal(o, versionFor(o, read.content).version, read.content);
      else if (!read && due.rewrap) sealed = await this.seal(o, o.ss.status?.version ?? 0);
    }
    const plan = planSync(o, due, read, sealed, rotation);
    this.memory.set(key, plan.memory);
    const error = await this.carryOut(o, plan);
    if (plan.result !== 'idle') this.d.metrics?.syncs.inc({ namespace: o.ss.metadata.namespace ?? '', result: error ? 'error' : plan.result });
    if (!error) return { requeueAfterMs: plan.requeueAfterMs };
    if (isStale(error.cause)) throw new RecordedError(error.cause, true); // a stale cache: quietly again
    const d = describeError(error.cause);
    this.d.log.warn({ secretsync: key, reason: d.reason, code: d.code, err: d.message }, 'sync failed');
    throw new RecordedError(error.cause, error.retryable, error.retryable ? undefined : error.requeueAfterMs);
  }

  /**
   * Carries out `plan`. When act stops, what follows is planned and carried out in turn: a
   * create that found the name taken reads that Secret (the cache holds only ours) and
   * plans the repair or the conflict; a failed write becomes Ready=False (a stale cache is
   * not reported). Returns the error the reconcile ends with, if any.
   */
  private async carryOut(o: Observed, plan: Plan): Promise<{ cause: unknown; retryable: boolean; requeueAfterMs: number } | undefined> {
    let out = await act(o, plan, this.d.writer, this.d.log);
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
        // Taken again right after it was read: the cache is behind; look again from fresh caches.
        failed = out.taken ? new StaleObjectError(`Secret ${out.taken.namespace}/${out.taken.name} was recreated meanwhile; retrying`) : out.failed;
      } else {
        failed = next.failed;
      }
    }
    if (failed === undefined) return plan.error ? { ...plan.error, requeueAfterMs: plan.requeueAfterMs } : undefined;
    if (isStale(failed)) return { cause: failed, retryable: true, requeueAfterMs: plan.requeueAfterMs };
    const failure = planWriteFailure({ ...o, ss: out.ss }, plan, failed);
    const recorded = await act({ ...o, ss: out.ss }, failure, this.d.writer, this.d.log);
    if (recorded.failed !== undefined) {
      this.d.log.warn({ secretsync: o.key, err: describeError(recorded.failed).message }, 'could not record the failure in status');
    }
    const error = failure.error ?? { cause: failed, retryable: true };
    return { ...error, requeueAfterMs: failure.requeueAfterMs };
  }

  /**
   * Rotation I/O: for a new rotation, read the versions the new values build on and record
   * them with a fresh id in status (the pending rotation) before anything is written; then
   * write each rotated path at the source. A pending rotation from an interrupted reconcile
   * goes straight to the writes, which find their own earlier write (AWS by the id, Vault by
   * the version having moved past the base) and write nothing twice.
   */
  private async rotate(o: Observed, step: Exclude<RotationStep, { kind: 'none' }>): Promise<{ o: Observed; outcome: RotationOutcome }> {
    const { ss } = o;
    let recorded = step.kind === 'resume';
    const fail = (cause: unknown) => {
      const error = describeError(cause);
      this.d.log.warn({ secretsync: o.key, reason: error.reason, code: error.code, err: error.message }, 'rotation failed');
      // A rotate-now that failed before its pending record counts as handled only when retrying cannot help.
      const handled = step.kind === 'start' && (recorded || !error.retryable) ? step.rotateNowHandled : o.ss.status?.rotateNowHandled;
      return { o, outcome: { ok: false as const, error, cause, rotateNowHandled: handled, dropPending: cause instanceof InvalidSpecError } };
    };
    const spec = ss.spec.rotation;
    if (!spec) return fail(new InvalidSpecError('spec.rotation is not set'));
    let targets: RotationTarget[];
    let provider: SecretProvider;
    try {
      targets = rotationTargets(ss);
      provider = this.providerFor(o.source as AnySource);
    } catch (err) {
      return fail(err);
    }
    if (!provider.rotate) return fail(new InvalidSpecError(`${sourceKey(o.source as AnySource)} cannot write secrets: rotation needs a vault (KV v2) or aws source`));
    let pending: PendingRotation;
    if (step.kind === 'resume') {
      pending = step.pending;
      this.d.log.info({ secretsync: o.key, rotation: pending.id }, 'finishing an interrupted rotation');
    } else {
      try {
        const { sourceVersions } = await fetchContent(ss, provider);
        const basedOn: Record<string, string> = {};
        for (const t of targets) basedOn[t.path] = sourceVersions[t.path] ?? '';
        pending = { id: randomUUID(), trigger: step.trigger, startedAt: o.now.toISOString(), basedOn };
      } catch (err) {
        return fail(err);
      }
      const status = pendingStatus(ss, pending, step.rotateNowHandled);
      try {
        const rv = await this.d.writer.writeStatus(ss, status);
        o = { ...o, ss: { ...ss, metadata: { ...ss.metadata, resourceVersion: rv ?? ss.metadata.resourceVersion }, status } };
        recorded = true;
      } catch (err) {
        if (isStale(err)) throw new RecordedError(err, true);
        return fail(err);
      }
    }
    const written: { path: string; outcome: string; version: string }[] = [];
    const length = spec.generator?.length ?? DEFAULT_LENGTH;
    const charset = spec.generator?.charset ?? DEFAULT_CHARSET;
    for (const t of targets) {
      const basedOn = pending.basedOn[t.path];
      if (basedOn === undefined) continue; // spec.rotation.keys edited mid-rotation: the new path waits for the next one
      const set = Object.fromEntries(t.properties.map((p) => [p, generate(length, charset)]));
      const whole = t.whole ? generate(length, charset) : undefined;
      try {
        await this.d.faults?.beforeRotationWrite?.();
        const r = await provider.rotate({ path: t.path, id: pending.id, basedOn, set, ...(whole ? { whole } : {}) });
        written.push({ path: t.path, outcome: r.outcome, version: r.version });
        this.d.log.info({ secretsync: o.key, rotation: pending.id, path: t.path, outcome: r.outcome, version: r.version }, 'rotated at the source');
      } catch (err) {
        return fail(err);
      } finally {
        for (const b of Object.values(set)) b.fill(0);
        whole?.fill(0);
      }
      if (written.at(-1)?.outcome === 'written') this.d.faults?.afterRotationWrite?.();
    }
    return { o, outcome: { ok: true, pending, keys: targets.flatMap((t) => t.keys), written, resumed: step.kind === 'resume' } };
  }

  /**
   * Envelope mode: the envelope for `version` — the held one kept as it is, its data keys
   * re-wrapped, or `content` sealed under a freshly minted data key. At most one key-service
   * call per version entry; none when nothing changed.
   */
  private async seal(o: Observed, version: number, content?: Content): Promise<SealOutcome> {
    const kek = o.kek;
    const want = wantedKek(o);
    if (!kek?.source || !want) return { ok: false, error: new InvalidSpecError('spec.target.encryption.kek cannot be resolved') };
    const held = heldContentHmac(o.target);
    // Whether the envelope holds this content: its content HMAC verifies under the key it
    // names (per object, or the legacy global key of an object written before the upgrade).
    const hmac = content ? contentHmac(o.macKeys.content, content) : held;
    const holds = held !== undefined && (content ? macVerifies(o.macKeys, 'content', held, content) : true);
    const action = sealAction(heldEnvelope(o.target, o.macKeys), holds, version, want, kek.latest, o.ss.status?.rollout?.targets);
    if (action.kind === 'keep') return { ok: true, envelope: action.envelope, contentHmac: hmac };
    const ctx = { namespace: o.ss.metadata.namespace ?? '', secretsync: o.ss.metadata.name };
    try {
      const enc = this.keyEncrypter(kek.source, kek.ref);
      if (action.kind === 'rewrap') {
        const entries = await Promise.all(
          heldVersions(action.envelope).map(async (v) => {
            if (!action.versions.includes(v.version)) return v;
            const w = await enc.rewrap(v.wrappedKey, ctx);
            this.d.kekVersions?.observe(kek.ref.id, w.kekVersion);
            return { ...v, wrappedKey: w.wrapped, kek: { ...want, version: w.kekVersion } };
          }),
        );
        const [current, ...previous] = entries as [VersionEnvelope, ...VersionEnvelope[]];
        return { ok: true, envelope: { current, ...(previous.length > 0 ? { previous } : {}) }, contentHmac: hmac };
      }
      if (!content) return { ok: false, error: new InvalidSpecError('envelope mode: nothing to seal') };
      if (action.dropped) {
        // Past the bound: pods still pinned to these versions keep the files they have, but
        // a pod created from their old template (a rescheduled one) cannot open them.
        this.d.log.warn(
          { secretsync: o.key, version: action.version, dropped: action.dropped },
          'envelope holds at most 3 versions: older versions dropped while rollouts still run pods pinned to them',
        );
      }
      const dk = await enc.generateDataKey(ctx);
      try {
        this.d.kekVersions?.observe(kek.ref.id, dk.kekVersion);
        const binding = { namespace: ctx.namespace, secretsync: ctx.secretsync, uid: o.ss.metadata.uid ?? '', version: action.version };
        const current: VersionEnvelope = {
          version: action.version,
          kek: { ...want, version: dk.kekVersion },
          wrappedKey: dk.wrapped,
          values: sealValues(dk.plaintext, binding, content),
        };
        this.d.log.debug({ secretsync: o.key, version: action.version, keyId: keyIdOf(current.kek) }, 'minted a data key');
        return { ok: true, envelope: { current, ...(action.previous ? { previous: action.previous } : {}) }, contentHmac: hmac };
      } finally {
        dk.plaintext.fill(0);
      }
    } catch (error) {
      return { ok: false, error };
    }
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
      return { ok: true, ...(await fetchContent(o.ss, client, { notBefore })) };
    } catch (error) {
      return { ok: false, error };
    }
  }
}
