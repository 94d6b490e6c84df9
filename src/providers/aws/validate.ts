// Semantic checks of spec.aws the CRD schema cannot (or, for sources built in code, did
// not) enforce: a region, a usable endpoint URL without credentials in it (https, or http
// when the operator allows it for development), a role ARN, and static-key references
// that stay in the source namespace. Also the checks of a remoteRef that need no network
// call. Each failure says which field to change and how.
import type { AwsProviderSpec } from '../../api/types.js';
import { InvalidSpecError } from '../../errors.js';
import { checkPlaintext, type TransportOptions } from '../insecure-http.js';
import { resolveSecretRef } from '../secret-ref.js';

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

export function validateAwsSpec(spec: AwsProviderSpec | undefined, secretNamespace: string, opts: TransportOptions = {}): void {
  if (!spec) throw new InvalidSpecError('spec.aws is missing');
  if (!spec.region) throw new InvalidSpecError('spec.aws.region is empty: name the AWS region of the secrets, e.g. eu-west-1');
  if (!REGION.test(spec.region)) {
    throw new InvalidSpecError(`spec.aws.region "${spec.region}" is not an AWS region: write e.g. eu-west-1`);
  }
  if (spec.endpoint) checkEndpoint(spec.endpoint, opts);
  if (spec.roleArn && !ROLE_ARN.test(spec.roleArn)) {
    throw new InvalidSpecError(`spec.aws.roleArn "${spec.roleArn}" is not an IAM role ARN: write arn:aws:iam::<account>:role/<name>`);
  }
  if (spec.auth) {
    const ref = spec.auth.secretRef;
    if (!ref) throw new InvalidSpecError('spec.aws.auth has no secretRef: set accessKeyIdRef and secretAccessKeyRef, or remove auth');
    resolveSecretRef(ref.accessKeyIdRef ?? { name: '', key: '' }, secretNamespace);
    resolveSecretRef(ref.secretAccessKeyRef ?? { name: '', key: '' }, secretNamespace);
  }
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
