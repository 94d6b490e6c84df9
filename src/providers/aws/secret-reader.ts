// How one source reads secrets from AWS. Reads of the current version go through the
// batcher: up to 20 distinct secrets per BatchGetSecretValue call, one call for identical
// reads in flight, and each secret's own failure (the answer's Errors[]) reaches only the
// callers of that secret. A secret the answer does not mention (e.g. asked for by a
// partial ARN) is read on its own, and so is every secret of a batch AWS denied as a whole.
// Pinned reads (a VersionId or a staging label) need GetSecretValue, one call per distinct
// pin in flight. Every call passes the gate. Above both, FreshReads shares a read of a
// secret with every caller whose notBefore it satisfies, in flight or settled, so a secret
// read once at a refresh tick is not put into another batch by the syncs due at that tick.
import type { Clock } from '../../runtime/clock.js';
import { FreshReads } from '../fresh-reads.js';
import type { Outcome } from './batcher.js';
import { Batcher } from './batcher.js';
import type { CallGate } from './call-gate.js';
import type { SecretValue } from './client.js';
import type { Connection } from './connection.js';
import { batchEntryError, isDenied, isRetryable, toAwsError, type AwsOperation } from './errors.js';
import type { VersionPin } from './validate.js';

/** BatchGetSecretValue takes at most 20 ids per call. */
export const MAX_BATCH = 20;
/** Pages to follow when AWS splits a batch answer (NextToken); more is a protocol surprise. */
const MAX_PAGES = 5;
/** How long reads go one by one after BatchGetSecretValue was denied. */
const BATCH_DENIED_MS = 10 * 60_000;

export interface SecretReaderOptions {
  source: string;
  connection: Connection;
  gate: CallGate;
  clock: Clock;
  batch: { maxSize: number; idleMs: number; busyIdleMs: number; maxWaitMs: number };
}

function pinLabel(pin: VersionPin): string {
  return 'versionId' in pin ? pin.versionId : pin.versionStage;
}

export class SecretReader {
  private readonly batcher: Batcher<SecretValue>;
  /** By `<secretId>\0current` or `<secretId>\0id|stage\0<pin>`. */
  private readonly reads: FreshReads<SecretValue>;
  private batchDeniedUntil = 0;

  constructor(private readonly o: SecretReaderOptions) {
    this.reads = new FreshReads({ clock: o.clock });
    this.batcher = new Batcher<SecretValue>({
      maxBatch: Math.min(MAX_BATCH, Math.max(1, o.batch.maxSize)),
      idleMs: o.batch.idleMs,
      busyIdleMs: o.batch.busyIdleMs,
      maxWaitMs: o.batch.maxWaitMs,
      clock: o.clock,
      send: (take) => this.sendBatch(take),
      closedError: () => o.gate.closedError(),
    });
  }

  /**
   * The AWSCURRENT version of `secretId` from a read started at or after `notBefore`
   * (default: now), else batched with other reads.
   */
  current(secretId: string, notBefore = this.o.clock.now()): Promise<SecretValue> {
    return this.reads.get(`${secretId}\u0000current`, notBefore, () => {
      // A read of this id still in the open batch leaves after now and may be joined; one
      // already sent started before now, which the cache just judged too old.
      this.batcher.forget(secretId);
      return this.batcher.load(secretId);
    });
  }

  /** One pinned version of `secretId` from a read started at or after `notBefore` (default: now). */
  version(secretId: string, pin: VersionPin, notBefore = this.o.clock.now()): Promise<SecretValue> {
    const key = `${secretId}\u0000${'versionId' in pin ? 'id' : 'stage'}\u0000${pinLabel(pin)}`;
    return this.reads.get(key, notBefore, () => this.single(secretId, pin));
  }

  /** Reads of these ids already started are not shared with later ones (the secret was just written). */
  forget(secretIds: string[]): void {
    for (const id of secretIds) {
      this.batcher.forget(id);
      this.reads.invalidateWhere((key) => key.startsWith(`${id}\u0000`));
    }
  }

  close(): void {
    this.reads.clear();
    this.batcher.close();
  }

  private async single(secretId: string, pin?: VersionPin): Promise<SecretValue> {
    const operation: AwsOperation = 'GetSecretValue';
    try {
      return await this.o.gate.run(operation, () => this.o.connection.use((api) => api.getSecretValue(secretId, pin)), {
        isRetryable,
      });
    } catch (err) {
      throw this.mapError(err, operation, secretId, pin);
    }
  }

  private mapError(err: unknown, operation: AwsOperation, secretId: string, pin?: VersionPin) {
    const version = pin ? pinLabel(pin) : undefined;
    return toAwsError(err, { source: this.o.source, operation, target: secretId, version, secrets: this.o.connection.redactions() });
  }

  private async sendBatch(take: () => string[]): Promise<Map<string, Outcome<SecretValue>>> {
    const out = new Map<string, Outcome<SecretValue>>();
    if (this.o.clock.now() < this.batchDeniedUntil) return this.singles(take(), out);
    let ids: string[] = [];
    const operation: AwsOperation = 'BatchGetSecretValue';
    try {
      let nextToken: string | undefined;
      let page = 0;
      do {
        const token = nextToken;
        const answer = await this.o.gate.run(
          operation,
          () => this.o.connection.use((api) => api.batchGetSecretValue(ids, token)),
          { isRetryable, onSlot: () => (ids = page === 0 ? take() : ids) },
        );
        for (const v of answer.values) {
          for (const id of ids) if (!out.has(id) && (id === v.name || id === v.arn)) out.set(id, { ok: true, value: v });
        }
        for (const e of answer.errors) {
          const id = e.secretId;
          if (id !== undefined && ids.includes(id) && !out.has(id)) {
            out.set(id, { ok: false, error: batchEntryError(e, this.ctx(operation, id)) });
          }
        }
        nextToken = answer.nextToken;
      } while (nextToken && ++page < MAX_PAGES && out.size < ids.length);
    } catch (err) {
      if (ids.length === 0) ids = take(); // failed before the first request left
      if (isDenied(err)) {
        // No secretsmanager:BatchGetSecretValue, or a VPC endpoint policy denying one secret
        // of the batch (which fails the whole call): read each secret alone, so a denial
        // reaches only its own readers, and stop batching for a while.
        this.batchDeniedUntil = this.o.clock.now() + BATCH_DENIED_MS;
        return this.singles(ids, out);
      }
      for (const id of ids) if (!out.has(id)) out.set(id, { ok: false, error: this.mapError(err, operation, id) });
      return out;
    }
    // Ids the answer does not name (a partial ARN, an alias AWS resolved): read each alone.
    return this.singles(ids, out);
  }

  /** Reads each id `out` has no outcome for with GetSecretValue (concurrently, through the gate). */
  private async singles(ids: string[], out: Map<string, Outcome<SecretValue>>): Promise<Map<string, Outcome<SecretValue>>> {
    await Promise.all(
      ids
        .filter((id) => !out.has(id))
        .map(async (id) => {
          try {
            out.set(id, { ok: true, value: await this.single(id) });
          } catch (err) {
            out.set(id, { ok: false, error: err instanceof Error ? err : new Error(String(err)) });
          }
        }),
    );
    return out;
  }

  private ctx(operation: AwsOperation, secretId: string) {
    return { source: this.o.source, operation, target: secretId, secrets: this.o.connection.redactions() };
  }
}
