// One mapping from what the AWS SDK throws (or a BatchGetSecretValue `Errors[]` entry
// reports) to the operator's typed errors, plus the two questions the call loop asks:
// may this be retried, and did AWS refuse our credentials themselves. Messages are fixed
// text naming the source, operation and secret, plus sanitised detail: the first line of
// AWS's message only (SignatureDoesNotMatch can append the canonical request and string
// to sign), with known credentials cut out. The SDK error, whose $metadata carries the
// request id, is never attached. KMS calls (the envelope's KEK, kms.ts)
// map here too, with their own not-found, denied and wrong-ciphertext messages.
import {
  InvalidSpecError,
  InvalidValueError,
  SecretSyncError,
  SourceAuthError,
  SourceNotFoundError,
  SourceUnavailableError,
  sanitize,
} from '../../errors.js';
import type { BatchError } from './client.js';
import { MALFORMED_ANSWER } from './client-config.js';
import { SOCKET_ERROR_CODES } from '../network-errors.js';
import { DeadlineError, ResponseTooLargeError, formatMs, limitErrorOf } from '../limits.js';

export type KmsOperation = 'GenerateDataKey' | 'Decrypt' | 'ReEncrypt' | 'DescribeKey';
export type RotationOperation = 'DescribeSecret' | 'PutSecretValue' | 'UpdateSecretVersionStage';
export type AwsOperation = 'BatchGetSecretValue' | 'GetSecretValue' | 'ListSecrets' | 'AssumeRole' | 'AssumeRoleWithWebIdentity' | KmsOperation | RotationOperation;

/** Every action a rotation needs (its GetSecretValue included), for denial messages. */
export const ROTATION_ACTIONS = [
  'secretsmanager:DescribeSecret',
  'secretsmanager:GetSecretValue',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
] as const;

/** The IAM / key policy actions each KMS call needs. */
const KMS_ACTIONS: Record<KmsOperation, string> = {
  GenerateDataKey: 'kms:GenerateDataKey',
  Decrypt: 'kms:Decrypt',
  ReEncrypt: 'kms:ReEncryptFrom (on the key that wrapped it) and kms:ReEncryptTo',
  DescribeKey: 'kms:DescribeKey',
};

function isKms(op: AwsOperation): op is KmsOperation {
  return op in KMS_ACTIONS;
}

export interface AwsErrorContext {
  /** The source, as sourceKey() names it. */
  source: string;
  operation: AwsOperation;
  /** The secret name / ARN asked for (the role ARN for AssumeRole, the key id for KMS). */
  target: string;
  /** KMS: whom the data key is bound to (its encryption context), e.g. SecretSync "payments/db". */
  owner?: string;
  /** A pinned version id or stage, if any. */
  version?: string;
  /** Credentials known at the call site, cut out of any detail as a second line of defence. */
  secrets?: string[];
  /** The call is part of a rotation write (its denial names every action rotation needs). */
  rotation?: boolean;
}

/** The AWS credentials themselves were refused or could not be obtained: a fresh client may fix it. */
const CREDENTIAL_CODES = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidAccessKeyId',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'CredentialsProviderError',
  'TokenProviderError',
]);
/** A typed error toAwsError made from a refusal of the credentials (refusesCredentials sees through it). */
const refusals = new WeakSet<SecretSyncError>();
const DENIED_CODES = new Set(['AccessDeniedException', 'AccessDenied', 'NotAuthorized', 'UnauthorizedOperation']);
/** STS refused the web identity token itself (issuer, audience, subject or expiry). */
const WEB_IDENTITY_CODES = new Set(['InvalidIdentityToken', 'InvalidIdentityTokenException', 'IDPRejectedClaim', 'IDPRejectedClaimException', 'IDPCommunicationError', 'IDPCommunicationErrorException']);
const THROTTLING_CODES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);
const SERVER_CODES = new Set(['InternalServiceError', 'InternalServiceErrorException', 'InternalFailure', 'ServiceUnavailable']);
const NETWORK_CODES = new Set([...SOCKET_ERROR_CODES, 'TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

interface Shape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  errors?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $retryable?: unknown;
}

/** The AWS error code (`name` of SDK exceptions) or the Node error code of a network failure. */
export function codeOf(err: unknown): string {
  const e = (err ?? {}) as Shape;
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || !e.name || e.name === 'Error')) return e.code;
  if (Array.isArray(e.errors)) {
    const inner = e.errors.map(codeOf).find((c) => NETWORK_CODES.has(c));
    if (inner) return inner; // AggregateError of a dual-stack connect
  }
  const name = typeof e.name === 'string' ? e.name : '';
  if (name === '' || name === 'Error') {
    // The SDK re-wraps errors it does not recognise as Errors (e.g. from another realm)
    // as "AWS SDK error wrapper for Error: connect ECONNREFUSED ...", dropping `code`.
    const text = typeof e.message === 'string' ? e.message : '';
    const found = /\b(E[A-Z_]{3,})\b/.exec(text)?.[1];
    if (found && NETWORK_CODES.has(found)) return found;
  }
  return name;
}

