// Credentials against a dedicated moto_server that enforces IAM (test/helpers/moto-auth.ts):
// static keys from a Kubernetes Secret with only docs/sources.md's read policy, refused and
// unauthorised keys, a rotated key Secret taking effect without a new client, a role
// assumed through STS (its base user may do nothing else), a role that does not trust
// us, the SDK's default chain only for a ClusterSecretSource with auth.operatorIdentity, and
// no client at all for a SecretSource without auth.
import { randomBytes } from 'node:crypto';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { IdentityNotAllowedError, SourceAuthError } from '../../../src/errors.js';
import type { SecretProvider } from '../../../src/providers/provider.js';
import { awsCallLog, awsCanary, awsClusterSource, awsOverHttp, awsSource, createSecret, keysData, keysRef, secretsAdmin, type AwsCallLog } from '../../helpers/aws.js';
import { startAuthMoto, type AuthMoto } from '../../helpers/moto-auth.js';
import { uniqueName } from '../../helpers/stack.js';
import { core, createNamespace, createSecret as createKubeSecret, deleteNamespace, deps } from './vault-fixtures.js';
import { failureLog } from '../../helpers/rejection.js';

const prefix = uniqueName('aws-auth');
const secret = `${prefix}/db`;
const CANARY = awsCanary();
const unknown = { accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64') };
const { messages, failure } = failureLog();
const providers: SecretProvider[] = [];
let moto: AuthMoto;
let admin: SecretsManagerClient;
let namespace: string;

function provider(aws: Parameters<typeof awsSource>[1], log?: AwsCallLog): SecretProvider {
  const p = awsOverHttp.create(awsSource(namespace, { region: moto.region, endpoint: moto.endpoint, ...aws }), deps(namespace, log));
  providers.push(p);
  return p;
}

beforeAll(async () => {
  moto = await startAuthMoto();
  admin = secretsAdmin(moto.endpoint, moto.admin);
  await createSecret(admin, secret, { password: CANARY });
  namespace = await createNamespace('aws-auth');
  await createKubeSecret(namespace, 'reader', keysData(moto.reader));
  await createKubeSecret(namespace, 'unknown', keysData(unknown));
  await createKubeSecret(namespace, 'wrong-secret', keysData({ accessKeyId: moto.reader.accessKeyId, secretAccessKey: unknown.secretAccessKey }));
  await createKubeSecret(namespace, 'role-user', keysData(moto.roleUser));
  await createKubeSecret(namespace, 'rotating', keysData(unknown));
});

afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  const forbidden = [CANARY, moto.reader.secretAccessKey, moto.roleUser.secretAccessKey, moto.reader.accessKeyId, unknown.accessKeyId, unknown.secretAccessKey];
  for (const m of messages) for (const f of forbidden) expect(m.includes(f)).toBe(false);
  admin?.destroy();
  await moto?.stop();
  await deleteNamespace(namespace);
});

test('keys with only the read policy read current and pinned versions', async () => {
  const p = provider({ auth: keysRef('reader') });
  expect((await p.getSecret({ path: secret, property: 'password' })).value.toString()).toBe(CANARY);
  expect((await p.getSecretMap({ path: secret, version: 'AWSCURRENT' })).values.password?.toString()).toBe(CANARY);
  const { version } = await p.getSecret({ path: secret });
  expect((await p.getSecret({ path: secret, property: 'password', version })).value.toString()).toBe(CANARY);
});

test('unknown keys, a wrong secret key and keys without permission are SourceAuthFailed', async () => {
  for (const ref of ['unknown', 'wrong-secret', 'role-user']) {
    const log = awsCallLog();
    const err = await failure(provider({ auth: keysRef(ref) }, log).getSecret({ path: secret, property: 'password' }));
    expect(err).toBeInstanceOf(SourceAuthError);
    expect(err.message).toContain(`secret "${secret}"`);
    expect(log.count('BatchGetSecretValue', 'error')).toBe(1); // not retried
  }
});

test('after a refusal the keys are read again: fixing the Secret fixes the same client', async () => {
  const p = provider({ auth: keysRef('rotating') });
  expect(await failure(p.getSecret({ path: secret, property: 'password' }))).toBeInstanceOf(SourceAuthError);
  await core.replaceNamespacedSecret({ name: 'rotating', namespace, body: { metadata: { name: 'rotating' }, stringData: keysData(moto.reader) } });
  expect((await p.getSecret({ path: secret, property: 'password' })).value.toString()).toBe(CANARY);
});

test('roleArn: reads with the role assumed through STS, one AssumeRole for many reads', async () => {
  const log = awsCallLog();
  const p = provider({ auth: keysRef('role-user'), roleArn: moto.roleArn }, log);
  expect((await p.getSecret({ path: secret, property: 'password' })).value.toString()).toBe(CANARY);
  expect((await p.getSecretMap({ path: secret, version: 'AWSCURRENT' })).values.password?.toString()).toBe(CANARY);
  expect((await p.getSecret({ path: secret, version: 'AWSCURRENT' })).value.toString()).toContain(JSON.stringify(CANARY));
  expect(log.count('AssumeRole', 'success')).toBe(1);
  expect(log.count('BatchGetSecretValue', 'success')).toBe(3);
});

test('a role that does not trust the base identity is SourceAuthFailed naming the role', async () => {
  const log = awsCallLog();
  const err = await failure(provider({ auth: keysRef('role-user'), roleArn: moto.untrustedRoleArn }, log).getSecret({ path: secret }));
  expect(err).toBeInstanceOf(SourceAuthError);
  expect(err.message).toContain(moto.untrustedRoleArn);
  expect(err.message).toContain('sts:AssumeRole');
  expect(log.count('AssumeRole', 'error')).toBe(1);
  expect(log.count('BatchGetSecretValue')).toBe(0); // never sent without credentials
});

test('operatorIdentity on a ClusterSecretSource uses the default chain (here: the environment\'s keys)', async () => {
  const cluster = (aws: Parameters<typeof awsClusterSource>[0]) => {
    const p = awsOverHttp.create(awsClusterSource({ auth: { operatorIdentity: {} }, ...aws }), deps(namespace));
    providers.push(p);
    return p;
  };
  // The test environment exports the stack's moto keys, which this moto does not know...
  expect(await failure(cluster({ region: moto.region, endpoint: moto.endpoint }).getSecret({ path: secret }))).toBeInstanceOf(SourceAuthError);
  // ...and the stack's moto accepts.
  expect(await failure(cluster({}).getSecret({ path: `${prefix}/not-there` }))).toHaveProperty('reason', 'SourceNotFound');
});

test('without auth, or with operatorIdentity, a SecretSource gets no client: refused before any call', () => {
  for (const aws of [{}, { roleArn: moto.roleArn }, { auth: { operatorIdentity: {} } }]) {
    const log = awsCallLog();
    expect(() => awsOverHttp.create(awsSource(namespace, { region: moto.region, endpoint: moto.endpoint, ...aws }), deps(namespace, log))).toThrow(IdentityNotAllowedError);
    expect(log.count('BatchGetSecretValue') + log.count('AssumeRole')).toBe(0);
  }
});
