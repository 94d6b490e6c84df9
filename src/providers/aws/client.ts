// The only file that imports the AWS SDK. It exposes just the calls the provider makes
// (BatchGetSecretValue, GetSecretValue, ListSecrets for dataFrom find, STS AssumeRole, and for rotation DescribeSecret,
// PutSecretValue and UpdateSecretVersionStage) as plain data, so nothing else
// handles SDK types. Each client makes exactly one attempt per call (we retry, back off
// and count calls ourselves) and ignores AWS_ENDPOINT_URL* and config-file endpoints, so
// only the SecretSource decides where we connect. Credentials must always be given: ours
// (static keys, a role's temporary credentials) or DEFAULT_CHAIN, the one explicit way to
// the SDK's default chain (IRSA, EKS pod identity, environment, instance metadata). There
// is no "undefined means the default chain": a forgotten credential fails, never borrows.
import {
  BatchGetSecretValueCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
  type SecretValueEntry,
} from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DEFAULT_CHAIN, MALFORMED_ANSWER, boundResponses, sdkClientConfig, type AwsClientOptions, type AwsCredentials } from './client-config.js';

// The credential and option types live in client-config.ts (the KMS adapter shares them).
export { DEFAULT_CHAIN };
export type { AwsClientOptions, AwsCredentials, ClientCredentials, CredentialProvider } from './client-config.js';

/** One secret version as Secrets Manager returns it. */
export interface SecretValue {
  arn?: string;
  name?: string;
  versionId?: string;
  secretString?: string;
  secretBinary?: Uint8Array;
}

/** A per-secret failure inside a BatchGetSecretValue answer. */
export interface BatchError {
  secretId?: string;
  errorCode?: string;
  message?: string;
}

export interface BatchAnswer {
  values: SecretValue[];
  errors: BatchError[];
  nextToken?: string;
}

/** What DescribeSecret tells about a secret's versions (no values). */
export interface SecretDescription {
  arn?: string;
  name?: string;
  /** VersionId → its staging labels (AWSCURRENT, AWSPREVIOUS, AWSPENDING, custom). */
  versionIdsToStages: Record<string, string[]>;
}

/** One page of ListSecrets: each secret's name and tags. */
export interface SecretListPage {
  secrets: { name: string; tags: Record<string, string> }[];
  nextToken?: string;
}

/** One UpdateSecretVersionStage: move `versionStage` to a version, off a version, or both. */
export interface StageMove {
  versionStage: string;
  moveToVersionId?: string;
  removeFromVersionId?: string;
}

export interface SecretsApi {
  /** BatchGetSecretValue by SecretIdList (at most 20 ids): the AWSCURRENT version of each. */
  batchGetSecretValue(secretIds: string[], nextToken?: string): Promise<BatchAnswer>;
  /** GetSecretValue, optionally pinned to a VersionId or a staging label. */
  getSecretValue(secretId: string, pin?: { versionId?: string; versionStage?: string }): Promise<SecretValue>;
  describeSecret(secretId: string): Promise<SecretDescription>;
  /** One page of ListSecrets (names and tags, never values), AND-ed filters as AWS takes them. */
  listSecrets(filters: { key: 'name' | 'tag-key' | 'tag-value'; values: string[] }[], nextToken?: string): Promise<SecretListPage>;
  /** PutSecretValue of a SecretString; ClientRequestToken makes a repeat of the same call a no-op. Returns the VersionId. */
  putSecretValue(secretId: string, put: { clientRequestToken: string; secretString: string; versionStages: string[] }): Promise<string>;
  updateSecretVersionStage(secretId: string, move: StageMove): Promise<void>;
  destroy(): void;
}

/** What AssumeRole sends besides role, session name and duration (spec.aws.externalId, sessionTags). */
export interface AssumeRoleExtras {
  externalId?: string;
  tags?: { key: string; value: string }[];
}

export interface StsApi {
  assumeRole(roleArn: string, sessionName: string, durationSeconds: number, extras?: AssumeRoleExtras): Promise<AwsCredentials>;
  /** Unsigned: the web identity token is the credential. */
  assumeRoleWithWebIdentity(roleArn: string, sessionName: string, token: string, durationSeconds: number): Promise<AwsCredentials>;
  destroy(): void;
}

function toValue(e: SecretValueEntry): SecretValue {
  return { arn: e.ARN, name: e.Name, versionId: e.VersionId, secretString: e.SecretString, secretBinary: e.SecretBinary };
}

const malformed = (why: string) => Object.assign(new Error(why), { name: MALFORMED_ANSWER });

