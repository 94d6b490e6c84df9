// The three auth methods against the real OpenBao and apiserver: token (from a Secret),
// AppRole (secret_id from a Secret) and Kubernetes (TokenRequest of audience "vault" +
// TokenReview), plus the failures: refused credentials, references outside the source
// namespace, an unreachable Vault. No error message may contain a secret value or a
// credential.
import { AuthenticationV1Api } from '@kubernetes/client-node';
import { ForbiddenError, SourceAuthError, SourceUnavailableError } from '../../../src/errors.js';
import type { ProviderKube } from '../../../src/providers/provider.js';
import { ProviderRegistry } from '../../../src/providers/registry.js';
import { createVaultProviderFactory } from '../../../src/providers/vault/index.js';
import nodeVault from 'node-vault';
import { requireEnv, uniqueName } from '../../helpers/stack.js';
import {
  callLog,
  canary,
  closedPort,
  core,
  createNamespace,
  createSecret,
  deleteNamespace,
  deps,
  ensureAuth,
  kc,
  kube,
  rbac,
  readPolicy,
  root,
  tokenIsLive,
  tokenRecorder,
  VAULT_ADDR,
  vaultOverHttp,
  providerTracking,
  vaultSource,
} from './vault-fixtures.js';

const prefix = uniqueName('auth');
const path = `${prefix}/app`;
const policy = uniqueName('secretsync-auth');
const value = canary();
const { track, credentials, failure } = providerTracking(value);
let namespace: string;

beforeAll(async () => {
  await readPolicy(policy, [`secret/data/${prefix}/*`]);
  await root.write(`secret/data/${path}`, { data: { password: value } });
  namespace = await createNamespace('vault-auth');
});

afterAll(async () => {
  await root.delete(`secret/metadata/${path}`).catch(() => undefined);
  await root.delete(`sys/policy/${policy}`).catch(() => undefined);
  await deleteNamespace(namespace);
});

describe('token auth', () => {
  let token: string;

  beforeAll(async () => {
    const created = (await root.write('auth/token/create', { policies: [policy], ttl: '1h' })) as { auth: { client_token: string } };
    token = created.auth.client_token;
    credentials.push(token);
    await createSecret(namespace, 'good-token', { token: `${token}\n` }); // as `echo | kubectl create secret` leaves it
    await createSecret(namespace, 'bad-token', { token: 's.AAAAAAAAAAAAAAAAAAAAAAAA' });
    credentials.push('s.AAAAAAAAAAAAAAAAAAAAAAAA');
  });

  afterAll(async () => {
    await root.write('auth/token/revoke', { token }).catch(() => undefined);
  });

  test('reads with the token from the Secret, and close() leaves a token it did not create alone', async () => {
    const log = callLog();
    const p = vaultOverHttp.create(
      vaultSource(namespace, { auth: { token: { secretRef: { name: 'good-token', key: 'token' } } } }),
      deps(namespace, log),
    );
    expect((await p.getSecret({ path, property: 'password' })).value.toString()).toBe(value);
    await p.close();
    expect(log.count('revoke')).toBe(0);
    expect(await tokenIsLive(token)).toBe(true);
  });

  test('a token Vault does not know is SourceAuthFailed, after one re-read of the Secret', async () => {
    const log = callLog();
    const p = track(
      vaultOverHttp.create(vaultSource(namespace, { auth: { token: { secretRef: { name: 'bad-token', key: 'token' } } } }), deps(namespace, log)),
    );
    const err = await failure(p.getSecret({ path, property: 'password' }));
    expect(err).toBeInstanceOf(SourceAuthError);
    expect(err.message).toContain('SecretSource/');
    expect(err.message).toContain(path);
    expect(log.count('login')).toBe(2);
  });

  test('a missing token Secret is SourceAuthFailed naming the Secret', async () => {
    const p = track(vaultOverHttp.create(vaultSource(namespace, { auth: { token: { secretRef: { name: 'absent', key: 'token' } } } }), deps(namespace)));
    const err = await failure(p.getSecret({ path }));
    expect(err).toBeInstanceOf(SourceAuthError);
    expect(err.message).toContain(`${namespace}/absent`);
  });

  test('a Vault that does not listen is SourceUnavailable', async () => {
    const port = await closedPort();
    const log = callLog();
    const p = track(
      vaultOverHttp.create(
        vaultSource(namespace, { address: `http://127.0.0.1:${port}`, auth: { token: { secretRef: { name: 'good-token', key: 'token' } } } }),
        deps(namespace, log),
      ),
    );
    const err = await failure(p.getSecret({ path, property: 'password' }));
    expect(err).toBeInstanceOf(SourceUnavailableError);
    expect((err as SourceUnavailableError).retryable).toBe(true);
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(log.count('read', 'error')).toBe(1);
  });
});