function statusOf(err: unknown): number | undefined {
  const s = ((err ?? {}) as Shape).$metadata?.httpStatusCode;
  return typeof s === 'number' ? s : undefined;
}

/** Throttling, AWS server errors and network failures: worth another attempt after a backoff. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof SecretSyncError) return err instanceof SourceUnavailableError;
  // An endless or oversized answer comes back the same on a retry; a late one may not.
  const limit = limitErrorOf(err);
  if (limit) return !(limit instanceof ResponseTooLargeError);
  const code = codeOf(err);
  const status = statusOf(err);
  const e = (err ?? {}) as Shape;
  return (
    THROTTLING_CODES.has(code) ||
    SERVER_CODES.has(code) ||
    NETWORK_CODES.has(code) ||
    status === 429 ||
    (status !== undefined && status >= 500) ||
    e.$fault === 'server' ||
    (typeof e.$retryable === 'object' && e.$retryable !== null)
  );
}

/**
 * AWS refused the credentials themselves (not a policy denial): the client should be
 * rebuilt. An HTTP 401/403 whose error code could not be read counts too (cheap to redo).
 */
export function refusesCredentials(err: unknown): boolean {
  if (err instanceof SecretSyncError) return refusals.has(err);
  const code = codeOf(err);
  const status = statusOf(err);
  return CREDENTIAL_CODES.has(code) || ((status === 401 || status === 403) && !DENIED_CODES.has(code));
}

/** A policy denial (not a refusal of the credentials). */
export function isDenied(err: unknown): boolean {
  return !(err instanceof SecretSyncError) && DENIED_CODES.has(codeOf(err));
}

function detailOf(err: unknown, secrets: string[]): string {
  const e = (err ?? {}) as Shape;
  // A parse error quotes the body it choked on, which may be a secret's value.
  if (err instanceof SyntaxError || e.name === 'SyntaxError') return 'the answer could not be parsed';
  let text = typeof e.message === 'string' ? e.message : '';
  text = (text.split(/\n|The Canonical String|The String-to-Sign|Canonical request/i)[0] ?? '').trim();
  for (const s of secrets) if (s.length >= 4) text = text.split(s).join('<redacted>');
  return sanitize(text, 240);
}

function withDetail(message: string, detail: string): string {
  return detail ? `${message}: ${detail}` : message;
}

function describeTarget(ctx: AwsErrorContext): string {
  if (isKms(ctx.operation)) return `${ctx.source ? `${ctx.source}: ` : ''}AWS KMS ${ctx.operation} with key "${ctx.target}"`;
  if (ctx.operation === 'AssumeRole' || ctx.operation === 'AssumeRoleWithWebIdentity') return `${ctx.source}: AWS STS ${ctx.operation} of "${ctx.target}"`;
  const version = ctx.version ? ` version "${ctx.version}"` : '';
  const rotating = ctx.rotation ? ' (rotation)' : '';
  return `${ctx.source}: AWS Secrets Manager ${ctx.operation}${rotating} of secret "${ctx.target}"${version}`;
}

/** The typed error for `err`; typed errors pass through unchanged. */
export function toAwsError(err: unknown, ctx: AwsErrorContext): SecretSyncError {
  if (err instanceof SecretSyncError) return err;
  const mapped = mapAwsError(err, ctx);
  if (refusesCredentials(err) && mapped instanceof SourceAuthError) refusals.add(mapped);
  return mapped;
}