/** Secrets Manager names every secret it answers about (ARN and Name); anything else is not its answer. */
function namesASecret(e: { ARN?: unknown; Name?: unknown }): boolean {
  return typeof e.ARN === 'string' || typeof e.Name === 'string';
}

/** SecretValues / Errors of a BatchGetSecretValue answer: absent, or a list of entries that each name a secret. */
function entries<T extends { ARN?: unknown; Name?: unknown; SecretId?: unknown }>(list: unknown, field: string): T[] {
  if (list === undefined || list === null) return [];
  const ok = Array.isArray(list) && list.every((e) => typeof e === 'object' && e !== null && !Array.isArray(e) && (namesASecret(e as T) || typeof (e as T).SecretId === 'string'));
  if (!ok) throw malformed(`${field} is not a list of secrets`);
  return list as T[];
}

export function createSecretsApi(o: AwsClientOptions): SecretsApi {
  const client = boundResponses(new SecretsManagerClient(sdkClientConfig(o)), o);
  return {
    async batchGetSecretValue(secretIds, nextToken) {
      const out = await client.send(new BatchGetSecretValueCommand({ SecretIdList: secretIds, NextToken: nextToken }));
      return {
        values: entries<SecretValueEntry>(out.SecretValues, 'SecretValues').map(toValue),
        errors: entries<NonNullable<typeof out.Errors>[number]>(out.Errors, 'Errors').map((e) => ({ secretId: e.SecretId, errorCode: e.ErrorCode, message: e.Message })),
        nextToken: out.NextToken || undefined,
      };
    },
    async getSecretValue(secretId, pin = {}) {
      const out = await client.send(
        new GetSecretValueCommand({ SecretId: secretId, VersionId: pin.versionId, VersionStage: pin.versionStage }),
      );
      if (!namesASecret(out)) throw malformed('it names no secret');
      return toValue(out);
    },
    async describeSecret(secretId) {
      const out = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
      return { arn: out.ARN, name: out.Name, versionIdsToStages: out.VersionIdsToStages ?? {} };
    },
    async listSecrets(filters, nextToken) {
      const out = await client.send(
        new ListSecretsCommand({ Filters: filters.map((f) => ({ Key: f.key, Values: f.values })), NextToken: nextToken, MaxResults: 100 }),
      );
      if (out.SecretList !== undefined && !Array.isArray(out.SecretList)) throw malformed('SecretList is not a list');
      return {
        secrets: (out.SecretList ?? [])
          .filter((e) => typeof e.Name === 'string')
          .map((e) => ({ name: e.Name as string, tags: Object.fromEntries((e.Tags ?? []).flatMap((t) => (t.Key !== undefined ? [[t.Key, t.Value ?? '']] : []))) })),
        nextToken: out.NextToken || undefined,
      };
    },
    async putSecretValue(secretId, put) {
      const out = await client.send(
        new PutSecretValueCommand({
          SecretId: secretId,
          ClientRequestToken: put.clientRequestToken,
          SecretString: put.secretString,
          VersionStages: put.versionStages,
        }),
      );
      return out.VersionId ?? put.clientRequestToken;
    },
    async updateSecretVersionStage(secretId, move) {
      await client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretId,
          VersionStage: move.versionStage,
          MoveToVersionId: move.moveToVersionId,
          RemoveFromVersionId: move.removeFromVersionId,
        }),
      );
    },
    destroy: () => client.destroy(),
  };
}

function roleCredentials(
  c: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string; Expiration?: Date } | undefined,
  operation: string,
): AwsCredentials {
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
    throw Object.assign(new Error(`${operation} answered without credentials`), { name: 'MissingCredentials' });
  }
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
}

export function createStsApi(o: AwsClientOptions): StsApi {
  const client = boundResponses(new STSClient(sdkClientConfig(o)), o);
  return {
    async assumeRole(roleArn, sessionName, durationSeconds, extras = {}) {
      const out = await client.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: sessionName,
          DurationSeconds: durationSeconds,
          ...(extras.externalId ? { ExternalId: extras.externalId } : {}),
          ...(extras.tags?.length ? { Tags: extras.tags.map((t) => ({ Key: t.key, Value: t.value })) } : {}),
        }),
      );
      return roleCredentials(out.Credentials, 'AssumeRole');
    },
    async assumeRoleWithWebIdentity(roleArn, sessionName, token, durationSeconds) {
      const out = await client.send(
        new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: sessionName, WebIdentityToken: token, DurationSeconds: durationSeconds }),
      );
      return roleCredentials(out.Credentials, 'AssumeRoleWithWebIdentity');
    },
    destroy: () => client.destroy(),
  };
}
