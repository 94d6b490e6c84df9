// The one place errors become condition reasons and messages. Typed errors carry their
// own reason and a message that says what to fix; anything else is an internal error
// whose text is sanitised (it may come from an SDK and must not leak credentials).
import { Reason, SecretSyncError, sanitize, type Reason as ReasonT } from '../errors.js';

export interface Described {
  reason: ReasonT;
  message: string;
  retryable: boolean;
  code: string;
}

export function describeError(err: unknown): Described {
  if (err instanceof SecretSyncError) {
    return { reason: err.reason, message: err.message, retryable: err.retryable, code: err.code };
  }
  const detail = err instanceof Error ? sanitize(err.message) : sanitize(String(err));
  return {
    reason: Reason.InternalError,
    message: `internal error: ${detail} (retrying; see the operator logs)`,
    retryable: true,
    code: 'ESS_INTERNAL',
  };
}
