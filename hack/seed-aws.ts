// `make run`: puts the sample secret demo/aws-db into AWS Secrets Manager (moto locally):
// a JSON SecretString with username and a fresh random password. Created, or a new version
// when it exists. Uses the SDK's usual environment: AWS_ENDPOINT_URL, AWS_REGION and keys.
import { randomBytes } from 'node:crypto';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

const name = process.argv[2] ?? 'demo/aws-db';
const client = new SecretsManagerClient({
  region: process.env.AWS_REGION ?? 'us-east-1',
  ...(process.env.AWS_ENDPOINT_URL ? { endpoint: process.env.AWS_ENDPOINT_URL } : {}),
});
const SecretString = JSON.stringify({ username: 'aws-app', password: randomBytes(12).toString('base64') });
try {
  await client.send(new CreateSecretCommand({ Name: name, SecretString }));
} catch (err) {
  if ((err as { name?: string }).name !== 'ResourceExistsException') throw err;
  await client.send(new PutSecretValueCommand({ SecretId: name, SecretString }));
}
client.destroy();