describe('references outside the source namespace', () => {
  const registry = new ProviderRegistry().register(vaultOverHttp);

  test.each([
    ['token.secretRef', { token: { secretRef: { name: 't', key: 'token', namespace: 'kube-system' } } }],
    ['appRole.secretIdRef', { appRole: { roleId: 'r', secretIdRef: { name: 's', key: 'id', namespace: 'kube-system' } } }],
    ['kubernetes.serviceAccountRef', { kubernetes: { role: 'r', serviceAccountRef: { name: 'sa', namespace: 'kube-system' } } }],
  ])('%s in another namespace is Forbidden, at validation and at client creation', (_field, auth) => {
    const source = vaultSource(namespace, { auth });
    const check = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(ForbiddenError);
        expect((err as Error).message).toContain(`"${namespace}"`);
        expect((err as Error).message).toContain('"kube-system"');
        return;
      }
      throw new Error('expected ForbiddenError');
    };
    check(() => registry.validate(source, namespace));
    check(() => registry.client(source, deps(namespace)));
    expect(registry.size()).toBe(0);
  });

  test('the source namespace spelled out is allowed', () => {
    const source = vaultSource(namespace, { auth: { token: { secretRef: { name: 't', key: 'token', namespace } } } });
    expect(() => registry.validate(source, namespace)).not.toThrow();
  });
});

describe('AppRole auth', () => {
  const role = uniqueName('secretsync');
  let roleId: string;

  beforeAll(async () => {
    await ensureAuth('approle');
    await root.write(`auth/approle/role/${role}`, { token_policies: [policy], token_ttl: '10m', token_max_ttl: '1h' });
    roleId = ((await root.read(`auth/approle/role/${role}/role-id`)) as { data: { role_id: string } }).data.role_id;
    const secretId = ((await root.write(`auth/approle/role/${role}/secret-id`, {})) as { data: { secret_id: string } }).data.secret_id;
    credentials.push(secretId);
    await createSecret(namespace, 'approle', { 'secret-id': secretId, wrong: '00000000-1111-2222-3333-444444444444' });
  });

  afterAll(async () => {
    await root.delete(`auth/approle/role/${role}`).catch(() => undefined);
  });

  test('logs in with role_id and the secret_id from the Secret, reads, and close() revokes the token', async () => {
    const log = callLog();
    const rec = tokenRecorder();
    const p = createVaultProviderFactory({ allowInsecureHttp: true, wrapHttp: rec.wrapHttp }).create(
      vaultSource(namespace, { auth: { appRole: { roleId, secretIdRef: { name: 'approle', key: 'secret-id' } } } }),
      deps(namespace, log),
    );
    expect((await p.getSecret({ path, property: 'password' })).value.toString()).toBe(value);
    expect(rec.tokens).toHaveLength(1);
    const token = rec.tokens[0] as string;
    credentials.push(token);
    expect(await tokenIsLive(token)).toBe(true);
    await p.close();
    expect(await tokenIsLive(token)).toBe(false);
    expect(log.count('revoke', 'success')).toBe(1);
  });

  test('a wrong secret_id is SourceAuthFailed without the secret_id in the message', async () => {
    const p = track(
      vaultOverHttp.create(
        vaultSource(namespace, { auth: { appRole: { roleId, secretIdRef: { name: 'approle', key: 'wrong' } } } }),
        deps(namespace),
      ),
    );
    const err = await failure(p.getSecret({ path, property: 'password' }));
    expect(err).toBeInstanceOf(SourceAuthError);
    expect(err.message).toContain('auth/approle/login');
    expect(err.message).not.toContain('00000000-1111-2222-3333-444444444444');
  });
});

