// moto_server is real and reachable through the AWS SDK: Secrets Manager and KMS.
import { DecryptCommand, GenerateDataKeyCommand, KMSClient, CreateKeyCommand } from '@aws-sdk/client-kms';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  BatchGetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  UpdateSecretVersionStageCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { awsConfig, uniqueName } from '../../helpers/stack.js';

const sm = new SecretsManagerClient(awsConfig());
const kms = new KMSClient(awsConfig());

afterAll(() => {
  sm.destroy();
  kms.destroy();
});

test('Secrets Manager creates, versions and reads a secret', async () => {
  const name = uniqueName('smoke/db');
  await sm.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify({ password: 'one' }) }));
  const first = await sm.send(new GetSecretValueCommand({ SecretId: name }));
  expect(JSON.parse(first.SecretString ?? '{}')).toEqual({ password: 'one' });
  expect(first.VersionStages).toContain('AWSCURRENT');

  await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: JSON.stringify({ password: 'two' }) }));
  const current = await sm.send(new GetSecretValueCommand({ SecretId: name }));
  const previous = await sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }));
  expect(JSON.parse(current.SecretString ?? '{}').password).toBe('two');
  expect(previous.VersionId).toBe(first.VersionId);
});

// AWS serves un-labelled reads from AWSCURRENT; moto needs hack/testenv/moto-patch.py for it.
test('a staged version promoted with UpdateSecretVersionStage is what un-labelled reads return (as on AWS)', async () => {
  const name = uniqueName('smoke/staged');
  const first = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'one' }));
  const staged = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'two', VersionStages: ['AWSPENDING'], ClientRequestToken: `smoke-${name.replace(/[^a-z0-9]/g, '')}-0000000000000000` }));
  expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('one');
  await sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: staged.VersionId, RemoveFromVersionId: first.VersionId }));
  expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('two');
  const batch = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: [name] }));
  expect(batch.SecretValues?.[0]?.SecretString).toBe('two');
});

test('Secrets Manager reports a missing secret as ResourceNotFoundException', async () => {
  await expect(sm.send(new GetSecretValueCommand({ SecretId: uniqueName('missing') }))).rejects.toBeInstanceOf(
    ResourceNotFoundException,
  );
});

test('KMS generates a data key whose wrapped form decrypts to the same key', async () => {
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'secretsync smoke' }));
  const keyId = KeyMetadata?.KeyId;
  expect(keyId).toBeDefined();

  const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }));
  expect(dk.Plaintext?.length).toBe(32);
  expect(dk.CiphertextBlob?.length).toBeGreaterThan(32);
  const back = await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob }));
  expect(Buffer.from(back.Plaintext ?? new Uint8Array())).toEqual(Buffer.from(dk.Plaintext ?? new Uint8Array()));
  expect(back.KeyId).toContain(keyId);
});
