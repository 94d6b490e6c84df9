// Semantic checks of spec.aws the CRD schema cannot (or, for sources built in code and
// objects stored before the schema required it, did not) enforce: a region, a usable
// endpoint URL without credentials in it (https, or http when the operator allows it for
// development), a role ARN, exactly one auth method the source's kind may use (never the
// operator's identity for a SecretSource), and references that stay in the source
// namespace. Also the checks of a remoteRef that need no network call. Each failure says
// which field to change and how.
import { STS_AUDIENCE, type AnySource, type AwsAuth, type AwsProviderSpec } from '../../api/types.js';
import { IdentityNotAllowedError, InvalidSpecError } from '../../errors.js';
import { checkTokenAudiences, type ApiAudienceOptions } from '../audiences.js';
import { checkPlaintext, type TransportOptions } from '../insecure-http.js';
import { resolveSecretRef, resolveServiceAccountRef } from '../secret-ref.js';

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

function checkEndpoint(endpoint: string, opts: TransportOptions): void {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new InvalidSpecError(`spec.aws.endpoint "${endpoint}" is not a URL: write e.g. https://secretsmanager.eu-west-1.amazonaws.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidSpecError(`spec.aws.endpoint must use http or https, not ${url.protocol.replace(':', '')}`);
  }
  if (url.username || url.password) {
    throw new InvalidSpecError('spec.aws.endpoint must not carry credentials: remove the user:password@ part and use spec.aws.auth');
  }
  if (url.search || url.hash) {
    throw new InvalidSpecError('spec.aws.endpoint must not have a query or fragment: write scheme, host and port');
  }
  checkPlaintext('spec.aws.endpoint', url, opts);
}

export interface AwsValidateOptions extends TransportOptions, ApiAudienceOptions {
  /** The kind of the source: only a ClusterSecretSource may use the operator's identity. Default: SecretSource. */
  kind?: AnySource['kind'];
}

export type AwsAuthMethod = keyof AwsAuth;
const AUTH_METHODS: AwsAuthMethod[] = ['secretRef', 'webIdentity', 'operatorIdentity'];

const OWN_CREDENTIALS =
  'auth.secretRef: { accessKeyIdRef: { name, key }, secretAccessKeyRef: { name, key } } (keys in a Secret of this namespace) ' +
  'or auth.webIdentity: { serviceAccountRef: { name } } with roleArn (a token of that service account exchanged through STS AssumeRoleWithWebIdentity)';

/**
 * The one auth method of `auth`, if `kind` may use it. A SecretSource must carry its own
 * credentials; the operator's identity serves only a ClusterSecretSource that says
 * operatorIdentity. Nothing here falls back to the operator's identity: no auth is refused.
 */
export function awsAuthMethod(auth: AwsAuth | undefined, kind: AnySource['kind']): AwsAuthMethod {
  const set = AUTH_METHODS.filter((m) => auth?.[m] !== undefined && auth[m] !== null);
  if (set.length > 1) {
    throw new InvalidSpecError(`spec.aws.auth sets ${set.join(' and ')}: set exactly one of ${AUTH_METHODS.join(', ')}`);
  }
  const method = set[0];
  const none = auth ? 'spec.aws.auth sets no method' : 'spec.aws.auth is missing';
  if (kind === 'SecretSource') {
    if (method === undefined) {
      throw new IdentityNotAllowedError(
        `${none}: a SecretSource is never served with the operator's own AWS identity; write ${OWN_CREDENTIALS}`,
      );
    }
    if (method === 'operatorIdentity') {
      throw new IdentityNotAllowedError(
        `spec.aws.auth.operatorIdentity is for ClusterSecretSources only: a SecretSource uses credentials of its own namespace; write ${OWN_CREDENTIALS} instead`,
      );
    }
    return method;
  }
  if (method === undefined) {
    throw new IdentityNotAllowedError(
      `${none}: write auth.operatorIdentity: {} to keep using the operator's own AWS identity (IRSA, EKS pod identity, environment) for this ClusterSecretSource, ` +
        `or ${OWN_CREDENTIALS.replace('this namespace', "the operator's namespace")}`,
    );
  }
  return method;
}