/** KMS answers that mean something of their own; undefined for the ones every service shares. */
function kmsError(code: string, ctx: AwsErrorContext & { operation: KmsOperation }, what: string, detail: string): SecretSyncError | undefined {
  const tag = ` (${code})`;
  switch (code) {
    case 'NotFoundException':
      return new SourceNotFoundError(
        withDetail(`${what} found nothing${tag}: no such KMS key or alias in this account and region; create it, or fix kek.awsKms.keyId`, detail),
      );
    case 'InvalidCiphertextException':
      return new InvalidValueError(
        withDetail(
          `${what} failed${tag}: the wrapped data key does not belong to ${ctx.owner ?? 'this SecretSync'} ` +
            '(it was wrapped for another SecretSync or namespace, or altered)',
          detail,
        ),
      );
    case 'IncorrectKeyException':
      return new InvalidValueError(
        withDetail(
          `${what} failed${tag}: the data key was wrapped by another KMS key (did the alias move?); ` +
            'decrypt it with the key ARN recorded as its KEK version, or re-wrap it',
          detail,
        ),
      );
    case 'DisabledException':
    case 'KMSInvalidStateException':
      return new SourceAuthError(
        withDetail(`${what} failed${tag}: the KMS key is disabled or pending deletion; enable it (or cancel its deletion)`, detail),
      );
    case 'InvalidKeyUsageException':
    case 'UnsupportedOperationException':
      return new InvalidSpecError(
        withDetail(`${what} was rejected${tag}: the key cannot wrap data keys; use a symmetric ENCRYPT_DECRYPT KMS key`, detail),
      );
    default:
      return undefined;
  }
}

