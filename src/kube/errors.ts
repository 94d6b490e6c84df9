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

/**
 * API server text is echoed into status and events, so it is cleaned first: quoted field
 * values in validation errors (`Invalid value: "..."`, which for a Secret could be its
 * content) are dropped, and anything shaped like base64 data or a token is cut by sanitize().
 */
export function sanitizeApiText(text: string): string {
  return sanitize(
    text
      .replace(/(Invalid value|Unsupported value|Duplicate value|Forbidden value): "(?:[^"\\]|\\.)*"/g, '$1: <redacted>')
      .replace(/(Invalid value|Unsupported value|Duplicate value|Forbidden value): (?:0x[0-9a-f]+|\{[^}]*\}|\[[^\]]*\])/g, '$1: <redacted>')
      .replace(/[A-Za-z0-9+/_-]{40,}={0,2}/g, '<redacted>'),
  );
}

/** The Status message of an API error, without the request body. */
export function apiMessage(err: unknown): string {
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
  return new KubernetesError(`Kubernetes API: ${action} failed: ${sanitizeApiText(apiMessage(err))}`);
}

export const isInvalid = (err: unknown) => statusCode(err) === 422;