export function validateAwsSpec(spec: AwsProviderSpec | undefined, secretNamespace: string, opts: AwsValidateOptions = {}): void {
  if (!spec) throw new InvalidSpecError('spec.aws is missing');
  if (!spec.region) throw new InvalidSpecError('spec.aws.region is empty: name the AWS region of the secrets, e.g. eu-west-1');
  if (!REGION.test(spec.region)) {
    throw new InvalidSpecError(`spec.aws.region "${spec.region}" is not an AWS region: write e.g. eu-west-1`);
  }
  if (spec.endpoint) checkEndpoint(spec.endpoint, opts);
  if (spec.roleArn && !ROLE_ARN.test(spec.roleArn)) {
    throw new InvalidSpecError(`spec.aws.roleArn "${spec.roleArn}" is not an IAM role ARN: write arn:aws:iam::<account>:role/<name>`);
  }
  const method = awsAuthMethod(spec.auth, opts.kind ?? 'SecretSource');
  if (method === 'secretRef') {
    const ref = spec.auth?.secretRef;
    resolveSecretRef(ref?.accessKeyIdRef ?? { name: '', key: '' }, secretNamespace);
    resolveSecretRef(ref?.secretAccessKeyRef ?? { name: '', key: '' }, secretNamespace);
    if (ref?.sessionTokenSecretRef) resolveSecretRef(ref.sessionTokenSecretRef, secretNamespace);
  }
  checkAssumeRoleExtras(spec, method);
  if (method === 'webIdentity') {
    resolveServiceAccountRef(spec.auth?.webIdentity?.serviceAccountRef ?? { name: '' }, secretNamespace);
    if (!spec.roleArn) {
      throw new InvalidSpecError(
        "spec.aws.auth.webIdentity needs spec.aws.roleArn: name the IAM role the service account's token is exchanged for (its trust policy names the cluster's OIDC issuer)",
      );
    }
    checkTokenAudiences([STS_AUDIENCE], opts.apiAudiences ?? [], 'spec.aws.auth.webIdentity (audience sts.amazonaws.com)');
  }
}

const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;

/** externalId and sessionTags travel with STS AssumeRole of roleArn, so they need one and no webIdentity. */
function checkAssumeRoleExtras(spec: AwsProviderSpec, method: AwsAuthMethod): void {
  const set = [spec.externalId !== undefined ? 'externalId' : '', spec.sessionTags?.length ? 'sessionTags' : ''].filter(Boolean);
  if (set.length === 0) return;
  const what = set.join(' and ');
  if (!spec.roleArn) throw new InvalidSpecError(`spec.aws.${set.join(' and spec.aws.')} ${set.length > 1 ? 'are' : 'is'} sent with STS AssumeRole of spec.aws.roleArn: set roleArn, or remove ${what}`);
  if (method === 'webIdentity') {
    throw new InvalidSpecError(
      `spec.aws.${what} go${set.length > 1 ? '' : 'es'} with STS AssumeRole; auth.webIdentity uses AssumeRoleWithWebIdentity, which takes neither: remove ${what}`,
    );
  }
  if (spec.externalId !== undefined && !EXTERNAL_ID.test(spec.externalId)) {
    throw new InvalidSpecError('spec.aws.externalId must be 2-1224 characters of letters, digits and +=,.@:/-_ (what STS accepts)');
  }
  const keys = new Set<string>();
  for (const [i, tag] of (spec.sessionTags ?? []).entries()) {
    if (!tag.key || tag.key.length > 128) throw new InvalidSpecError(`spec.aws.sessionTags[${i}].key must be 1-128 characters`);
    if ((tag.value ?? '').length > 256) throw new InvalidSpecError(`spec.aws.sessionTags[${i}].value must be at most 256 characters`);
    if (keys.has(tag.key.toLowerCase())) throw new InvalidSpecError(`spec.aws.sessionTags has key "${tag.key}" twice (STS compares keys case-insensitively): keep one`);
    keys.add(tag.key.toLowerCase());
  }
  if (keys.size > 50) throw new InvalidSpecError('spec.aws.sessionTags has more than 50 tags: STS takes at most 50');
}

/** A secret name or ARN as Secrets Manager accepts it (1-2048 characters, no control characters). */
export function checkSecretId(path: string): void {
  // eslint-disable-next-line no-control-regex
  if (!path || path.length > 2048 || /[\u0000-\u001f\u007f]/.test(path)) {
    throw new InvalidSpecError('remoteRef.path is not an AWS secret name or ARN: write the secret name (e.g. prod/db) or its full ARN');
  }
}

/** How a pinned remoteRef.version is sent: a UUID is a VersionId, anything else a staging label. */
export type VersionPin = { versionId: string } | { versionStage: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** undefined for "the current version" (no pin, or AWSCURRENT, which batched reads return anyway). */
export function versionPin(version: string | undefined): VersionPin | undefined {
  if (version === undefined || version === '' || version === 'AWSCURRENT') return undefined;
  if (UUID.test(version)) return { versionId: version };
  if (version.length > 256 || /\s/.test(version)) {
    throw new InvalidSpecError(`remoteRef.version "${version.slice(0, 64)}" is neither a VersionId (UUID) nor a staging label such as AWSPREVIOUS`);
  }
  return { versionStage: version };
}
