// AWS fixtures for integration tests against the stack's moto (or a dedicated one, see
// moto-auth.ts): an admin Secrets Manager client for arranging secrets, writers that
// return the new VersionId, builders for `aws` SecretSources, a call counter for
// ProviderDeps.onCall, and a loopback port nothing listens on.
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { AwsProviderSpec, ClusterSecretSource, SecretSource } from '../../src/api/types.js';
import { createAwsProviderFactory } from '../../src/providers/aws/index.js';
import type { ProviderDeps } from '../../src/providers/provider.js';
import { freePort } from '../testenv/ports.js';
import { canary } from './canary.js';
import { awsConfig, requireEnv, uniqueName } from './stack.js';

/**
 * The AWS factory for the stack's moto, which listens on plain http: tests opt in
 * explicitly, as the operator does with --insecure-allow-http.
 */
export const awsOverHttp = createAwsProviderFactory({ allowInsecureHttp: true });

export interface AwsKeys {
  accessKeyId: string;
  secretAccessKey: string;
}

/** A Secrets Manager client with the given keys (default: the stack's moto and its keys). */
export function secretsAdmin(endpoint?: string, keys?: AwsKeys): SecretsManagerClient {
  const base = awsConfig();
  return new SecretsManagerClient({
    region: base.region,
    endpoint: endpoint ?? base.endpoint,
    credentials: keys ?? base.credentials,
  });
}

/** Creates secret `name` with a SecretString (objects as JSON) or SecretBinary; returns its VersionId. */
export async function createSecret(sm: SecretsManagerClient, name: string, value: string | object | Uint8Array): Promise<string> {
  const body =
    value instanceof Uint8Array
      ? { SecretBinary: value }
      : { SecretString: typeof value === 'string' ? value : JSON.stringify(value) };
  const out = await sm.send(new CreateSecretCommand({ Name: name, ...body }));
  return out.VersionId ?? '';
}

/** A new version of `name` (it becomes AWSCURRENT, the old one AWSPREVIOUS); returns its VersionId. */
export async function putSecret(sm: SecretsManagerClient, name: string, value: string | object): Promise<string> {
  const out = await sm.send(
    new PutSecretValueCommand({ SecretId: name, SecretString: typeof value === 'string' ? value : JSON.stringify(value) }),
  );
  return out.VersionId ?? '';
}

export async function deleteSecrets(sm: SecretsManagerClient, names: string[]): Promise<void> {
  await Promise.all(
    names.map((n) => sm.send(new DeleteSecretCommand({ SecretId: n, ForceDeleteWithoutRecovery: true })).catch(() => undefined)),
  );
}

/** spec.aws.auth pointing at Secret `name` with keys access-key-id / secret-access-key. */
export function keysRef(name: string): NonNullable<AwsProviderSpec['auth']> {
  return {
    secretRef: {
      accessKeyIdRef: { name, key: 'access-key-id' },
      secretAccessKeyRef: { name, key: 'secret-access-key' },
    },
  };
}

/** The stringData of a Secret keysRef() can point at. */
export function keysData(keys: AwsKeys): Record<string, string> {
  return { 'access-key-id': keys.accessKeyId, 'secret-access-key': keys.secretAccessKey };
}

let uidSeq = 0;

/** A SecretSource in `namespace` with an aws block (region and endpoint default to the stack's moto). */
export function awsSource(namespace: string, aws: Partial<AwsProviderSpec> = {}, meta: { name?: string } = {}): SecretSource {
  return {
    apiVersion: 'secretsync.io/v1alpha1',
    kind: 'SecretSource',
    metadata: { name: meta.name ?? uniqueName('aws'), namespace, uid: `aws-uid-${++uidSeq}`, generation: 1 },
    spec: { aws: { region: requireEnv('AWS_REGION'), endpoint: requireEnv('AWS_ENDPOINT_URL'), ...aws } },
  };
}

/** A ClusterSecretSource with an aws block; with operatorIdentity it uses the process's default chain. */
export function awsClusterSource(aws: Partial<AwsProviderSpec> = {}, meta: { name?: string } = {}): ClusterSecretSource {
  return {
    apiVersion: 'secretsync.io/v1alpha1',
    kind: 'ClusterSecretSource',
    metadata: { name: meta.name ?? uniqueName('aws'), uid: `aws-uid-${++uidSeq}`, generation: 1 },
    spec: { aws: { region: requireEnv('AWS_REGION'), endpoint: requireEnv('AWS_ENDPOINT_URL'), ...aws } },
  };
}

export interface AwsCallLog {
  onCall: NonNullable<ProviderDeps['onCall']>;
  count(operation: string, result?: 'success' | 'error'): number;
  reset(): void;
}

export function awsCallLog(): AwsCallLog {
  let calls: { operation: string; result: 'success' | 'error' }[] = [];
  return {
    onCall: (operation, result) => calls.push({ operation, result }),
    count: (operation, result) => calls.filter((c) => c.operation === operation && (!result || c.result === result)).length,
    reset: () => {
      calls = [];
    },
  };
}

/** http://127.0.0.1:<port> where nothing listens. */
export async function closedEndpoint(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}

/** A value nobody would write by accident; tests assert it never reaches an error message. */
export function awsCanary(): string {
  return canary(uniqueName('aws'));
}
