// What the AWS provider's unit tests share: a SecretSource with access keys in Secret `k`
// (an endpoint nothing listens on: the SecretsApi port is scripted), and the ProviderKube
// that hands out those keys.
import type { AnySource } from '../../../../src/api/types.js';
import type { ProviderKube } from '../../../../src/providers/provider.js';

export const awsSource: AnySource = {
  apiVersion: 'secretsync.io/v1alpha1',
  kind: 'SecretSource',
  metadata: { name: 'aws', namespace: 'apps', uid: 'u1', generation: 1 },
  spec: {
    aws: {
      region: 'eu-west-1',
      endpoint: 'https://127.0.0.1:1',
      auth: { secretRef: { accessKeyIdRef: { name: 'k', key: 'id' }, secretAccessKeyRef: { name: 'k', key: 'secret' } } },
    },
  },
};

/** Reads the access key id and secret key (`readSecretKey` may be wrapped, e.g. in jest.fn, to count reads). */
export const readKeys: ProviderKube['readSecretKey'] = async (_ns, _name, key) => Buffer.from(key === 'id' ? 'AKIDEXAMPLE' : 'secret-key');

export function keysKube(readSecretKey: ProviderKube['readSecretKey'] = readKeys): ProviderKube {
  return { readSecretKey, requestServiceAccountToken: async () => ({ token: '', expiresAt: new Date() }) };
}
