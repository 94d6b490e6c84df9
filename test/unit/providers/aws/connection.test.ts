// Whose credentials each AWS auth method builds its clients with, over scripted ports (no
// SDK): static keys, a service account's token exchanged through AssumeRoleWithWebIdentity,
// the default chain only for a ClusterSecretSource that says operatorIdentity, and no
// client at all for a source without auth. The SDK config refuses "no credentials".
import type { AnySource, AwsAuth, AwsProviderSpec } from '../../../../src/api/types.js';
import { IdentityNotAllowedError } from '../../../../src/errors.js';
import { DEFAULT_CHAIN, sdkClientConfig } from '../../../../src/providers/aws/client-config.js';
import type { AwsClientOptions, AwsCredentials, SecretsApi, StsApi } from '../../../../src/providers/aws/client.js';
import { Connection } from '../../../../src/providers/aws/connection.js';
import type { ProviderKube } from '../../../../src/providers/provider.js';

const ROLE = 'arn:aws:iam::123456789012:role/tenant';
const KEYS = { secretRef: { accessKeyIdRef: { name: 'aws', key: 'id' }, secretAccessKeyRef: { name: 'aws', key: 'secret' } } };
const WEB = { webIdentity: { serviceAccountRef: { name: 'app' } } };
const ROLE_CREDS: AwsCredentials = { accessKeyId: 'ASIAROLE', secretAccessKey: 'role-secret', sessionToken: 'role-session', expiration: new Date(3_600_000) };

function setup(kind: AnySource['kind'], auth: AwsAuth | undefined, extra: Partial<AwsProviderSpec> = {}) {
  const made: { secrets: AwsClientOptions[]; sts: AwsClientOptions[] } = { secrets: [], sts: [] };
  const tokens: { namespace: string; name: string; audiences?: string[] }[] = [];
  const exchanged: { roleArn: string; token: string }[] = [];
  const assumed: string[] = [];
  const extras: unknown[] = [];
  const kube: ProviderKube = {
    readSecretKey: async (_ns, _name, key) => Buffer.from(key === 'id' ? 'AKIASTATIC' : key === 'token' ? 'static-session\n' : 'static-secret'),
    requestServiceAccountToken: async (namespace, name, o) => {
      tokens.push({ namespace, name, audiences: o?.audiences });
      return { token: `jwt-${tokens.length}`, expiresAt: new Date(600_000) };
    },
  };
  const sts: StsApi = {
    assumeRole: async (roleArn, _session, _duration, extra) => {
      assumed.push(roleArn);
      extras.push(extra);
      return ROLE_CREDS;
    },
    assumeRoleWithWebIdentity: async (roleArn, _session, token) => {
      exchanged.push({ roleArn, token });
      return ROLE_CREDS;
    },
    destroy: () => undefined,
  };
  const secrets: SecretsApi = {
    batchGetSecretValue: async () => ({ values: [], errors: [] }),
    getSecretValue: async () => ({}),
    describeSecret: async () => ({ versionIdsToStages: {} }),
    putSecretValue: async () => '',
    updateSecretVersionStage: async () => undefined,
    listSecrets: async () => ({ secrets: [] }),
    destroy: () => undefined,
  };
  const connection = new Connection({
    source: kind === 'SecretSource' ? 'SecretSource/tenant/aws' : 'ClusterSecretSource/aws',
    kind,
    spec: { region: 'eu-west-1', ...(auth ? { auth } : {}), ...extra },
    kube,
    secretNamespace: kind === 'SecretSource' ? 'tenant' : 'secretsync-system',
    timeoutMs: 1000,
    sessionName: 'secretsync',
    roleDurationSeconds: 3600,
    makeSecretsApi: (o) => {
      made.secrets.push(o);
      return secrets;
    },
    makeStsApi: (o) => {
      made.sts.push(o);
      return sts;
    },
    makeKms: () => {
      throw new Error('not used');
    },
  });
  return { connection, made, tokens, exchanged, assumed, extras };
}

/** What the Secrets Manager client's credentials resolve to. */
async function resolved(o: AwsClientOptions | undefined): Promise<AwsCredentials | typeof DEFAULT_CHAIN> {
  const c = o?.credentials;
  if (c === undefined) throw new Error('no client made');
  if (c === DEFAULT_CHAIN) return c;
  return typeof c === 'function' ? c() : c;
}

test('secretRef: the static keys of the source namespace, never the default chain', async () => {
  const s = setup('SecretSource', KEYS);
  await s.connection.use(async () => undefined);
  expect(await resolved(s.made.secrets[0])).toEqual({ accessKeyId: 'AKIASTATIC', secretAccessKey: 'static-secret' });
  expect(s.made.sts).toEqual([]);
});