describe('Kubernetes auth', () => {
  const role = uniqueName('secretsync'); // audience "vault", the operator's default
  const customRole = uniqueName('secretsync-aud');
  const CUSTOM_AUDIENCE = 'https://vault.secretsync.test';
  const sa = 'secretsync-reader';
  const binding = uniqueName('secretsync-tokenreview');
  // A mount of this run's own: its config holds a reviewer JWT of this run's namespace.
  const mount = uniqueName('kubernetes');
  const jwts: { audiences: string[] | undefined; token: string }[] = [];
  /** The operator's ProviderKube, noting each TokenRequest it makes and the JWT it gets. */
  const recordingKube: ProviderKube = {
    ...kube,
    async requestServiceAccountToken(ns, name, opts) {
      const res = await kube.requestServiceAccountToken(ns, name, opts);
      jwts.push({ audiences: opts?.audiences, token: res.token });
      credentials.push(res.token);
      return res;
    },
  };
  const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { aud: string[] };
  const authenticates = async (token: string, audiences?: string[]) =>
    (await kc.makeApiClient(AuthenticationV1Api).createTokenReview({ body: { spec: { token, audiences } } })).status?.authenticated === true;

  beforeAll(async () => {
    await ensureAuth('kubernetes', mount);
    const cluster = kc.getCurrentCluster();
    if (!cluster?.caData) throw new Error('the test kubeconfig has no certificate-authority-data');
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: sa } } });
    // The reviewer JWT calls TokenReview, so its SA needs auth-delegator.
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: binding },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
        subjects: [{ kind: 'ServiceAccount', name: sa, namespace }],
      },
    });
    // A JWT of audience "vault" cannot authenticate to the API server, so it cannot review
    // itself: Vault reviews with a JWT of its own (the same SA, the API server's audience).
    const reviewer = await kube.requestServiceAccountToken(namespace, sa, { expirationSeconds: 3600 });
    credentials.push(reviewer.token);
    await root.write(`auth/${mount}/config`, {
      kubernetes_host: cluster.server,
      kubernetes_ca_cert: Buffer.from(cluster.caData, 'base64').toString('utf8'),
      token_reviewer_jwt: reviewer.token,
      disable_local_ca_jwt: true,
    });
    for (const [name, audience] of [
      [role, 'vault'],
      [customRole, CUSTOM_AUDIENCE],
    ]) {
      await root.write(`auth/${mount}/role/${name}`, {
        bound_service_account_names: [sa],
        bound_service_account_namespaces: [namespace],
        audience,
        token_policies: [policy],
        token_ttl: '10m',
      });
    }
  });

  afterAll(async () => {
    await root.delete(`sys/auth/${mount}`).catch(() => undefined);
    await rbac.deleteClusterRoleBinding({ name: binding }).catch(() => undefined);
  });

  test('logs in with a TokenRequest token of audience "vault" (good for nothing else), reads, and close() revokes', async () => {
    const log = callLog();
    const rec = tokenRecorder();
    jwts.length = 0;
    const p = createVaultProviderFactory({ allowInsecureHttp: true, wrapHttp: rec.wrapHttp }).create(
      vaultSource(namespace, { auth: { kubernetes: { mount, role, serviceAccountRef: { name: sa } } } }),
      { ...deps(namespace, log), kube: recordingKube },
    );
    expect((await p.getSecret({ path, property: 'password' })).value.toString()).toBe(value);
    expect(log.count('login', 'success')).toBe(1);
    expect(jwts.map((j) => j.audiences)).toEqual([['vault']]);
    const jwt = jwts[0]?.token ?? '';
    expect(claims(jwt).aud).toEqual(['vault']);
    expect(await authenticates(jwt)).toBe(false); // the API server does not accept it...
    expect(await authenticates(jwt, ['vault'])).toBe(true); // ...only a reviewer asking for "vault"
    const token = rec.tokens[0] as string;
    credentials.push(token);
    expect(await tokenIsLive(token)).toBe(true);
    await p.close();
    expect(await tokenIsLive(token)).toBe(false);
  });

  test('a role that expects another audience refuses the default token: SourceAuthFailed', async () => {
    const p = track(
      vaultOverHttp.create(vaultSource(namespace, { auth: { kubernetes: { mount, role: customRole, serviceAccountRef: { name: sa } } } }), deps(namespace)),
    );
    const err = await failure(p.getSecret({ path, property: 'password' }));
    expect(err).toBeInstanceOf(SourceAuthError);
    expect(err.message).toContain(`auth/${mount}/login`);
  });

  test('audiences from the spec replace the default', async () => {
    jwts.length = 0;
    const kubernetes = { mount, role: customRole, serviceAccountRef: { name: sa }, audiences: [CUSTOM_AUDIENCE] };
    const p = track(vaultOverHttp.create(vaultSource(namespace, { auth: { kubernetes } }), { ...deps(namespace), kube: recordingKube }));
    expect((await p.getSecret({ path, property: 'password' })).value.toString()).toBe(value);
    expect(claims(jwts[0]?.token ?? '').aud).toEqual([CUSTOM_AUDIENCE]);
  });

  test('a service account the role is not bound to is SourceAuthFailed', async () => {
    const other = 'not-bound';
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: other } } });
    const p = track(
      vaultOverHttp.create(vaultSource(namespace, { auth: { kubernetes: { mount, role, serviceAccountRef: { name: other } } } }), deps(namespace)),
    );
    const err = await failure(p.getSecret({ path, property: 'password' }));
    expect(err).toBeInstanceOf(SourceAuthError);
    expect(err.message).toContain(`auth/${mount}/login`);
  });

  test('a missing service account is SourceAuthFailed naming it', async () => {
    const p = track(
      vaultOverHttp.create(vaultSource(namespace, { auth: { kubernetes: { mount, role, serviceAccountRef: { name: 'ghost' } } } }), deps(namespace)),
    );
    const err = await failure(p.getSecret({ path }));
    expect(err).toBeInstanceOf(SourceAuthError);
    expect(err.message).toContain(`${namespace}/ghost`);
  });
});

