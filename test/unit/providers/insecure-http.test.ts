// Plaintext http to a secret manager is refused unless the operator runs with
// --insecure-allow-http: the check both providers share, its message, how each
// provider's validation applies it, and the flag that switches it.
import type { AnySource } from '../../../src/api/types.js';
import { InvalidSpecError } from '../../../src/errors.js';
import { OPERATOR_HELP, parseOperatorFlags } from '../../../src/flags.js';
import { createAwsProviderFactory } from '../../../src/providers/aws/index.js';
import { checkPlaintext } from '../../../src/providers/insecure-http.js';
import type { ProviderKube } from '../../../src/providers/provider.js';
import { ProviderRegistry } from '../../../src/providers/registry.js';
import { createVaultProviderFactory } from '../../../src/providers/vault/index.js';

const token = { token: { secretRef: { name: 'vault-token', key: 'token' } } };

function source(spec: AnySource['spec']): AnySource {
  return { apiVersion: 'secretsync.io/v1alpha1', kind: 'SecretSource', metadata: { name: 's', namespace: 'apps' }, spec };
}

const vaultHttp = source({ vault: { address: 'http://vault.example:8200', auth: token } });
const keys = { secretRef: { accessKeyIdRef: { name: 'aws', key: 'id' }, secretAccessKeyRef: { name: 'aws', key: 'secret' } } };
const awsHttp = source({ aws: { region: 'eu-west-1', endpoint: 'http://moto.example:5000', auth: keys } });

function refusal(fn: () => unknown): InvalidSpecError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidSpecError);
    return err as InvalidSpecError;
  }
  throw new Error('expected InvalidSpecError');
}

test('the message names the field and address, says why, and says what to do', () => {
  const err = refusal(() => checkPlaintext('spec.vault.address', new URL('http://vault.example:8200/sub'), {}));
  expect(err.message).toBe(
    'spec.vault.address "http://vault.example:8200" uses plaintext http: credentials and secret values would travel unencrypted. ' +
      'Use https, or run the operator with --insecure-allow-http for a development stack',
  );
  expect(err.retryable).toBe(false);
  expect(err.reason).toBe('InvalidSpec');
});

test('https always passes; http only when allowed', () => {
  expect(() => checkPlaintext('f', new URL('https://vault.example'), {})).not.toThrow();
  expect(() => checkPlaintext('f', new URL('http://vault.example'), { allowInsecureHttp: true })).not.toThrow();
  expect(() => checkPlaintext('f', new URL('http://vault.example'), { allowInsecureHttp: false })).toThrow(InvalidSpecError);
});

test('the default factories refuse http sources at validation (the source\'s Ready condition) and at client creation', () => {
  const registry = new ProviderRegistry().register(createVaultProviderFactory()).register(createAwsProviderFactory());
  const deps = { kube: {} as ProviderKube, secretNamespace: 'apps' };
  expect(refusal(() => registry.validate(vaultHttp, 'apps')).message).toMatch(/^spec\.vault\.address "http:\/\/vault\.example:8200" uses plaintext http/);
  expect(refusal(() => registry.validate(awsHttp, 'apps')).message).toMatch(/^spec\.aws\.endpoint "http:\/\/moto\.example:5000" uses plaintext http/);
  refusal(() => registry.client(vaultHttp, deps));
  refusal(() => registry.client(awsHttp, deps));
  expect(registry.size()).toBe(0);
});

test('factories built with allowInsecureHttp accept http sources', async () => {
  const allow = { allowInsecureHttp: true };
  const registry = new ProviderRegistry().register(createVaultProviderFactory(allow)).register(createAwsProviderFactory(allow));
  expect(() => registry.validate(vaultHttp, 'apps')).not.toThrow();
  expect(() => registry.validate(awsHttp, 'apps')).not.toThrow();
  expect(() => registry.validate(source({ vault: { address: 'https://vault.example', auth: token } }), 'apps')).not.toThrow();
  await registry.closeAll();
});

test('--insecure-allow-http is off by default, documented for dev stacks only', () => {
  expect(parseOperatorFlags([])).toMatchObject({ insecureAllowHttp: false });
  expect(parseOperatorFlags(['--insecure-allow-http'])).toMatchObject({ insecureAllowHttp: true });
  expect(OPERATOR_HELP).toMatch(/--insecure-allow-http\s+accept http:\/\/ in spec\.vault\.address and spec\.aws\.endpoint\. For local\/dev stacks\s+only/);
});
