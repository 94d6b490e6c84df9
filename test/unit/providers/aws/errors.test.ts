// The one mapping from AWS SDK failures (real SDK exception classes, Node network errors)
// and BatchGetSecretValue Errors[] entries to typed errors; what the messages may not carry.
import {
  DecryptionFailure,
  InternalServiceError,
  InvalidParameterException,
  InvalidRequestException,
  ResourceNotFoundException,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import {
  InvalidSpecError,
  KeyNotFoundError,
  SourceAuthError,
  SourceNotFoundError,
  SourceUnavailableError,
} from '../../../../src/errors.js';
import {
  batchEntryError,
  isDenied,
  isRetryable,
  refusesCredentials,
  toAwsError,
  type AwsOperation,
} from '../../../../src/providers/aws/errors.js';

const REQUEST_ID = 'b7a3c1d2-0f1e-4e5d-9c8b-7a6f5e4d3c2b';
const meta = (httpStatusCode: number) => ({ httpStatusCode, requestId: REQUEST_ID, attempts: 1, totalRetryDelay: 0 });
const opts = (status: number, message: string) => ({ message, $metadata: meta(status) });

/** A modelled-elsewhere error as the SDK builds it from the response's __type. */
function service(name: string, status: number, message: string, fault: 'client' | 'server' = 'client') {
  return new SecretsManagerServiceException({ name, $fault: fault, message, $metadata: meta(status) });
}
function net(code: string, message: string) {
  return Object.assign(new Error(message), { code, $metadata: { attempts: 1 } });
}
const ctx = (operation: AwsOperation = 'GetSecretValue', version?: string) => ({
  source: 'SecretSource/ns/src',
  operation,
  target: 'prod/db',
  version,
});

const cases: [Error, new (m: string) => Error][] = [
  [new ResourceNotFoundException(opts(400, "Secrets Manager can't find the specified secret.")), SourceNotFoundError],
  [service('UnrecognizedClientException', 400, 'The security token included in the request is invalid.'), SourceAuthError],
  [service('InvalidClientTokenId', 403, 'The security token included in the request is invalid.'), SourceAuthError],
  [service('AccessDeniedException', 400, 'User: arn:aws:iam::123456789012:user/x is not authorized'), SourceAuthError],
  [service('ExpiredTokenException', 400, 'The security token included in the request is expired'), SourceAuthError],
  [service('InvalidSignatureException', 400, 'Signature expired'), SourceAuthError],
  [Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), SourceAuthError],
  [new DecryptionFailure(opts(400, 'Access to KMS is not allowed')), SourceAuthError],
  [service('ThrottlingException', 400, 'Rate exceeded'), SourceUnavailableError],
  [service('TooManyRequestsException', 429, 'Too many requests'), SourceUnavailableError],
  [new InternalServiceError(opts(500, 'internal')), SourceUnavailableError],
  [service('ServiceUnavailable', 503, 'unavailable', 'server'), SourceUnavailableError],
  [net('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'), SourceUnavailableError],
  [net('ENOTFOUND', 'getaddrinfo ENOTFOUND secretsmanager.nowhere'), SourceUnavailableError],
  [Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }), SourceUnavailableError],
  [new InvalidParameterException(opts(400, 'Invalid version id')), InvalidSpecError],
  [new InvalidRequestException(opts(400, 'You tried to perform the operation on a secret that is currently marked deleted.')), SourceNotFoundError],
  [new InvalidRequestException(opts(400, 'something else')), InvalidSpecError],
];
const label = (e: Error) => `${e.name}${(e as { code?: string }).code ? ` ${(e as { code?: string }).code}` : ''}: ${e.message.slice(0, 30)}`;

test.each(cases.map(([e, c]) => [label(e), c.name, e, c] as const))('%s → %s', (_label, _name, err, cls) => {
  const mapped = toAwsError(err, ctx());
  expect(mapped).toBeInstanceOf(cls);
  expect(mapped.message.startsWith('SecretSource/ns/src: AWS Secrets Manager GetSecretValue of secret "prod/db"')).toBe(true);
  expect(mapped.message).not.toContain(REQUEST_ID);
});

