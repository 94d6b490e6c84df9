// The one place errors become condition reasons and messages. Typed errors carry their
// own reason and a message that says what to fix; anything else is an internal error
// whose text is sanitised (it may come from an SDK and must not leak credentials).
// Total: whatever was thrown (a value without a prototype, a toString or a message getter
// that throws, a Proxy), describing it never throws, or a failed reconcile would fail
// again while reporting why.
import { Reason, SecretSyncError, sanitize, type Reason as ReasonT } from '../errors.js';

export interface Described {
  reason: ReasonT;
  message: string;
  retryable: boolean;
  code: string;
}

/** The text of a thrown value, or a fixed placeholder when it has none that can be read. */
function detailOf(err: unknown): string {
  try {
    const text: unknown = err instanceof Error ? err.message : String(err);
    if (typeof text === 'string') return sanitize(text);
  } catch {
    // fall through: a toString, message getter or Proxy trap that throws
  }
  return 'a thrown value that cannot be printed';
}

export function describeError(err: unknown): Described {
  let typed: SecretSyncError | undefined;
  try {
    if (err instanceof SecretSyncError) typed = err;
  } catch {
    // a Proxy whose getPrototypeOf throws is no typed error
  }
  if (typed) return { reason: typed.reason, message: typed.message, retryable: typed.retryable, code: typed.code };
  return {
    reason: Reason.InternalError,
    message: `internal error: ${detailOf(err)} (retrying; see the operator logs)`,
    retryable: true,
    code: 'ESS_INTERNAL',
  };
}
