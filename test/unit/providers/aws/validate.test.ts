// spec.aws checks the CRD schema cannot make (or could not, for objects stored before it
// required auth): whose identity a source may use, remoteRef.path checks, and how a pinned
// remoteRef.version is sent (VersionId or staging label).
import type { AnySource, AwsAuth, AwsProviderSpec } from '../../../../src/api/types.js';
import { ForbiddenError, IdentityNotAllowedError, InvalidSpecError, SecretSyncError } from '../../../../src/errors.js';
import { checkSecretId, validateAwsSpec, versionPin } from '../../../../src/providers/aws/validate.js';

const keys = (namespace?: string) => ({
  secretRef: {
    accessKeyIdRef: { name: 'aws', key: 'id', ...(namespace ? { namespace } : {}) },
    secretAccessKeyRef: { name: 'aws', key: 'secret' },
  },
});
const spec = (extra: Partial<AwsProviderSpec> = {}): AwsProviderSpec => ({ region: 'eu-west-1', ...extra });
const web = (name: string): AwsAuth => ({ webIdentity: { serviceAccountRef: { name } } });
const ROLE = 'arn:aws:iam::123456789012:role/reader';

function caught(fn: () => unknown): SecretSyncError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SecretSyncError);
    return err as SecretSyncError;
  }
  throw new Error('expected a refusal');
}

test('a region and credentials of its own are a valid spec', () => {
  expect(() => validateAwsSpec(spec({ auth: keys() }), 'apps')).not.toThrow();
  expect(() => validateAwsSpec(spec({ auth: keys(), endpoint: 'https://127.0.0.1:5000', roleArn: 'arn:aws:iam::123456789012:role/reader' }), 'apps')).not.toThrow();
  expect(() => validateAwsSpec(spec({ auth: web('reader'), roleArn: ROLE }), 'apps')).not.toThrow();
});

