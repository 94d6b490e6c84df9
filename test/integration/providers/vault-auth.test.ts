// The three auth methods against the real OpenBao and apiserver: token (from a Secret),
// AppRole (secret_id from a Secret) and Kubernetes (TokenRequest + TokenReview), plus the
// failures: refused credentials, references outside the source namespace, an unreachable
// Vault. No error message may contain a secret value or a credential.
import { ForbiddenError, SourceAuthError, SourceUnavailableError } from '../../../src/errors.js';
import type { SecretProvider } from '../../../src/providers/provider.js';
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
  rejection,
  root,
  tokenIsLive,
  tokenRecorder,
  VAULT_ADDR,
  vaultOverHttp,
  vaultSource,
} from './vault-fixtures.js';

const prefix = uniqueName('auth');
const path = `${prefix}/app`;
const policy = uniqueName('secretsync-auth');
const value = canary();
const credentials: string[] = [];
const messages: string[] = [];
const providers: SecretProvider[] = [];
let namespace: string;

function track<T extends SecretProvider>(p: T): T {
  providers.push(p);
  return p;
}

async function failure(p: Promise<unknown>): Promise<Error> {
  const err = await rejection(p);
  messages.push(err.message);
  return err;
}

beforeAll(async () => {
  await readPolicy(policy, [`secret/data/${prefix}/*`]);
  await root.write(`secret/data/${path}`, { data: { password: value } });
  namespace = await createNamespace('vault-auth');
});

afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  for (const m of messages) {
    expect(m).not.toContain(value);
    for (const c of credentials) expect(m).not.toContain(c);
  }
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
  const role = uniqueName('secretsync');
  const sa = 'secretsync-reader';
  const binding = uniqueName('secretsync-tokenreview');
  const AUD_MOUNT = 'kubernetes-secretsync-aud';

  beforeAll(async () => {
    await ensureAuth('kubernetes');
    const cluster = kc.getCurrentCluster();
    if (!cluster?.caData) throw new Error('the test kubeconfig has no certificate-authority-data');
    await root.write('auth/kubernetes/config', {
      kubernetes_host: cluster.server,
      kubernetes_ca_cert: Buffer.from(cluster.caData, 'base64').toString('utf8'),
      disable_local_ca_jwt: true,
    });
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: sa } } });
    // No token_reviewer_jwt: Vault calls TokenReview with the client's own JWT, so the SA needs auth-delegator.
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: binding },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
        subjects: [{ kind: 'ServiceAccount', name: sa, namespace }],
      },
    });
    await root.write(`auth/kubernetes/role/${role}`, {
      bound_service_account_names: [sa],
      bound_service_account_namespaces: [namespace],
      token_policies: [policy],
      token_ttl: '10m',
    });
    // A JWT for audience "vault" cannot authenticate to the apiserver, so this mount reviews
    // tokens with a reviewer JWT of its own (the same SA, apiserver audience).
    await ensureAuth('kubernetes', AUD_MOUNT);
    const reviewer = await kube.requestServiceAccountToken(namespace, sa, { expirationSeconds: 3600 });
    await root.write(`auth/${AUD_MOUNT}/config`, {
      kubernetes_host: cluster.server,
      kubernetes_ca_cert: Buffer.from(cluster.caData, 'base64').toString('utf8'),
      token_reviewer_jwt: reviewer.token,
      disable_local_ca_jwt: true,
    });
    await root.write(`auth/${AUD_MOUNT}/role/${role}`, {
      bound_service_account_names: [sa],
      bound_service_account_namespaces: [namespace],
      audience: 'vault',
      token_policies: [policy],
      token_ttl: '10m',
    });
  });

  afterAll(async () => {
    await root.delete(`auth/kubernetes/role/${role}`).catch(() => undefined);
    await root.delete(`auth/${AUD_MOUNT}/role/${role}`).catch(() => undefined);
    await rbac.deleteClusterRoleBinding({ name: binding }).catch(() => undefined);
  });

  test('logs in with a TokenRequest token of the service account, reads, and close() revokes', async () => {
    const log = callLog();
    const rec = tokenRecorder();
    const p = createVaultProviderFactory({ allowInsecureHttp: true, wrapHttp: rec.wrapHttp }).create(
      vaultSource(namespace, { auth: { kubernetes: { role, serviceAccountRef: { name: sa } } } }),
      deps(namespace, log),
    );
    expect((await p.getSecret({ path, property: 'password' })).value.toString()).toBe(value);
    expect(log.count('login', 'success')).toBe(1);
    const token = rec.tokens[0] as string;
    credentials.push(token);
    expect(await tokenIsLive(token)).toBe(true);
    await p.close();
    expect(await tokenIsLive(token)).toBe(false);
  });

  test('audiences from the spec reach the TokenRequest, at a non-default mount', async () => {
    const kubernetes = { mount: AUD_MOUNT, role, serviceAccountRef: { name: sa }, audiences: ['vault'] };
    const p = track(
      vaultOverHttp.create(
        vaultSource(namespace, { auth: { kubernetes } }),
        deps(namespace),
      ),
    );
    expect((await p.getSecret({ path, property: 'password' })).value.toString()).toBe(value);
  });

  test('a service account the role is not bound to is SourceAuthFailed', async () => {
    const other = 'not-bound';
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: other } } });
    const p = track(
      vaultOverHttp.create(vaultSource(namespace, { auth: { kubernetes: { role, serviceAccountRef: { name: other } } } }), deps(namespace)),
    );
    const err = await failure(p.getSecret({ path, property: 'password' }));
    expect(err).toBeInstanceOf(SourceAuthError);
    expect(err.message).toContain('auth/kubernetes/login');
  });

  test('a missing service account is SourceAuthFailed naming it', async () => {
    const p = track(
      vaultOverHttp.create(vaultSource(namespace, { auth: { kubernetes: { role, serviceAccountRef: { name: 'ghost' } } } }), deps(namespace)),
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
