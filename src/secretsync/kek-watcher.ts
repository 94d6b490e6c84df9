// Notices KEK rotation: once per interval it asks the key service for the current version
// of every KEK in use (one call per KEK, however many SecretSyncs share it) and, when a
// version moved, enqueues the SecretSyncs using that KEK. Their reconcile re-wraps the data
// keys (no source read, no new version, no rollout). Runs only while this replica leads.
// Passes are `intervalMs` apart, counted from the end of the previous one, on the Clock.
import type { AnySource, SecretSync } from '../api/types.js';
import { describeError } from './describe-error.js';
import { kekRefOf, type KekRef } from './kek.js';
import type { KekVersions } from './kek-versions.js';
import type { SourceRef } from '../api/source-ref.js';
import type { KeyEncrypter } from '../crypto/key-encrypter.js';
import type { Logger } from '../observability/logger.js';
import { realClock, type Clock, type Timer } from '../runtime/clock.js';
import { kekUsable } from './scope.js';

export interface KekWatcherDeps {
  listSecretSyncs(): SecretSync[];
  getSource(ref: SourceRef): AnySource | undefined;
  /** Labels of a namespace (a ClusterSecretSource may admit or scope by them). */
  namespaceLabels?(namespace: string): Record<string, string> | undefined;
  /** The KeyEncrypter for a KEK, authenticated as its source. */
  encrypter(source: AnySource, ref: KekRef): KeyEncrypter;
  versions: KekVersions;
  enqueue(key: string): void;
  intervalMs: number;
  log: Logger;
  /** Default: the wall clock. */
  clock?: Clock;
}

export class KekWatcher {
  private timer: Timer | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(private readonly d: KekWatcherDeps) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    // No unref needed: stop() cancels the timer, and the manager stops the watcher on every way out.
    this.timer = (this.d.clock ?? realClock).setTimer(this.d.intervalMs, () => {
      this.running = this.checkAll().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    });
  }

  /** Enqueues every SecretSync using KEK `kekId` (its version moved: KekVersions' onMoved). */
  enqueueUsers(kekId: string): void {
    for (const ss of this.d.listSecretSyncs()) {
      let ref: KekRef | undefined;
      try {
        ref = kekRefOf(ss);
      } catch {
        continue;
      }
      if (ref?.id === kekId && !ss.metadata.deletionTimestamp) this.d.enqueue(`${ss.metadata.namespace ?? ''}/${ss.metadata.name}`);
    }
  }

  /** One pass: every KEK in use, checked once; SecretSyncs of a moved KEK enqueued. */
  async checkAll(): Promise<void> {
    const byKek = new Map<string, { ref: KekRef; keys: string[] }>();
    for (const ss of this.d.listSecretSyncs()) {
      if (ss.metadata.deletionTimestamp) continue;
      let ref: KekRef | undefined;
      try {
        ref = kekRefOf(ss);
      } catch {
        continue;
      }
      if (!ref) continue;
      // Only KEKs the SecretSync may use: the key service never hears of a refused one.
      const source = this.d.getSource(ref.sourceRef);
      if (!source || !kekUsable(ss, ref, source, this.d.namespaceLabels?.(ss.metadata.namespace ?? ''))) continue;
      const entry = byKek.get(ref.id) ?? { ref, keys: [] };
      entry.keys.push(`${ss.metadata.namespace ?? ''}/${ss.metadata.name}`);
      byKek.set(ref.id, entry);
    }
    for (const id of this.d.versions.ids()) if (!byKek.has(id)) this.d.versions.forget(id);
    for (const { ref, keys } of byKek.values()) {
      if (this.stopped) return;
      const source = this.d.getSource(ref.sourceRef);
      if (!source) continue; // the SecretSyncs say so in their status
      try {
        const version = await this.d.encrypter(source, ref).currentVersion();
        const known = this.d.versions.get(ref.id);
        if (this.d.versions.observe(ref.id, version)) {
          if (known !== undefined) this.d.log.info({ kek: ref.id, version, secretsyncs: keys.length }, 'KEK rotated: re-wrapping its data keys');
          for (const k of keys) this.d.enqueue(k);
        }
      } catch (err) {
        const d = describeError(err);
        this.d.log.warn({ kek: ref.id, reason: d.reason, err: d.message }, 'could not check the KEK version');
      }
    }
  }
}
