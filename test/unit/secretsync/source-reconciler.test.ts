// Source status after an upgrade: an aws source without auth (stored before auth was
// required) is Ready=False IdentityNotAllowed with what to write instead, never Ready.
import type { AnySource, AwsProviderSpec } from '../../../src/api/types.js';
import { createAwsProviderFactory } from '../../../src/providers/aws/index.js';
import { ProviderRegistry } from '../../../src/providers/registry.js';
import { sourceStatus } from '../../../src/secretsync/source-reconciler.js';

const registry = new ProviderRegistry().register(createAwsProviderFactory());
const NOW = new Date('2026-01-01T00:00:00Z');

function source(kind: AnySource['kind'], aws: AwsProviderSpec): AnySource {
  const metadata = { name: 'aws', generation: 3, ...(kind === 'SecretSource' ? { namespace: 'tenant' } : {}) };
  return { apiVersion: 'secretsync.io/v1alpha1', kind, metadata, spec: { aws } } as AnySource;
}
const ready = (s: AnySource) => sourceStatus(s, registry, 'secretsync-system', NOW).conditions?.find((c) => c.type === 'Ready');

test.each([
  ['SecretSource', {}, 'False', 'IdentityNotAllowed', /auth.secretRef: .* or auth.webIdentity/],
  ['SecretSource', { roleArn: 'arn:aws:iam::123456789012:role/any' }, 'False', 'IdentityNotAllowed', /never served with the operator's own AWS identity/],
  ['SecretSource', { auth: { operatorIdentity: {} } }, 'False', 'IdentityNotAllowed', /for ClusterSecretSources only/],
  ['ClusterSecretSource', {}, 'False', 'IdentityNotAllowed', /write auth.operatorIdentity: \{\} to keep using the operator's own AWS identity/],
  ['ClusterSecretSource', { auth: { operatorIdentity: {} } }, 'True', 'Valid', /spec is valid/],
  ['SecretSource', { auth: { webIdentity: { serviceAccountRef: { name: 'app' } } }, roleArn: 'arn:aws:iam::123456789012:role/app' }, 'True', 'Valid', /spec is valid/],
] as [AnySource['kind'], Partial<AwsProviderSpec>, string, string, RegExp][])('%s %j: Ready=%s %s', (kind, aws, status, reason, message) => {
  const c = ready(source(kind, { region: 'eu-west-1', ...aws }));
  expect(c).toMatchObject({ status, reason, observedGeneration: 3 });
  expect(c?.message).toMatch(message);
});