// Whose identity: a SecretSource must bring its own; the operator's only on a ClusterSecretSource that says so.
test.each([
  ['SecretSource', undefined, 'IdentityNotAllowed', /^spec.aws.auth is missing: a SecretSource is never served with the operator's own AWS identity; write auth.secretRef: .* or auth.webIdentity: \{ serviceAccountRef: \{ name \} \} with roleArn/],
  ['SecretSource', {}, 'IdentityNotAllowed', /^spec.aws.auth sets no method: a SecretSource/],
  ['SecretSource', { operatorIdentity: {} }, 'IdentityNotAllowed', /^spec.aws.auth.operatorIdentity is for ClusterSecretSources only: .* write auth.secretRef/],
  ['SecretSource', keys(), 'ok', undefined],
  ['SecretSource', web('app'), 'ok', undefined],
  ['ClusterSecretSource', undefined, 'IdentityNotAllowed', /^spec.aws.auth is missing: write auth.operatorIdentity: \{\} to keep using the operator's own AWS identity .* or auth.secretRef: .*the operator's namespace/],
  ['ClusterSecretSource', { operatorIdentity: {} }, 'ok', undefined],
  ['ClusterSecretSource', keys(), 'ok', undefined],
  ['ClusterSecretSource', web('app'), 'ok', undefined],
  ['ClusterSecretSource', { ...keys(), operatorIdentity: {} }, 'InvalidSpec', /sets secretRef and operatorIdentity: set exactly one/],
  ['SecretSource', { ...keys(), ...web('app') }, 'InvalidSpec', /sets secretRef and webIdentity: set exactly one/],
] as [AnySource['kind'], AwsAuth | undefined, string, RegExp | undefined][])('%s with auth %j: %s', (kind, auth, outcome, msg) => {
  const s = spec({ ...(auth ? { auth } : {}), roleArn: ROLE });
  const run = () => validateAwsSpec(s, 'apps', { kind });
  if (outcome === 'ok') {
    expect(run).not.toThrow();
    return;
  }
  const err = caught(run);
  expect(err.reason).toBe(outcome);
  expect(err.retryable).toBe(false);
  expect(err.message).toMatch(msg as RegExp);
});

test('the kind defaults to the strict one: SecretSource', () => {
  expect(caught(() => validateAwsSpec(spec({ auth: { operatorIdentity: {} } }), 'apps'))).toBeInstanceOf(IdentityNotAllowedError);
});

test('webIdentity needs roleArn, a service account of the source namespace, and an audience the API server does not accept', () => {
  expect(caught(() => validateAwsSpec(spec({ auth: web('app') }), 'apps')).message).toMatch(/webIdentity needs spec.aws.roleArn/);
  const other = { webIdentity: { serviceAccountRef: { name: 'app', namespace: 'kube-system' } } } as unknown as AwsAuth;
  expect(caught(() => validateAwsSpec(spec({ auth: other, roleArn: ROLE }), 'apps'))).toBeInstanceOf(ForbiddenError);
  expect(caught(() => validateAwsSpec(spec({ auth: web(''), roleArn: ROLE }), 'apps'))).toBeInstanceOf(InvalidSpecError);
  const apiAcceptsSts = caught(() => validateAwsSpec(spec({ auth: web('app'), roleArn: ROLE }), 'apps', { apiAudiences: ['sts.amazonaws.com'] }));
  expect(apiAcceptsSts).toBeInstanceOf(IdentityNotAllowedError);
  expect(apiAcceptsSts.message).toContain('an audience of the API server itself');
});

test('an http endpoint is refused unless plaintext is allowed (--insecure-allow-http)', () => {
  const s = spec({ endpoint: 'http://127.0.0.1:5000', auth: keys() });
  expect(() => validateAwsSpec(s, 'apps')).toThrow(InvalidSpecError);
  expect(() => validateAwsSpec(s, 'apps')).toThrow(/spec.aws.endpoint "http:\/\/127.0.0.1:5000" uses plaintext http.*--insecure-allow-http/);
  expect(() => validateAwsSpec(s, 'apps', { allowInsecureHttp: true })).not.toThrow();
});

test.each([
  [undefined, /spec.aws is missing/],
  [{ region: '' }, /region is empty/],
  [{ region: 'Europe' }, /not an AWS region/],
  [{ region: 'eu-west-1', endpoint: 'not a url' }, /not a URL/],
  [{ region: 'eu-west-1', endpoint: 'ftp://host' }, /http or https/],
  [{ region: 'eu-west-1', endpoint: 'https://AKIA:secret@host' }, /must not carry credentials/],
  [{ region: 'eu-west-1', endpoint: 'https://host/?x=1' }, /query or fragment/],
  [{ region: 'eu-west-1', roleArn: 'reader' }, /not an IAM role ARN/],
] as [AwsProviderSpec | undefined, RegExp][])('%j is InvalidSpec', (s, msg) => {
  expect(() => validateAwsSpec(s, 'apps')).toThrow(InvalidSpecError);
  expect(() => validateAwsSpec(s, 'apps')).toThrow(msg);
});

test('key references resolve only in the source namespace', () => {
  expect(() => validateAwsSpec(spec({ auth: keys('apps') }), 'apps')).not.toThrow();
  expect(() => validateAwsSpec(spec({ auth: keys('kube-system') }), 'apps')).toThrow(ForbiddenError);
  const noKey = { secretRef: { accessKeyIdRef: { name: 'aws', key: '' }, secretAccessKeyRef: { name: 'aws', key: 's' } } };
  expect(() => validateAwsSpec(spec({ auth: noKey }), 'apps')).toThrow(InvalidSpecError);
});

test('secret ids: names and ARNs; not empty, not too long, no control characters', () => {
  expect(() => checkSecretId('prod/db')).not.toThrow();
  expect(() => checkSecretId('arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf')).not.toThrow();
  for (const bad of ['', 'a\nb', 'x'.repeat(2049)]) expect(() => checkSecretId(bad)).toThrow(InvalidSpecError);
});

test('a UUID pins a VersionId; anything else a stage; AWSCURRENT and empty mean the current version', () => {
  expect(versionPin(undefined)).toBeUndefined();
  expect(versionPin('')).toBeUndefined();
  expect(versionPin('AWSCURRENT')).toBeUndefined();
  expect(versionPin('AWSPREVIOUS')).toEqual({ versionStage: 'AWSPREVIOUS' });
  expect(versionPin('blue')).toEqual({ versionStage: 'blue' });
  expect(versionPin('3F2504E0-4F89-11D3-9A0C-0305E82C3301')).toEqual({ versionId: '3F2504E0-4F89-11D3-9A0C-0305E82C3301' });
  expect(() => versionPin('two words')).toThrow(InvalidSpecError);
});

describe('sessionTokenSecretRef, externalId and sessionTags', () => {
  const tags = [{ key: 'team', value: 'a' }];
  test('valid with roleArn and keys (or the operator identity of a ClusterSecretSource)', () => {
    const withToken = { secretRef: { ...keys().secretRef, sessionTokenSecretRef: { name: 'aws', key: 'token' } } };
    expect(() => validateAwsSpec(spec({ auth: withToken }), 'apps')).not.toThrow();
    expect(() => validateAwsSpec(spec({ auth: keys(), roleArn: ROLE, externalId: 'ext-1', sessionTags: tags }), 'apps')).not.toThrow();
    expect(() => validateAwsSpec(spec({ auth: { operatorIdentity: {} }, roleArn: ROLE, externalId: 'ext-1' }), 'ops', { kind: 'ClusterSecretSource' })).not.toThrow();
  });

  test('a session token Secret of another namespace is Forbidden', () => {
    const away = { secretRef: { ...keys().secretRef, sessionTokenSecretRef: { name: 'aws', key: 'token', namespace: 'other' } } };
    expect(() => validateAwsSpec(spec({ auth: away }), 'apps')).toThrow(ForbiddenError);
  });

  test.each([
    ['externalId without roleArn', { auth: keys(), externalId: 'ext-1' }, /externalId is sent with STS AssumeRole .*set roleArn/],
    ['sessionTags without roleArn', { auth: keys(), sessionTags: tags }, /sessionTags is sent with STS AssumeRole/],
    ['externalId with webIdentity', { auth: web('app'), roleArn: ROLE, externalId: 'ext-1' }, /AssumeRoleWithWebIdentity, which takes neither/],
    ['a malformed externalId', { auth: keys(), roleArn: ROLE, externalId: 'has space' }, /externalId must be 2-1224 characters/],
    ['a tag key twice', { auth: keys(), roleArn: ROLE, sessionTags: [...tags, { key: 'Team', value: 'b' }] }, /key "Team" twice/],
    ['an empty tag key', { auth: keys(), roleArn: ROLE, sessionTags: [{ key: '', value: 'b' }] }, /sessionTags\[0\].key must be 1-128/],
  ])('%s is InvalidSpec', (_what, extra, message) => {
    const err = caught(() => validateAwsSpec(spec(extra as Partial<AwsProviderSpec>), 'apps'));
    expect(err).toBeInstanceOf(InvalidSpecError);
    expect(err.message).toMatch(message);
  });
});