test('secretRef with sessionTokenSecretRef: the session token goes with the keys', async () => {
  const s = setup('SecretSource', { secretRef: { ...KEYS.secretRef, sessionTokenSecretRef: { name: 'aws', key: 'token' } } });
  await s.connection.use(async () => undefined);
  expect(await resolved(s.made.secrets[0])).toEqual({ accessKeyId: 'AKIASTATIC', secretAccessKey: 'static-secret', sessionToken: 'static-session' });
});

test('roleArn with externalId and sessionTags: both go with AssumeRole; without them nothing extra', async () => {
  const sessionTags = [{ key: 'team', value: 'a' }];
  const s = setup('SecretSource', KEYS, { roleArn: ROLE, externalId: 'ext-1', sessionTags });
  await s.connection.use(async () => undefined);
  expect(await resolved(s.made.secrets[0])).toEqual(ROLE_CREDS);
  expect(s.extras).toEqual([{ externalId: 'ext-1', tags: sessionTags }]);
  const plain = setup('SecretSource', KEYS, { roleArn: ROLE });
  await resolved(plain.made.secrets[0] ?? (await plain.connection.use(async () => undefined), plain.made.secrets[0]));
  expect(plain.extras).toEqual([{ externalId: undefined, tags: undefined }]);
});

test('webIdentity: a token of the source namespace\'s service account for sts.amazonaws.com, exchanged for roleArn', async () => {
  const s = setup('SecretSource', WEB, { roleArn: ROLE });
  await s.connection.use(async () => undefined);
  expect(await resolved(s.made.secrets[0])).toEqual(ROLE_CREDS);
  expect(s.tokens).toEqual([{ namespace: 'tenant', name: 'app', audiences: ['sts.amazonaws.com'] }]);
  expect(s.exchanged).toEqual([{ roleArn: ROLE, token: 'jwt-1' }]);
  expect(s.assumed).toEqual([]); // no AssumeRole: the web identity is the role
  // The STS client itself may not sign with anything: its credentials refuse.
  const stsCreds = s.made.sts[0]?.credentials;
  expect(typeof stsCreds).toBe('function');
  await expect((stsCreds as () => Promise<AwsCredentials>)()).rejects.toThrow(/unsigned/);
  // Renewal (the SDK calls the provider again before expiry) presents a fresh token.
  await resolved(s.made.secrets[0]);
  expect(s.exchanged.map((e) => e.token)).toEqual(['jwt-1', 'jwt-2']);
});

test('webIdentity on a ClusterSecretSource: the service account of the operator namespace', async () => {
  const s = setup('ClusterSecretSource', WEB, { roleArn: ROLE });
  await s.connection.use(async () => undefined);
  await resolved(s.made.secrets[0]);
  expect(s.tokens[0]).toMatchObject({ namespace: 'secretsync-system', name: 'app' });
});

test('operatorIdentity on a ClusterSecretSource: the default chain, said explicitly; with roleArn assumed from it', async () => {
  const plain = setup('ClusterSecretSource', { operatorIdentity: {} });
  await plain.connection.use(async () => undefined);
  expect(plain.made.secrets[0]?.credentials).toBe(DEFAULT_CHAIN);
  const role = setup('ClusterSecretSource', { operatorIdentity: {} }, { roleArn: ROLE });
  await role.connection.use(async () => undefined);
  expect(role.made.sts[0]?.credentials).toBe(DEFAULT_CHAIN);
  expect(await resolved(role.made.secrets[0])).toEqual(ROLE_CREDS);
  expect(role.assumed).toEqual([ROLE]);
});

test.each([
  ['SecretSource', undefined, {}],
  ['SecretSource', undefined, { roleArn: ROLE }],
  ['SecretSource', { operatorIdentity: {} }, { roleArn: ROLE }],
  ['ClusterSecretSource', undefined, {}],
  ['ClusterSecretSource', undefined, { roleArn: ROLE }],
] as [AnySource['kind'], AwsAuth | undefined, Partial<AwsProviderSpec>][])('%s with auth %j and %j: refused before any client exists', async (kind, auth, extra) => {
  const s = setup(kind, auth, extra);
  let ran = false;
  await expect(s.connection.use(async () => (ran = true))).rejects.toBeInstanceOf(IdentityNotAllowedError);
  expect(ran).toBe(false);
  expect(s.made).toEqual({ secrets: [], sts: [] });
  expect(s.tokens).toEqual([]);
});

test('the SDK config has no "no credentials": undefined is refused, DEFAULT_CHAIN is the only way to the chain', () => {
  const base = { region: 'eu-west-1', timeoutMs: 1000 };
  expect(() => sdkClientConfig({ ...base, credentials: undefined } as unknown as AwsClientOptions)).toThrow(/without credentials/);
  expect(sdkClientConfig({ ...base, credentials: DEFAULT_CHAIN })).not.toHaveProperty('credentials');
  expect(sdkClientConfig({ ...base, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }).credentials).toEqual({ accessKeyId: 'a', secretAccessKey: 'b' });
});
