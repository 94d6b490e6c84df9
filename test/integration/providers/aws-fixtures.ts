// The shared frame of the AWS provider tests against the stack's moto: a namespace with the
// moto keys in Secret aws-keys, providers built on it (closed after each test), secret
// names and canary values that are cleaned up and checked against every failure message.
import type { SecretProvider } from '../../../src/providers/provider.js';
import { awsCanary, awsOverHttp, awsSource, deleteSecrets, keysData, keysRef, secretsAdmin, type AwsCallLog } from '../../helpers/aws.js';
import { failureLog } from '../../helpers/rejection.js';
import { awsConfig, uniqueName } from '../../helpers/stack.js';
import { createNamespace, createSecret as createKubeSecret, deleteNamespace, deps } from './vault-fixtures.js';

export function awsProviderSuite(prefix: string) {
  const sm = secretsAdmin();
  const secretPrefix = uniqueName(prefix);
  const names: string[] = [];
  const canaries: string[] = [];
  const { messages, failure } = failureLog();
  const providers: SecretProvider[] = [];
  let namespace = '';

  beforeAll(async () => {
    namespace = await createNamespace(prefix);
    await createKubeSecret(namespace, 'aws-keys', keysData(awsConfig().credentials));
  });
  afterEach(async () => {
    await Promise.all(providers.splice(0).map((p) => p.close()));
  });
  afterAll(async () => {
    for (const m of messages) for (const c of canaries) expect(m).not.toContain(c);
    await deleteSecrets(sm, names);
    sm.destroy();
    await deleteNamespace(namespace);
  });

  return {
    sm,
    failure,
    namespace: () => namespace,
    /** A canary value, checked against every failure message. */
    value(): string {
      const c = awsCanary();
      canaries.push(c);
      return c;
    },
    /** A secret name under this suite's prefix, deleted at the end. */
    name(n: string): string {
      const full = `${secretPrefix}/${n}`;
      names.push(full);
      return full;
    },
    /** Closes `p` after the test. */
    own(p: SecretProvider): SecretProvider {
      providers.push(p);
      return p;
    },
    /** A provider reading with the moto keys, closed after the test. */
    provider(log?: AwsCallLog): SecretProvider {
      const p = awsOverHttp.create(awsSource(namespace, { auth: keysRef('aws-keys') }), deps(namespace, log));
      providers.push(p);
      return p;
    },
  };
}
