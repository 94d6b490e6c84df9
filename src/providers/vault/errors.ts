// One function turns what node-vault / axios throw into the operator's typed errors:
// 404 → SourceNotFound; 401/403 or "permission denied" → SourceAuth; network failures,
// timeouts, 429 and 5xx (including 503 sealed) → SourceUnavailable. Messages are fixed
// text naming the source and path plus sanitised detail; the raw error (whose axios
// config holds the request headers, i.e. the token) is never attached or logged.
// toTransitError does the same for Transit calls, whose 403/400/404 say something else
// (a policy line to add, a key or engine to create, a wrapped key that does not open).
import {
  InvalidSpecError,
  InvalidValueError,
  SecretSyncError,
  SourceAuthError,
  SourceNotFoundError,
  SourceUnavailableError,
  sanitize,
} from '../../errors.js';
import { SOCKET_ERROR_CODES } from '../network-errors.js';
import { DeadlineError, formatMs, limitErrorOf } from '../limits.js';

export type TransitOperation = 'transit-datakey' | 'transit-decrypt' | 'transit-rewrap' | 'transit-read-key';
export type VaultOperation = 'login' | 'renew' | 'read' | 'list' | 'kv-write' | 'revoke' | 'lookup' | TransitOperation;

export interface VaultErrorContext {
  /** The source, as sourceKey() names it. */
  source: string;
  /** host[:port] of the Vault address (never its userinfo). */
  host: string;
  operation: VaultOperation;
  /** The Vault path (or the remote path the user asked for). */
  path: string;
  /** Credentials known at the call site, removed from any detail text as a second line of defence. */
  secrets?: string[];
}

const NETWORK_CODES = new Set([...SOCKET_ERROR_CODES, 'ERR_NETWORK', 'ERR_SOCKET_CONNECTION_TIMEOUT']);

