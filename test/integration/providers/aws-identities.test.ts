// AWS identities ESO users bring, against a moto_server that enforces IAM
// (test/helpers/moto-auth.ts), with a recording proxy in front of it that keeps only the
// facts a test checks (which action, whether a session token header came, the ExternalId
// and tag keys/values of an AssumeRole), never a key or a token:
// - auth.secretRef.sessionTokenSecretRef: temporary keys (an STS session) read secrets,
//   every call carrying the session token; without it moto refuses the same keys;
// - externalId and sessionTags with roleArn: sent with STS AssumeRole, and moto records the
//   ExternalId on the role session it created;
// - and what is refused: either without roleArn or with webIdentity (by the CRD schema and
//   by the provider), a session token Secret of another namespace.
import { randomBytes } from 'node:crypto';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ForbiddenError, InvalidSpecError, SourceAuthError } from '../../../src/errors.js';
import type { SecretProvider } from '../../../src/providers/provider.js';
import { awsCanary, awsOverHttp, awsSource, createSecret, keysData, keysRef, secretsAdmin } from '../../helpers/aws.js';
import { startHttpRecorder, type HttpRecorder } from '../../helpers/http-recorder.js';
import { installCrds } from '../../helpers/kube.js';
import { startAuthMoto, type AuthMoto } from '../../helpers/moto-auth.js';
import { digestsOf } from '../../helpers/canary.js';
import { failureLog } from '../../helpers/rejection.js';
import { uniqueName } from '../../helpers/stack.js';
import { createNamespace, createSecret as createKubeSecret, deleteNamespace, deps, kc } from './vault-fixtures.js';

const secret = `${uniqueName('aws-ident')}/db`;
const CANARY = awsCanary();
const externalId = `ext-${randomBytes(6).toString('hex')}`;
const sessionTags = [
  { key: 'team', value: 'payments' },
  { key: 'cost-center', value: `cc-${randomBytes(3).toString('hex')}` },
];
const { messages, failure } = failureLog();
const providers: SecretProvider[] = [];
let moto: AuthMoto;
let recorder: HttpRecorder;
let admin: SecretsManagerClient;
let namespace: string;
let temporary: { accessKeyId: string; secretAccessKey: string; sessionToken: string };

function provider(aws: Parameters<typeof awsSource>[1]): SecretProvider {
  const p = awsOverHttp.create(awsSource(namespace, { region: moto.region, endpoint: recorder.url, ...aws }), deps(namespace));
  providers.push(p);
  return p;
}

beforeAll(async () => {
  moto = await startAuthMoto();
  recorder = await startHttpRecorder(moto.endpoint, {
    note: ({ headers, body }) => {
      const target = String(headers['x-amz-target'] ?? '');
      const form = new URLSearchParams(body.toString('utf8'));
      const notes: Record<string, string> = { action: target.split('.').pop() || form.get('Action') || '' };
      if (headers['x-amz-security-token']) notes.sessionToken = 'sent';
      if (form.get('Action') === 'AssumeRole') {
        notes.externalId = form.get('ExternalId') ?? '';
        const tags: string[] = [];
        for (let i = 1; form.has(`Tags.member.${i}.Key`); i++) tags.push(`${form.get(`Tags.member.${i}.Key`)}=${form.get(`Tags.member.${i}.Value`)}`);
        notes.tags = tags.join(',');
      }
      return notes;
    },
  });
  admin = secretsAdmin(moto.endpoint, moto.admin);
  await createSecret(admin, secret, { password: CANARY });
  // Temporary keys, as `aws sts assume-role` or an SSO login hands them out.
  const sts = new STSClient({ region: moto.region, endpoint: moto.endpoint, credentials: moto.roleUser });
  const out = await sts.send(new AssumeRoleCommand({ RoleArn: moto.roleArn, RoleSessionName: 'temporary-keys' }));
  sts.destroy();
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error('moto returned no temporary credentials');
  temporary = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
  namespace = await createNamespace('aws-ident');
  await createKubeSecret(namespace, 'temporary', { ...keysData(temporary), 'session-token': temporary.sessionToken });
  await createKubeSecret(namespace, 'role-user', keysData(moto.roleUser));
});

afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
  recorder.requests.splice(0);
});

afterAll(async () => {
  const forbidden = [CANARY, temporary?.secretAccessKey, temporary?.sessionToken, moto?.roleUser.secretAccessKey].filter((f): f is string => !!f);
  for (const m of messages) for (const f of forbidden) expect(m.includes(f)).toBe(false);
  admin?.destroy();
  await recorder?.close();
  await moto?.stop();
  await deleteNamespace(namespace);
});