test('a pinned version is named, and not-found says it may be the version', () => {
  const err = toAwsError(new ResourceNotFoundException(opts(400, 'not found')), ctx('GetSecretValue', 'AWSPREVIOUS'));
  expect(err.message).toContain('version "AWSPREVIOUS"');
  expect(err.message).toMatch(/no version or stage "AWSPREVIOUS"/);
});

test('AssumeRole failures are auth failures naming the role', () => {
  const err = toAwsError(service('AccessDenied', 403, 'not authorized to perform sts:AssumeRole'), {
    source: 'ClusterSecretSource/aws',
    operation: 'AssumeRole',
    target: 'arn:aws:iam::123456789012:role/reader',
  });
  expect(err).toBeInstanceOf(SourceAuthError);
  expect(err.message).toContain('AWS STS AssumeRole of "arn:aws:iam::123456789012:role/reader"');
  expect(err.message).toContain('sts:AssumeRole');
});

test('typed errors pass through unchanged', () => {
  const e = new KeyNotFoundError('x');
  expect(toAwsError(e, ctx())).toBe(e);
});

test('signature material, request ids and known credentials never reach the message', () => {
  const sig = service(
    'SignatureDoesNotMatch',
    403,
    'The request signature we calculated does not match the signature you provided.\n\nThe Canonical String for this request should have been\n' +
      "'POST\n/\n\nhost:secretsmanager\nx-amz-date:20260101T000000Z'\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20260101T000000Z\nCredential=AKIAABCDEFGHIJKLMNOP/20260101/us-east-1/secretsmanager/aws4_request'",
  );
  const mapped = toAwsError(sig, { ...ctx(), secrets: ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'] });
  expect(mapped).toBeInstanceOf(SourceAuthError);
  expect(mapped.message).not.toMatch(/Canonical|String-to-Sign|AKIA|x-amz-date|Credential=/);
  const leaky = service('AccessDeniedException', 400, 'denied for wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY RequestId: 1234-abcd key AKIAABCDEFGHIJKLMNOP');
  const m2 = toAwsError(leaky, { ...ctx(), secrets: ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'] }).message;
  expect(m2).not.toContain('wJalrXUtnFEMI');
  expect(m2).not.toContain('1234-abcd');
  expect(m2).not.toContain('AKIAABCDEFGHIJKLMNOP');
});

test('retryable: throttling, server errors and network failures; not client errors', () => {
  expect(isRetryable(service('ThrottlingException', 400, 'Rate exceeded'))).toBe(true);
  expect(isRetryable(new InternalServiceError(opts(500, 'x')))).toBe(true);
  expect(isRetryable(service('Whatever', 502, 'bad gateway', 'server'))).toBe(true);
  expect(isRetryable(net('ECONNRESET', 'socket hang up'))).toBe(true);
  expect(isRetryable(new AggregateError([net('ECONNREFUSED', 'a'), net('ECONNREFUSED', 'b')], 'x'))).toBe(true);
  expect(isRetryable(new ResourceNotFoundException(opts(400, 'x')))).toBe(false);
  expect(isRetryable(service('AccessDeniedException', 400, 'x'))).toBe(false);
  expect(isRetryable(new SourceUnavailableError('x'))).toBe(true);
  expect(isRetryable(new SourceAuthError('x'))).toBe(false);
});

test('only refusals of the credentials themselves ask for a fresh client', () => {
  expect(refusesCredentials(service('UnrecognizedClientException', 400, 'x'))).toBe(true);
  expect(refusesCredentials(service('ExpiredTokenException', 400, 'x'))).toBe(true);
  expect(refusesCredentials(service('AccessDeniedException', 400, 'x'))).toBe(false);
  expect(refusesCredentials(new SourceAuthError('x'))).toBe(false);
  expect(isDenied(service('AccessDeniedException', 400, 'x'))).toBe(true);
  expect(isDenied(service('UnrecognizedClientException', 400, 'x'))).toBe(false);
});

test('a BatchGetSecretValue Errors[] entry maps like the same exception', () => {
  const c = { ...ctx('BatchGetSecretValue'), target: 'a/b' };
  expect(batchEntryError({ secretId: 'a/b', errorCode: 'ResourceNotFoundException', message: 'not found' }, c)).toBeInstanceOf(SourceNotFoundError);
  expect(batchEntryError({ secretId: 'a/b', errorCode: 'AccessDeniedException', message: 'no' }, c)).toBeInstanceOf(SourceAuthError);
  expect(batchEntryError({ secretId: 'a/b', errorCode: 'DecryptionFailure' }, c)).toBeInstanceOf(SourceAuthError);
  const other = batchEntryError({ secretId: 'a/b' }, c);
  expect(other).toBeInstanceOf(SourceUnavailableError);
  expect(other.message).toContain('BatchGetSecretValue of secret "a/b"');
});

test('an error body the SDK could not parse: HTTP 401/403 is an auth failure; the parse error is never quoted', () => {
  // moto answers IAM refusals of a JSON-protocol service with an XML body.
  const unreadable = (status: number, body: string) =>
    Object.assign(new SyntaxError(`Unexpected token '<', "${body.slice(0, 10)}"... is not valid JSON`), { $metadata: meta(status) });
  const refused = unreadable(403, '<?xml version="1.0"?><ErrorResponse>');
  const mapped = toAwsError(refused, ctx());
  expect(mapped).toBeInstanceOf(SourceAuthError);
  expect(mapped.message).toContain('HTTP 403');
  expect(refusesCredentials(refused)).toBe(true);
  const garbled = toAwsError(unreadable(200, '{"SecretString":"canary-1234567'), ctx());
  expect(garbled).toBeInstanceOf(SourceUnavailableError);
  expect(garbled.message).not.toContain('canary');
  expect(garbled.message).toContain('the answer is not an AWS answer (not JSON, HTTP 200); check that spec.aws.endpoint is a Secrets Manager endpoint');
});

test('a hostile endpoint: a redirect, an answer of the wrong shape, a refused TLS certificate; each says to check spec.aws.endpoint', () => {
  const redirect = toAwsError(Object.assign(new Error('UnknownError'), { name: 'Unknown', $metadata: meta(307) }), ctx('BatchGetSecretValue'));
  expect(redirect).toBeInstanceOf(SourceUnavailableError);
  expect(redirect.message).toBe(
    'SecretSource/ns/src: AWS Secrets Manager BatchGetSecretValue of secret "prod/db" failed: the endpoint answered with a redirect (HTTP 307), which the operator does not follow; set spec.aws.endpoint to a Secrets Manager endpoint that answers itself',
  );
  const shape = toAwsError(Object.assign(new Error('SecretValues is not a list of secrets'), { name: 'MalformedAnswer', $metadata: meta(200) }), ctx('BatchGetSecretValue'));
  expect(shape).toBeInstanceOf(SourceUnavailableError);
  expect(shape.message).toContain('the answer is not an AWS answer (SecretValues is not a list of secrets, HTTP 200); check that spec.aws.endpoint is a Secrets Manager endpoint');
  expect(toAwsError(Object.assign(new Error('x'), { name: 'MalformedAnswer' }), ctx('Decrypt')).message).toContain('is a KMS endpoint');
  for (const code of ['ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_SIGNATURE_FAILURE', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT']) {
    const tls = toAwsError(net(code, 'certificate problem'), ctx());
    expect(tls).toBeInstanceOf(SourceUnavailableError);
    expect(tls.message).toContain(`(${code}): the endpoint's TLS certificate was not accepted; it must name the host of spec.aws.endpoint`);
  }
  // A 500 that is not JSON stays a server error; a 403 that is not JSON stays a refusal.
  expect(toAwsError(Object.assign(new SyntaxError('Unexpected token'), { $metadata: meta(500) }), ctx()).message).toContain('AWS answered with a server error (HTTP 500)');
  expect(toAwsError(Object.assign(new SyntaxError('Unexpected token'), { $metadata: meta(403) }), ctx())).toBeInstanceOf(SourceAuthError);
});

test("a network failure the SDK re-wrapped (its code dropped) is still recognised", () => {
  const wrapped = new Error('AWS SDK error wrapper for Error: connect ECONNREFUSED 127.0.0.1:39683');
  expect(isRetryable(wrapped)).toBe(true);
  expect(toAwsError(wrapped, ctx()).message).toContain('(ECONNREFUSED): AWS could not be reached');
});