function mapAwsError(err: unknown, ctx: AwsErrorContext): SecretSyncError {
  const limit = limitErrorOf(err);
  if (limit instanceof DeadlineError) {
    return new SourceUnavailableError(`${describeTarget(ctx)} failed: no complete answer within ${formatMs(limit.timeoutMs)} (the operator's --source-timeout)`);
  }
  if (limit) {
    return new SourceUnavailableError(
      `${describeTarget(ctx)} failed: the endpoint sent a response larger than ${limit.maxBytes} bytes; reading stopped there (the operator's --source-max-response-bytes)`,
    );
  }
  const code = codeOf(err);
  const status = statusOf(err);
  const detail = detailOf(err, ctx.secrets ?? []);
  const what = describeTarget(ctx);
  const tag = code ? ` (${code})` : '';
  const endpoint = isKms(ctx.operation) ? 'a KMS endpoint' : ctx.operation.startsWith('AssumeRole') ? 'an STS endpoint' : 'a Secrets Manager endpoint';
  if (status !== undefined && status >= 300 && status < 400) {
    // The SDK follows no redirect: one would carry the signed request to another host.
    return new SourceUnavailableError(
      `${what} failed: the endpoint answered with a redirect (HTTP ${status}), which the operator does not follow; set spec.aws.endpoint to ${endpoint} that answers itself`,
    );
  }
  const unparsable = err instanceof SyntaxError || code === 'SyntaxError';
  // A body that is not JSON on a 401/403 (moto's XML refusals) or a 5xx: the status says more (below).
  if ((unparsable || code === MALFORMED_ANSWER) && !(status !== undefined && (status >= 500 || status === 401 || status === 403))) {
    const why = unparsable ? 'not JSON' : detail;
    return new SourceUnavailableError(
      `${what} failed: the answer is not an AWS answer (${why}${status ? `, HTTP ${status}` : ''}); check that spec.aws.endpoint is ${endpoint}`,
    );
  }
  if (/^(ERR_TLS|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED)/.test(code)) {
    return new SourceUnavailableError(
      withDetail(
        `${what} failed${tag}: the endpoint's TLS certificate was not accepted; it must name the host of spec.aws.endpoint and come from a CA the operator trusts (the system's, or NODE_EXTRA_CA_CERTS)`,
        detail,
      ),
    );
  }
  if (isKms(ctx.operation)) {
    const kms = kmsError(code, { ...ctx, operation: ctx.operation }, what, detail);
    if (kms) return kms;
  }
  if (code === 'ResourceNotFoundException') {
    const why = ctx.version ? `no such secret, or it has no version or stage "${ctx.version}"` : 'no secret with that name or ARN';
    return new SourceNotFoundError(withDetail(`${what} found nothing: ${why}`, detail));
  }
  if (CREDENTIAL_CODES.has(code)) {
    const fix =
      code === 'CredentialsProviderError'
        ? "no AWS credentials were found for auth.operatorIdentity: give the operator an identity (IRSA, EKS pod identity, environment), or use auth.secretRef / auth.webIdentity"
        : "AWS refused the credentials: check the access key in spec.aws.auth.secretRef (or the operator's identity for auth.operatorIdentity)";
    return new SourceAuthError(withDetail(`${what} failed${tag}: ${fix}`, detail));
  }
  if (WEB_IDENTITY_CODES.has(code) || (ctx.operation === 'AssumeRoleWithWebIdentity' && DENIED_CODES.has(code))) {
    const fix =
      "give the role a trust policy for the cluster's OIDC issuer (an IAM OIDC provider) that allows sts:AssumeRoleWithWebIdentity for this service account (sub system:serviceaccount:<namespace>:<name>, aud sts.amazonaws.com)";
    return new SourceAuthError(withDetail(`${what} was refused${tag}: ${fix}`, detail));
  }
  if (DENIED_CODES.has(code)) {
    const fix =
      ctx.operation === 'AssumeRole'
        ? 'allow sts:AssumeRole on the role for the base identity, and trust that identity in the role'
        : isKms(ctx.operation)
          ? `allow ${KMS_ACTIONS[ctx.operation]} on key "${ctx.target}" for this identity (IAM policy and key policy)`
          : ctx.operation === 'ListSecrets'
            ? 'dataFrom[].find needs secretsmanager:ListSecrets (on "*": AWS scopes it by no resource) and secretsmanager:BatchGetSecretValue and GetSecretValue on the secrets found: allow them in the IAM policy'
            : ctx.rotation
            ? `rotation needs ${ROTATION_ACTIONS.join(', ')} on the secret: allow them in the IAM policy`
            : 'allow secretsmanager:BatchGetSecretValue and secretsmanager:GetSecretValue on the secret in the IAM policy';
    return new SourceAuthError(withDetail(`${what} was denied${tag}: ${fix}`, detail));
  }
  if (status === 401 || status === 403) {
    // An error body the SDK could not read (e.g. XML where JSON was expected): the status says enough.
    return new SourceAuthError(
      withDetail(`${what} was refused (HTTP ${status}): check the credentials (spec.aws.auth / roleArn) and that the IAM policy allows the call`, detail),
    );
  }
  if (code === 'DecryptionFailure') {
    // Almost always a missing kms:Decrypt grant or a disabled key: a permission problem
    // to fix, not an outage to wait out.
    return new SourceAuthError(
      withDetail(`${what} failed${tag}: Secrets Manager could not decrypt it; allow kms:Decrypt on the secret's KMS key and check that the key is enabled`, detail),
    );
  }
  if (code === 'InvalidRequestException' && /delet/i.test(detail)) {
    return new SourceNotFoundError(withDetail(`${what} found nothing${tag}: the secret is scheduled for deletion; restore it or change remoteRef.path`, detail));
  }
  if (code === 'InvalidParameterException' || code === 'InvalidRequestException' || code === 'ValidationException' || code === 'ValidationError') {
    const check = isKms(ctx.operation) ? 'kek.awsKms.keyId' : ctx.rotation ? 'the secret name and its staging labels' : 'remoteRef.path and remoteRef.version';
    return new InvalidSpecError(withDetail(`${what} was rejected as invalid${tag}: check ${check}`, detail));
  }
  if (THROTTLING_CODES.has(code) || status === 429) {
    return new SourceUnavailableError(withDetail(`${what} failed${tag}: AWS is throttling requests; retried with backoff`, detail));
  }
  if (NETWORK_CODES.has(code)) {
    return new SourceUnavailableError(withDetail(`${what} failed${tag}: AWS could not be reached (check spec.aws.endpoint / region and the network)`, detail));
  }
  if (status !== undefined && status >= 500) {
    return new SourceUnavailableError(withDetail(`${what} failed${tag}: AWS answered with a server error (HTTP ${status})`, detail));
  }
  return new SourceUnavailableError(withDetail(`${what} failed${tag}${status ? ` (HTTP ${status})` : ''}`, detail));
}

/** The typed error for one secret's entry in BatchGetSecretValue's Errors[]. */
export function batchEntryError(entry: BatchError, ctx: AwsErrorContext): SecretSyncError {
  const err = Object.assign(new Error(entry.message ?? ''), { name: entry.errorCode ?? 'UnknownError' });
  return toAwsError(err, ctx);
}
