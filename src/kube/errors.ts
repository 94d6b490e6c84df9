// Mapping Kubernetes API failures to what callers act on: HTTP status, Retry-After,
// and typed errors with sanitised text (response bodies may echo request content).
import { ApiException } from '@kubernetes/client-node';
import { KubernetesError, sanitize } from '../errors.js';

export function statusCode(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const c = (err as { code?: unknown; statusCode?: unknown } | undefined)?.code ?? (err as { statusCode?: unknown })?.statusCode;
  return typeof c === 'number' ? c : undefined;
}

export const isNotFound = (err: unknown) => statusCode(err) === 404;
export const isConflict = (err: unknown) => statusCode(err) === 409;

/** Milliseconds the server asked us to wait (429 / 503 with Retry-After), if any. */
export function retryAfterMs(err: unknown): number | undefined {
  if (!(err instanceof ApiException)) return undefined;
  if (err.code !== 429 && err.code !== 503) return undefined;
  const h = err.headers?.['retry-after'] ?? err.headers?.['Retry-After'];
  const s = Number(h);
  return Number.isFinite(s) && s >= 0 ? s * 1000 : 1000;
}

/** The Status message of an API error, without the request body. */
function apiMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as unknown;
    let msg: string | undefined;
    if (typeof body === 'string') {
      try {
        msg = (JSON.parse(body) as { message?: string }).message;
      } catch {
        msg = undefined;
      }
    } else if (body && typeof body === 'object') {
      msg = (body as { message?: string }).message;
    }
    return `HTTP ${err.code}${msg ? `: ${msg}` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export function kubeError(action: string, err: unknown): KubernetesError {
  return new KubernetesError(`Kubernetes API: ${action} failed: ${sanitize(apiMessage(err))}`);
}
