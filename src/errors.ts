// Typed errors. Every error the operator turns into a condition is one of these classes:
// a stable `code` (documented in docs/errors.md; a test checks), the condition `reason`
// it maps to, and whether retrying can help. Messages are fixed text plus sanitised
// detail: they never contain a secret value, a token or a provider request id.

/** Condition reasons (status.conditions[].reason). */
export const Reason = {
  Synced: 'Synced',
  SourceRefNotFound: 'SourceRefNotFound',
  SourceNotFound: 'SourceNotFound',
  SourceAuthFailed: 'SourceAuthFailed',
  SourceUnavailable: 'SourceUnavailable',
  KeyNotFound: 'KeyNotFound',
  InvalidValue: 'InvalidValue',
  DecodingFailed: 'DecodingFailed',
  InvalidSpec: 'InvalidSpec',
  Forbidden: 'Forbidden',
  NamespaceNotAllowed: 'NamespaceNotAllowed',
  PathNotAllowed: 'PathNotAllowed',
  KekNotAllowed: 'KekNotAllowed',
  RotationNotAllowed: 'RotationNotAllowed',
  IdentityNotAllowed: 'IdentityNotAllowed',
  SizeLimitExceeded: 'SizeLimitExceeded',
  KeyCollision: 'KeyCollision',
  FindLimitExceeded: 'FindLimitExceeded',
  TargetConflict: 'TargetConflict',
  TargetInvalid: 'TargetInvalid',
  TargetImmutable: 'TargetImmutable',
  TemplateError: 'TemplateError',
  KubernetesError: 'KubernetesError',
  InternalError: 'InternalError',
  /** Not an error: a force-sync / rotate-now request waits for its window (Synced / Rotated keep their status). */
  Throttled: 'Throttled',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

export abstract class SecretSyncError extends Error {
  abstract readonly code: string;
  abstract readonly reason: Reason;
  abstract readonly retryable: boolean;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

function define(code: string, reason: Reason, retryable: boolean) {
  return class extends SecretSyncError {
    static readonly code = code;
    readonly code = code;
    readonly reason = reason;
    readonly retryable = retryable;
  };
}

/** The referenced SecretSource / ClusterSecretSource does not exist. */
export class SourceRefNotFoundError extends define('ESS_SOURCE_REF_NOT_FOUND', Reason.SourceRefNotFound, true) {}
/** The remote secret (path / name / version) does not exist at the provider. */
export class SourceNotFoundError extends define('ESS_SOURCE_NOT_FOUND', Reason.SourceNotFound, true) {}
/** The provider refused our credentials, or the credentials could not be obtained. */
export class SourceAuthError extends define('ESS_SOURCE_AUTH', Reason.SourceAuthFailed, true) {}
/** The provider could not be reached or answered with a server error / throttling. */
export class SourceUnavailableError extends define('ESS_SOURCE_UNAVAILABLE', Reason.SourceUnavailable, true) {}
/** The remote secret exists but has no such property. */
export class KeyNotFoundError extends define('ESS_KEY_NOT_FOUND', Reason.KeyNotFound, true) {}
/** The remote value cannot be used as asked (e.g. `property` on a value that is not JSON). */
export class InvalidValueError extends define('ESS_INVALID_VALUE', Reason.InvalidValue, true) {}
/** The spec is wrong in a way the CRD schema cannot express; retrying without an edit cannot help. */
export class InvalidSpecError extends define('ESS_INVALID_SPEC', Reason.InvalidSpec, false) {}
/** A reference that would make the operator read outside the namespace it may read. */
export class ForbiddenError extends define('ESS_FORBIDDEN', Reason.Forbidden, false) {}
/**
 * A source that would make the operator act with an identity that is not the source's own:
 * the operator's AWS identity without `auth.operatorIdentity` on a ClusterSecretSource, or a
 * service-account token for the API server's own audience.
 */
export class IdentityNotAllowedError extends define('ESS_IDENTITY_NOT_ALLOWED', Reason.IdentityNotAllowed, false) {}
/** A ClusterSecretSource used from a namespace its allowedNamespaces / namespaceSelector do not admit. */
export class NamespaceNotAllowedError extends define('ESS_NAMESPACE_NOT_ALLOWED', Reason.NamespaceNotAllowed, true) {}
/** A remote path outside what the namespace may read through a ClusterSecretSource (spec.namespaceScopes). */
export class PathNotAllowedError extends define('ESS_PATH_NOT_ALLOWED', Reason.PathNotAllowed, false) {}
/** A KEK the namespace may not use through a ClusterSecretSource (spec.namespaceScopes[].keys). */
export class KekNotAllowedError extends define('ESS_KEK_NOT_ALLOWED', Reason.KekNotAllowed, false) {}
/** spec.rotation through a ClusterSecretSource that allows the namespace no rotation there (spec.namespaceScopes[].rotationPaths). */
export class RotationNotAllowedError extends define('ESS_ROTATION_NOT_ALLOWED', Reason.RotationNotAllowed, false) {}
/** The synced content is larger than spec.target.maxSizeBytes. */
export class SizeLimitError extends define('ESS_SIZE_LIMIT', Reason.SizeLimitExceeded, false) {}
/** Two dataFrom secrets (or properties) give the same key of the target, after rewrite: refused, naming both. */
export class KeyCollisionError extends define('ESS_KEY_COLLISION', Reason.KeyCollision, false) {}
/** A dataFrom find discovers (or would list) more secrets than the operator allows (--find-max-secrets). */
export class FindLimitError extends define('ESS_FIND_LIMIT', Reason.FindLimitExceeded, false) {}
/** The target Secret exists and is not ours, or has a type we refuse to write. */
export class TargetConflictError extends define('ESS_TARGET_CONFLICT', Reason.TargetConflict, true) {}
/** The API server refuses the target Secret as it would be written (e.g. a type whose required keys are missing). */
export class TargetInvalidError extends define('ESS_TARGET_INVALID', Reason.TargetInvalid, false) {}
/** spec.target.immutable: the Secret cannot take new content (or stop being immutable) in place. */
export class TargetImmutableError extends define('ESS_TARGET_IMMUTABLE', Reason.TargetImmutable, false) {}
/** A value does not decode under the entry's decodingStrategy (Base64, Base64URL). */
export class DecodingFailedError extends define('ESS_DECODING_FAILED', Reason.DecodingFailed, false) {}
/** spec.target.template does not parse, names a key that is not synced, or renders too much (the message names the template key, line and column, never a value). */
export class TemplateError extends define('ESS_TEMPLATE', Reason.TemplateError, false) {}
/** The Kubernetes API failed in a way that is not the user's to fix. */
export class KubernetesError extends define('ESS_KUBERNETES', Reason.KubernetesError, true) {}
/** Our cached copy was stale (409 on a resourceVersion precondition): retried from a fresh cache, never reported. */
export class StaleObjectError extends KubernetesError {}
/** The object a write was aimed at is gone (404), e.g. a rollout target deleted since the cache saw it: the next reconcile sees it missing. */
export class ObjectNotFoundError extends KubernetesError {}

export const errorClasses = [
  SourceRefNotFoundError,
  SourceNotFoundError,
  SourceAuthError,
  SourceUnavailableError,
  KeyNotFoundError,
  InvalidValueError,
  InvalidSpecError,
  ForbiddenError,
  IdentityNotAllowedError,
  NamespaceNotAllowedError,
  PathNotAllowedError,
  KekNotAllowedError,
  RotationNotAllowedError,
  SizeLimitError,
  KeyCollisionError,
  FindLimitError,
  TargetConflictError,
  TargetInvalidError,
  TargetImmutableError,
  DecodingFailedError,
  TemplateError,
  KubernetesError,
] as const;

/** Error text that came from outside (an SDK, an HTTP body): trimmed of ids, tokens and secrets-looking data. */
export function sanitize(text: string, max = 300): string {
  return text
    .replace(/(request[-_ ]?id|x-amz-[a-z-]+|x-vault-[a-z-]+)["':= ]+[\w-]+/gi, '$1=<redacted>')
    .replace(/\b(hvs|hvb|hvr|s|b)\.[A-Za-z0-9_-]{16,}/g, '<token>')
    .replace(/\b(AKIA|ASIA)[A-Z0-9]{12,}\b/g, '<access-key-id>')
    .replace(/(Signature|Credential|X-Amz-Security-Token|token|password|secret)=([^&\s,]+)/gi, '$1=<redacted>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, max);
}

/**
 * A wrong command line (the operator's or the agent's flags): the CLI prints it with the
 * help and exits 2. Not a SecretSyncError: it never becomes a condition.
 */
export class UsageError extends Error {}