const sessionAuth = (sessionTokenSecretRef: { name: string; key: string; namespace?: string }) => ({
  secretRef: { ...keysRef('temporary').secretRef!, sessionTokenSecretRef },
});

test('sessionTokenSecretRef: temporary keys read, every call carrying the session token', async () => {
  const p = provider({ auth: sessionAuth({ name: 'temporary', key: 'session-token' }) });
  expect(digestsOf({ v: (await p.getSecret({ path: secret, property: 'password' })).value.toString() })).toEqual(digestsOf({ v: CANARY }));
  const calls = recorder.requests.map((r) => r.notes ?? {});
  expect(calls.map((n) => n.action)).toContain('BatchGetSecretValue');
  expect(calls.every((n) => n.sessionToken === 'sent')).toBe(true);
});

test('the same temporary keys without their session token are refused: SourceAuthFailed', async () => {
  const p = provider({ auth: keysRef('temporary') });
  expect(await failure(p.getSecret({ path: secret, property: 'password' }))).toBeInstanceOf(SourceAuthError);
  expect(recorder.requests.some((r) => r.notes?.sessionToken)).toBe(false);
});

test('externalId and sessionTags go with STS AssumeRole of roleArn, and moto records the ExternalId', async () => {
  const p = provider({ auth: keysRef('role-user'), roleArn: moto.roleArn, externalId, sessionTags });
  expect(digestsOf({ v: (await p.getSecret({ path: secret, property: 'password' })).value.toString() })).toEqual(digestsOf({ v: CANARY }));
  const assumed = recorder.requests.filter((r) => r.notes?.action === 'AssumeRole');
  expect(assumed).toHaveLength(1);
  expect(assumed[0]?.notes).toMatchObject({ externalId, tags: sessionTags.map((t) => `${t.key}=${t.value}`).join(',') });
  // moto's own record of the role sessions it handed out (read, never printed: it holds keys).
  const data = (await (await fetch(`${moto.endpoint}/moto-api/data.json`)).json()) as {
    sts?: { AssumedRole?: { role_arn?: string; session_name?: string; external_id?: string | null }[] };
  };
  const sessions = (data.sts?.AssumedRole ?? []).filter((r) => r.role_arn === moto.roleArn && r.session_name !== 'temporary-keys');
  expect(sessions.map((r) => r.external_id)).toContain(externalId);
});

test('without externalId nothing of it is sent', async () => {
  const p = provider({ auth: keysRef('role-user'), roleArn: moto.roleArn });
  expect(digestsOf({ v: (await p.getSecret({ path: secret, property: 'password' })).value.toString() })).toEqual(digestsOf({ v: CANARY }));
  expect(recorder.requests.find((r) => r.notes?.action === 'AssumeRole')?.notes).toMatchObject({ externalId: '', tags: '' });
});

test('refused by the provider: externalId or sessionTags without roleArn or with webIdentity, a session token of another namespace', () => {
  const validate = (aws: Parameters<typeof awsSource>[1]) => () => awsOverHttp.validate(awsSource(namespace, { region: moto.region, ...aws }), namespace);
  expect(validate({ auth: keysRef('role-user'), externalId })).toThrow(InvalidSpecError);
  expect(validate({ auth: keysRef('role-user'), sessionTags })).toThrow(/set roleArn/);
  expect(validate({ auth: { webIdentity: { serviceAccountRef: { name: 'app' } } }, roleArn: moto.roleArn, externalId })).toThrow(/AssumeRoleWithWebIdentity/);
  expect(validate({ auth: sessionAuth({ name: 'temporary', key: 'session-token', namespace: 'kube-system' }) })).toThrow(ForbiddenError);
});

test('refused by the CRD schema: externalId without roleArn, sessionTags with webIdentity', async () => {
  await installCrds(kc); // this checkout's CRDs, with the rules for externalId and sessionTags
  const custom = kc.makeApiClient(CustomObjectsApi);
  const create = (aws: object) =>
    custom.createNamespacedCustomObject({
      group: 'secretsync.io',
      version: 'v1alpha1',
      namespace,
      plural: 'secretsources',
      body: { apiVersion: 'secretsync.io/v1alpha1', kind: 'SecretSource', metadata: { name: uniqueName('bad') }, spec: { aws: { region: 'us-east-1', ...aws } } },
    });
  const refusal = async (aws: object) => {
    const err = await failure(create(aws));
    return err.message;
  };
  expect(await refusal({ auth: keysRef('role-user'), externalId })).toContain('set roleArn, or remove them');
  expect(await refusal({ auth: { webIdentity: { serviceAccountRef: { name: 'app' } } }, roleArn: moto.roleArn, sessionTags })).toContain('AssumeRoleWithWebIdentity');
});