describe('Vault namespaces', () => {
  const vaultNamespace = uniqueName('team');
  const inNs = nodeVault({ apiVersion: 'v1', endpoint: VAULT_ADDR, token: requireEnv('VAULT_TOKEN'), namespace: vaultNamespace });
  const nsValue = canary();

  beforeAll(async () => {
    await root.write(`sys/namespaces/${vaultNamespace}`, {});
    await inNs.write('sys/mounts/secret', { type: 'kv', options: { version: '2' } });
    await inNs.write(`secret/data/${path}`, { data: { password: nsValue } });
    await inNs.write('sys/policy/reader', { policy: 'path "secret/data/*" { capabilities = ["read"] }' });
    const created = (await inNs.write('auth/token/create', { policies: ['reader'], ttl: '1h' })) as { auth: { client_token: string } };
    credentials.push(created.auth.client_token);
    await createSecret(namespace, 'ns-token', { token: created.auth.client_token });
  });

  afterAll(async () => {
    await root.delete(`sys/namespaces/${vaultNamespace}`).catch(() => undefined);
  });

  test('spec.vault.namespace is sent as X-Vault-Namespace', async () => {
    const auth = { token: { secretRef: { name: 'ns-token', key: 'token' } } };
    const p = track(vaultOverHttp.create(vaultSource(namespace, { namespace: vaultNamespace, auth }), deps(namespace)));
    expect((await p.getSecret({ path, property: 'password' })).value.toString()).toBe(nsValue);
    // The same token without the namespace is a token of no namespace we know.
    const outside = track(vaultOverHttp.create(vaultSource(namespace, { auth }), deps(namespace)));
    expect(await failure(outside.getSecret({ path, property: 'password' }))).toBeInstanceOf(SourceAuthError);
  });
});
