// spec.aws checks the CRD schema cannot make, remoteRef.path checks, and how a pinned
// remoteRef.version is sent (VersionId or staging label).
import type { AwsProviderSpec } from '../../../../src/api/types.js';
import { ForbiddenError, InvalidSpecError } from '../../../../src/errors.js';
import { checkSecretId, validateAwsSpec, versionPin } from '../../../../src/providers/aws/validate.js';

const keys = (namespace?: string) => ({
  secretRef: {
    accessKeyIdRef: { name: 'aws', key: 'id', ...(namespace ? { namespace } : {}) },
    secretAccessKeyRef: { name: 'aws', key: 'secret' },
  },
});
const spec = (extra: Partial<AwsProviderSpec> = {}): AwsProviderSpec => ({ region: 'eu-west-1', ...extra });

test('a region alone is a valid spec (default credential chain)', () => {
  expect(() => validateAwsSpec(spec(), 'apps')).not.toThrow();
  expect(() => validateAwsSpec(spec({ auth: keys(), endpoint: 'https://127.0.0.1:5000', roleArn: 'arn:aws:iam::123456789012:role/reader' }), 'apps')).not.toThrow();
});

test('an http endpoint is refused unless plaintext is allowed (--insecure-allow-http)', () => {
  const s = spec({ endpoint: 'http://127.0.0.1:5000' });
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
  [{ region: 'eu-west-1', auth: {} }, /has no secretRef/],
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
