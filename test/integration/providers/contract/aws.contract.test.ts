// The provider contract against real moto with IAM enforced (a dedicated moto_server, see
// test/helpers/moto-auth.ts): the provider reads with an IAM user that has only the
// read policy of docs/sources.md, its keys in a Kubernetes Secret; refused credentials are keys
// moto's IAM does not know; unreachable is a closed loopback port. Secrets are written by
// an admin user; versions are VersionIds.
import { randomBytes } from 'node:crypto';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsOverHttp, awsSource, closedEndpoint, createSecret, keysData, keysRef, putSecret, secretsAdmin, type AwsKeys } from '../../../helpers/aws.js';
import { startAuthMoto, type AuthMoto } from '../../../helpers/moto-auth.js';
import { uniqueName } from '../../../helpers/stack.js';
import { createNamespace, createSecret as createKubeSecret, deleteNamespace, deps } from '../vault-fixtures.js';
import { describeProviderContract } from './contract.js';

const prefix = uniqueName('contract');
const unknownKeys: AwsKeys = {
  accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
  secretAccessKey: randomBytes(30).toString('base64'),
};
let moto: AuthMoto;
let admin: SecretsManagerClient;
let namespace = '';
let seq = 0;

const source = (extra: Parameters<typeof awsSource>[1]) =>
  awsSource(namespace, { region: moto.region, endpoint: moto.endpoint, ...extra });

describeProviderContract('aws (moto with IAM, static keys)', {
  async setup() {
    moto = await startAuthMoto();
    admin = secretsAdmin(moto.endpoint, moto.admin);
    namespace = await createNamespace('contract-aws');
    await createKubeSecret(namespace, 'aws-keys', keysData(moto.reader));
    await createKubeSecret(namespace, 'aws-bad', keysData(unknownKeys));
  },
  async teardown() {
    admin?.destroy();
    await moto?.stop();
    await deleteNamespace(namespace);
  },
  provider: () => awsOverHttp.create(source({ auth: keysRef('aws-keys') }), deps(namespace)),
  badCredentialsProvider: () => awsOverHttp.create(source({ auth: keysRef('aws-bad') }), deps(namespace)),
  async unreachableProvider() {
    return awsOverHttp.create(source({ endpoint: await closedEndpoint(), auth: keysRef('aws-keys') }), deps(namespace));
  },
  async write(data) {
    const path = `${prefix}/s${++seq}`;
    return { path, version: await createSecret(admin, path, data) };
  },
  update: (path, data) => putSecret(admin, path, data),
  missingPath: () => `${prefix}/absent`,
  credentials: () => [moto.reader.accessKeyId, moto.reader.secretAccessKey, moto.admin.secretAccessKey, unknownKeys.accessKeyId, unknownKeys.secretAccessKey],
});