/** The HTTP status of a Vault answer node-vault rejected, if it was one. */
export function statusOf(err: unknown): number | undefined {
  const status = (err as { response?: { statusCode?: unknown; status?: unknown } } | null)?.response;
  const code = status?.statusCode ?? status?.status;
  return typeof code === 'number' ? code : undefined;
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function detailOf(err: unknown, secrets: string[]): string {
  let text = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  const code = codeOf(err);
  if (code && !text.includes(code)) text = text ? `${code}: ${text}` : code;
  for (const s of secrets) if (s.length >= 4) text = text.split(s).join('<redacted>');
  // Vault spells it request_id, which sanitize() (request-id / request id) does not catch.
  return sanitize(text.replace(/request_id["':= ]+[\w-]+/gi, 'request_id=<redacted>'));
}

function withDetail(message: string, detail: string): string {
  return detail ? `${message}: ${detail}` : message;
}

/** The typed error for `err`; typed errors pass through unchanged. */
export function toVaultError(err: unknown, ctx: VaultErrorContext): SecretSyncError {
  if (err instanceof SecretSyncError) return err;
  const detail = detailOf(err, ctx.secrets ?? []);
  const what = `${ctx.source}: Vault ${ctx.operation} of "${ctx.path}"`;
  const limit = limitErrorOf(err);
  if (limit instanceof DeadlineError) {
    return new SourceUnavailableError(`${what} failed: Vault at ${ctx.host} gave no complete answer within ${formatMs(limit.timeoutMs)} (the operator's --source-timeout)`);
  }
  if (limit) {
    return new SourceUnavailableError(
      `${what} failed: Vault at ${ctx.host} sent a response larger than ${limit.maxBytes} bytes; reading stopped there (the operator's --source-max-response-bytes)`,
    );
  }
  const status = statusOf(err);
  if (status === undefined) {
    const code = codeOf(err);
    if (code && (NETWORK_CODES.has(code) || /^(ERR_TLS|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED)/.test(code))) {
      return new SourceUnavailableError(withDetail(`${what} failed: Vault at ${ctx.host} could not be reached`, detail));
    }
    return new SourceUnavailableError(withDetail(`${what} failed`, detail));
  }
  if (status === 429 || status >= 500) {
    const why = status === 503 ? 'is sealed, in standby or unavailable' : status === 429 ? 'is throttling requests' : 'answered with a server error';
    return new SourceUnavailableError(withDetail(`${what} failed: Vault at ${ctx.host} ${why} (HTTP ${status})`, detail));
  }
  if (status >= 300 && status < 400) {
    // The client follows no redirect: one could carry the token to another host.
    return new SourceUnavailableError(
      `${what} failed: Vault at ${ctx.host} answered with a redirect (HTTP ${status}), which the operator does not follow so that its token goes to no other host: set the source's address to the one Vault advertises (its api_addr), not a standby or a proxy that redirects`,
    );
  }
  if (status === 401 || status === 403 || /permission denied/i.test(detail)) {
    return new SourceAuthError(
      withDetail(`${what} was refused (HTTP ${status}): check the auth settings and that the Vault policy allows it`, detail),
    );
  }
  if (ctx.operation === 'login') {
    // 400 (bad role / credentials) or 404 (no auth method at that mount): no usable credentials.
    return new SourceAuthError(withDetail(`${what} failed (HTTP ${status}): check the auth mount, role and credentials`, detail));
  }
  if (status === 404) {
    // Vault says why only when it is not the plain "no such secret" (e.g. no mount there).
    const why = /^status 404$/i.test(detail) ? '' : detail;
    return new SourceNotFoundError(
      withDetail(`${what} found nothing (HTTP 404): no secret there, or that version was deleted or destroyed`, why),
    );
  }
  if (status === 400 || status === 405) {
    return new InvalidSpecError(withDetail(`${what} was rejected as invalid (HTTP ${status}): check the path and kv settings`, detail));
  }
  return new SourceUnavailableError(withDetail(`${what} failed (HTTP ${status})`, detail));
}

export interface TransitErrorContext extends VaultErrorContext {
  operation: TransitOperation;
  /** The Transit mount and key as configured (unencoded, for messages and policy lines). */
  mount: string;
  key: string;
  /** The policy capability the call needs on `path` ("update", or "read" for the key). */
  capability: 'update' | 'read';
}

const TRANSIT_WHAT: Record<TransitOperation, string> = {
  'transit-datakey': 'minting a data key',
  'transit-decrypt': 'decrypting a data key',
  'transit-rewrap': 're-wrapping a data key',
  'transit-read-key': 'reading the key',
};

/**
 * The typed error for a failed Transit call: 403 names the policy line to add, a missing
 * key or engine says what to create, a wrapped key Transit cannot open says so; the rest
 * (unreachable, sealed, 5xx) maps as toVaultError does. Typed errors pass through.
 */
export function toTransitError(err: unknown, ctx: TransitErrorContext): SecretSyncError {
  if (err instanceof SecretSyncError) return err;
  const status = statusOf(err);
  const detail = detailOf(err, ctx.secrets ?? []);
  const what = `${ctx.source}: Vault Transit ${TRANSIT_WHAT[ctx.operation]} with key "${ctx.key}" at mount "${ctx.mount}"`;
  if (status === 401 || status === 403 || (status !== undefined && status < 500 && /permission denied/i.test(detail))) {
    return new SourceAuthError(
      `${what} was refused (HTTP ${status}): the token's policy does not allow it, or the token is no longer valid. ` +
        `Add to the Vault policy of the token: path "${ctx.path}" { capabilities = ["${ctx.capability}"] }`,
    );
  }
  if (status === 404 && /no handler for route|unsupported path/i.test(detail)) {
    return new SourceNotFoundError(
      `${what} found no Transit engine (HTTP 404): enable one (bao secrets enable -path=${ctx.mount} transit) or fix kek.vaultTransit.mount`,
    );
  }
  if (status === 404 || (status === 400 && /key not found|no such key|not found/i.test(detail))) {
    return new SourceNotFoundError(
      withDetail(
        `${what} found no such key (HTTP ${status}): create it (bao write -f ${ctx.mount}/keys/${ctx.key}) or fix kek.vaultTransit.key`,
        /^status 404$/i.test(detail) ? '' : detail,
      ),
    );
  }
  if (status === 400 && (ctx.operation === 'transit-decrypt' || ctx.operation === 'transit-rewrap')) {
    const why = /too old|disallowed/i.test(detail)
      ? "it was wrapped by a key version older than the key's min_decryption_version"
      : 'it was altered, or wrapped by another Transit key';
    return new InvalidValueError(withDetail(`${what} failed (HTTP 400): the wrapped data key does not open: ${why}`, detail));
  }
  if (status === 400 || status === 405) {
    return new InvalidSpecError(
      withDetail(`${what} was rejected as invalid (HTTP ${status}): the key must be a Transit encryption key (e.g. aes256-gcm96)`, detail),
    );
  }
  return toVaultError(err, ctx);
}
