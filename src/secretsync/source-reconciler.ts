// SecretSource / ClusterSecretSource status: Ready=True when the provider block passes the
// provider's semantic checks, Ready=False with the reason otherwise, so a broken source
// shows in `kubectl get secretsources` before any SecretSync trips over it. Credentials
// are exercised only when a SecretSync reads. Written only when it changes.
import { ConditionType, setCondition } from '../api/conditions.js';
import { parseSourceKey, type SourceRef } from '../api/source-ref.js';
import type { AnySource, SourceStatus } from '../api/types.js';
import { describeError } from './describe-error.js';
import { sameStatus } from './status.js';

export interface SourcePorts {
  getSource(ref: SourceRef): AnySource | undefined;
  patchSourceStatus(src: AnySource, status: SourceStatus): Promise<unknown>;
}

/** The provider registry's semantic checks of a source's provider block. */
export interface SourceValidator {
  validate(source: AnySource, secretNamespace: string): void;
}

export function sourceStatus(src: AnySource, providers: SourceValidator, operatorNamespace: string, now: Date): SourceStatus {
  const secretNamespace = src.kind === 'SecretSource' ? (src.metadata.namespace ?? '') : operatorNamespace;
  const gen = src.metadata.generation;
  try {
    providers.validate(src, secretNamespace);
    const conditions = setCondition(
      src.status?.conditions,
      { type: ConditionType.Ready, status: 'True', reason: 'Valid', message: 'spec is valid; credentials are used when a SecretSync reads', observedGeneration: gen },
      now,
    );
    return { conditions, observedGeneration: gen };
  } catch (err) {
    const d = describeError(err);
    const conditions = setCondition(
      src.status?.conditions,
      { type: ConditionType.Ready, status: 'False', reason: d.reason, message: d.message, observedGeneration: gen },
      now,
    );
    return { conditions, observedGeneration: gen };
  }
}

/**
 * The source's spec changed (a new generation): its Ready condition must be worked out
 * again. Status-only and metadata-only updates (our own status writes among them) need not.
 * A new source is always reconciled.
 */
export function sourceNeedsReconcile(a: AnySource, b: AnySource): boolean {
  return a.metadata.generation !== b.metadata.generation;
}

export class SourceReconciler {
  constructor(
    private readonly ports: SourcePorts,
    private readonly providers: SourceValidator,
    private readonly operatorNamespace: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** `key` as sourceKey() writes it: `SecretSource/<ns>/<name>` or `ClusterSecretSource/<name>`. */
  async reconcile(key: string): Promise<{ requeueAfterMs?: number }> {
    const ref = parseSourceKey(key);
    const src = ref && this.ports.getSource(ref);
    if (!src) return {};
    const status = sourceStatus(src, this.providers, this.operatorNamespace, this.now());
    if (!sameStatus(src.status ?? {}, status)) await this.ports.patchSourceStatus(src, status);
    return {};
  }
}
