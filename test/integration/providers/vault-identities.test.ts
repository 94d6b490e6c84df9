// The identities ESO users bring, logging in for real:
// - JWT/OIDC auth (spec.vault.auth.jwt) on the stack's OpenBao, its jwt method checking the
//   API server's service-account tokens with the issuer's public key (from /openid/v1/jwks):
//   a TokenRequest of the source namespace's service account, or a JWT kept in a Secret;
//   a JWT for the API server's own audience is never sent;
// - TLS certificate auth (auth.cert) and a client certificate for the listener
//   (spec.vault.tls), against an OpenBao of this file's own whose TLS listener requires
//   and verifies client certificates (tls_require_and_verify_client_cert);
// - Enterprise namespaces (spec.vault.namespace, X-Vault-Namespace): a secret of
//   namespace team-a is read with it, and the same path outside the namespace is not.
// No error message may hold a secret value, a token, a key or a certificate.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodeVault from 'node-vault';
import { ForbiddenError, IdentityNotAllowedError, SourceAuthError, SourceNotFoundError, SourceUnavailableError } from '../../../src/errors.js';
import { createVaultProviderFactory } from '../../../src/providers/vault/index.js';
import { eventually } from '../../helpers/eventually.js';
import { digestsOf } from '../../helpers/canary.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';
import { generateCerts, generateClientCerts, type Pem, type TestenvCerts } from '../../testenv/certs.js';
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
  readPolicy,
  root,
  vaultOverHttp,
  providerTracking,
  vaultSource,
} from './vault-fixtures.js';

const value = canary();
const { track, credentials, failure } = providerTracking(value);
let namespace: string;

beforeAll(async () => {
  namespace = await createNamespace('vault-ident');
});

afterAll(async () => {
  await deleteNamespace(namespace);
});

describe('JWT/OIDC auth', () => {
  const mount = uniqueName('jwt');
  const role = 'app';
  const prefix = uniqueName('jwt');
  const path = `${prefix}/app`;
  const policy = uniqueName('secretsync-jwt');
  const sa = 'reader';

  beforeAll(async () => {
    // The API server's service-account signing keys, as the issuer publishes them.
    const jwks = JSON.parse(
      execFileSync(join(requireEnv('SECRETSYNC_TESTENV_BIN'), 'kubectl'), ['get', '--raw', '/openid/v1/jwks'], { encoding: 'utf8' }),
    ) as { keys: object[] };
    const pubkeys = jwks.keys.map((k) => createPublicKey({ key: k as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString());
    await ensureAuth('jwt', mount);
    await root.write(`auth/${mount}/config`, { jwt_validation_pubkeys: pubkeys, bound_issuer: 'https://kubernetes.default.svc.cluster.local' });
    await readPolicy(policy, [`secret/data/${prefix}/*`]);
    await root.write(`auth/${mount}/role/${role}`, {
      role_type: 'jwt',
      user_claim: 'sub',
      bound_audiences: ['vault'],
      bound_subject: `system:serviceaccount:${namespace}:${sa}`,
      token_policies: [policy],
      token_ttl: '10m',
    });
    await root.write(`secret/data/${path}`, { data: { password: value } });
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: sa } } });
  });

  afterAll(async () => {
    await root.delete(`sys/auth/${mount}`).catch(() => undefined);
    await root.delete(`secret/metadata/${path}`).catch(() => undefined);
    await root.delete(`sys/policy/${policy}`).catch(() => undefined);
  });

  async function saToken(audiences?: string[]): Promise<string> {
    const res = await core.createNamespacedServiceAccountToken({
      namespace,
      name: sa,
      body: { spec: { audiences: audiences ?? [], expirationSeconds: 600 } },
    });
    const token = res.status?.token ?? '';
    credentials.push(token);
    return token;
  }

  test('kubernetesServiceAccountToken: a TokenRequest of audience vault logs in and reads', async () => {
    const log = callLog();
    const p = track(
      vaultOverHttp.create(
        vaultSource(namespace, { auth: { jwt: { mount, role, kubernetesServiceAccountToken: { serviceAccountRef: { name: sa } } } } }),
        deps(namespace, log),
      ),
    );
    expect(digestsOf({ v: (await p.getSecret({ path, property: 'password' })).value.toString() })).toEqual(digestsOf({ v: value }));
    expect(log.count('login', 'success')).toBe(1);
  });

  test('secretRef: a JWT kept in a Secret of the source namespace logs in and reads', async () => {
    await createSecret(namespace, 'jwt', { token: `${await saToken(['vault'])}\n` });
    const p = track(vaultOverHttp.create(vaultSource(namespace, { auth: { jwt: { mount, role, secretRef: { name: 'jwt', key: 'token' } } } }), deps(namespace)));
    expect(digestsOf({ v: (await p.getSecret({ path, property: 'password' })).value.toString() })).toEqual(digestsOf({ v: value }));
  });

  test("a JWT in a Secret whose audience is the API server's is never sent: IdentityNotAllowed, no login", async () => {
    await createSecret(namespace, 'api-jwt', { token: await saToken() }); // no audience: the API server's own
    const sent: string[] = []; // the paths of the requests that reached Vault
    const watched = createVaultProviderFactory({
      allowInsecureHttp: true,
      wrapHttp: (http) => ({
        read: (p, token) => (sent.push(p), http.read(p, token)),
        write: (p, body, token) => (sent.push(p), http.write(p, body, token)),
      }),
    });
    const p = track(watched.create(vaultSource(namespace, { auth: { jwt: { mount, role, secretRef: { name: 'api-jwt', key: 'token' } } } }), deps(namespace)));
    const err = await failure(p.getSecret({ path, property: 'password' }));
    expect(err).toBeInstanceOf(IdentityNotAllowedError);
    expect(err.message).toContain('an audience of the API server itself');
    expect(err.message).toContain(`${namespace}/api-jwt`);
    expect(sent).toEqual([]);
  });

  test("kubernetesServiceAccountToken with an audience of the API server is refused before any token is requested", () => {
    const source = vaultSource(namespace, {
      auth: { jwt: { mount, role, kubernetesServiceAccountToken: { serviceAccountRef: { name: sa }, audiences: ['https://kubernetes.default.svc.cluster.local'] } } },
    });
    expect(() => vaultOverHttp.validate(source, namespace)).toThrow(IdentityNotAllowedError);
  });

  test('a Vault role bound to another audience refuses the token: SourceAuthFailed naming the login path', async () => {
    const p = track(
      vaultOverHttp.create(
        vaultSource(namespace, { auth: { jwt: { mount, role, kubernetesServiceAccountToken: { serviceAccountRef: { name: sa }, audiences: ['not-vault'] } } } }),
        deps(namespace),
      ),
    );
    const err = await failure(p.getSecret({ path, property: 'password' }));
    expect(err).toBeInstanceOf(SourceAuthError);
    expect(err.message).toContain(`auth/${mount}/login`);
  });

  test.each([
    ['secretRef', { secretRef: { name: 'jwt', key: 'token', namespace: 'kube-system' } }],
    ['kubernetesServiceAccountToken', { kubernetesServiceAccountToken: { serviceAccountRef: { name: 'default', namespace: 'kube-system' } } }],
  ])('jwt.%s in another namespace is Forbidden', (_field, from) => {
    const source = vaultSource(namespace, { auth: { jwt: { mount, role, ...from } } });
    expect(() => vaultOverHttp.validate(source, namespace)).toThrow(ForbiddenError);
  });
});

describe('Enterprise namespaces (X-Vault-Namespace)', () => {
  const teamA = uniqueName('team-a');
  const path = `${uniqueName('ns')}/app`;
  const policy = 'read-app';
  let inTeamA: ReturnType<typeof nodeVault>;
  let teamToken: string;

  beforeAll(async () => {
    await root.write(`sys/namespaces/${teamA}`, {});
    inTeamA = nodeVault({ apiVersion: 'v1', endpoint: requireEnv('VAULT_ADDR'), token: requireEnv('VAULT_TOKEN'), namespace: teamA });
    await inTeamA.write('sys/mounts/secret', { type: 'kv', options: { version: '2' } });
    await inTeamA.write(`sys/policy/${policy}`, { policy: `path "secret/data/${path}" { capabilities = ["read"] }` });
    await eventually(async () => (await inTeamA.write(`secret/data/${path}`, { data: { password: value } }), true), { what: 'the KV mount of team-a' });
    teamToken = ((await inTeamA.write('auth/token/create', { policies: [policy], ttl: '1h' })) as { auth: { client_token: string } }).auth.client_token;
    credentials.push(teamToken);
    await createSecret(namespace, 'team-a-token', { token: teamToken });
    await createSecret(namespace, 'root-token', { token: requireEnv('VAULT_TOKEN') });
    credentials.push(requireEnv('VAULT_TOKEN'));
  });

  afterAll(async () => {
    await inTeamA.delete(`sys/mounts/secret`).catch(() => undefined);
    await root.delete(`sys/namespaces/${teamA}`).catch(() => undefined);
  });

  const source = (secret: string, ns?: string) =>
    vaultOverHttp.create(vaultSource(namespace, { ...(ns ? { namespace: ns } : {}), auth: { token: { secretRef: { name: secret, key: 'token' } } } }), deps(namespace));

  test(`a secret of namespace team-a is read with spec.vault.namespace`, async () => {
    const p = track(source('team-a-token', teamA));
    expect(digestsOf({ v: (await p.getSecret({ path, property: 'password' })).value.toString() })).toEqual(digestsOf({ v: value }));
  });

  test('the same path outside the namespace is not: nothing at the root, and the namespace token is refused there', async () => {
    const rootWide = track(source('root-token'));
    expect(await failure(rootWide.getSecret({ path, property: 'password' }))).toBeInstanceOf(SourceNotFoundError);
    const teamOutside = track(source('team-a-token'));
    expect(await failure(teamOutside.getSecret({ path, property: 'password' }))).toBeInstanceOf(SourceAuthError);
  });
});

describe('TLS: a client certificate for the listener, and TLS certificate auth', () => {
  const path = `${uniqueName('mtls')}/app`;
  let dir: string;
  let bao: ChildProcess;
  let certs: TestenvCerts;
  let stranger: Pem;
  let httpAddr: string;
  let address: string;
  let tlsRoot: ReturnType<typeof nodeVault>;
  const rootToken = uniqueName('root');
  const vaultTls = createVaultProviderFactory();

  beforeAll(async () => {
    [certs, { cert: stranger }] = await Promise.all([generateCerts(), generateClientCerts('stranger')]);
    credentials.push(certs.admin.key, stranger.key);
    dir = mkdtempSync(join(tmpdir(), 'secretsync-mtls-'));
    for (const [name, pem] of Object.entries({ 'server.crt': certs.apiserver.cert, 'server.key': certs.apiserver.key, 'ca.crt': certs.ca.cert })) {
      writeFileSync(join(dir, name), pem, { mode: 0o600 });
    }
    const [devPort, tlsPort] = [await closedPort(), await closedPort()];
    writeFileSync(
      join(dir, 'listener.hcl'),
      `listener "tcp" {
  address = "127.0.0.1:${tlsPort}"
  cluster_address = "127.0.0.1:${await closedPort()}"
  tls_cert_file = "${join(dir, 'server.crt')}"
  tls_key_file = "${join(dir, 'server.key')}"
  tls_client_ca_file = "${join(dir, 'ca.crt')}"
  tls_require_and_verify_client_cert = true
}
`,
    );
    // An OpenBao of this file's own: the shared one listens on plain http.
    bao = spawn(
      join(requireEnv('SECRETSYNC_TESTENV_BIN'), 'bao'),
      ['server', '-dev', `-dev-root-token-id=${rootToken}`, `-dev-listen-address=127.0.0.1:${devPort}`, `-config=${join(dir, 'listener.hcl')}`],
      { env: { PATH: process.env.PATH ?? '', HOME: dir }, stdio: 'ignore' },
    );
    httpAddr = `http://127.0.0.1:${devPort}`;
    address = `https://127.0.0.1:${tlsPort}`;
    tlsRoot = nodeVault({ apiVersion: 'v1', endpoint: httpAddr, token: rootToken });
    await eventually(async () => (await tlsRoot.read('sys/health'), true), { what: 'the mTLS OpenBao', timeoutMs: 30_000 });
    // Its TLS listener answers a client with a certificate of the CA, and only such a client.
    await eventually(() => health(address, certs.admin), { what: 'the TLS listener' });
    await tlsRoot.write(`secret/data/${path}`, { data: { password: value } });
    await tlsRoot.write('sys/policy/app', { policy: `path "secret/data/${path}" { capabilities = ["read"] }` });
    await tlsRoot.write('sys/auth/cert', { type: 'cert' });
    await tlsRoot.write('auth/cert/certs/app', { certificate: certs.ca.cert, token_policies: ['app'], token_ttl: '10m' });
    const token = ((await tlsRoot.write('auth/token/create', { policies: ['app'], ttl: '1h' })) as { auth: { client_token: string } }).auth.client_token;
    credentials.push(token);
    await Promise.all([
      createSecret(namespace, 'vault-client', { 'tls.crt': certs.admin.cert, 'tls.key': certs.admin.key }),
      createSecret(namespace, 'stranger', { 'tls.crt': stranger.cert, 'tls.key': stranger.key }),
      createSecret(namespace, 'mismatched', { 'tls.crt': certs.admin.cert, 'tls.key': stranger.key }),
      createSecret(namespace, 'mtls-token', { token }),
    ]);
  }, 60_000);

  afterAll(async () => {
    if (bao && bao.exitCode === null) {
      const exited = new Promise((resolve) => bao.once('exit', resolve));
      bao.kill('SIGTERM');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function health(url: string, client?: Pem): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const req = request(`${url}/v1/sys/health`, { ca: certs.ca.cert, ...(client ?? {}) }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', reject);
      req.end();
    });
  }

  const caBundle = () => certs.ca.cert;
  const withToken = { token: { secretRef: { name: 'mtls-token', key: 'token' } } };

  test('the listener refuses a client without a certificate', async () => {
    await expect(health(address)).rejects.toThrow();
    const p = track(vaultTls.create(vaultSource(namespace, { address, caBundle: caBundle(), auth: withToken }), deps(namespace)));
    expect(await failure(p.getSecret({ path, property: 'password' }))).toBeInstanceOf(SourceUnavailableError);
  });

  test('spec.vault.tls: the certificate from certSecretRef / keySecretRef opens the listener; token auth reads', async () => {
    const tls = { certSecretRef: { name: 'vault-client', key: 'tls.crt' }, keySecretRef: { name: 'vault-client', key: 'tls.key' } };
    const p = track(vaultTls.create(vaultSource(namespace, { address, caBundle: caBundle(), tls, auth: withToken }), deps(namespace)));
    expect(digestsOf({ v: (await p.getSecret({ path, property: 'password' })).value.toString() })).toEqual(digestsOf({ v: value }));
  });

  test('spec.vault.tls: a certificate the listener refuses is read again after the failure, so a renewed Secret works without a restart', async () => {
    await createSecret(namespace, 'renewed', { 'tls.crt': stranger.cert, 'tls.key': stranger.key });
    const tls = { certSecretRef: { name: 'renewed', key: 'tls.crt' }, keySecretRef: { name: 'renewed', key: 'tls.key' } };
    const p = track(vaultTls.create(vaultSource(namespace, { address, caBundle: caBundle(), tls, auth: withToken }), deps(namespace)));
    expect(await failure(p.getSecret({ path, property: 'password' }))).toBeInstanceOf(SourceUnavailableError);
    await core.replaceNamespacedSecret({ name: 'renewed', namespace, body: { metadata: { name: 'renewed' }, stringData: { 'tls.crt': certs.admin.cert, 'tls.key': certs.admin.key } } });
    expect(digestsOf({ v: (await p.getSecret({ path, property: 'password' })).value.toString() })).toEqual(digestsOf({ v: value }));
  });

  test('auth.cert: logs in with the client certificate at auth/cert/login and reads', async () => {
    const log = callLog();
    const auth = { cert: { clientCert: { name: 'vault-client', key: 'tls.crt' }, secretRef: { name: 'vault-client', key: 'tls.key' } } };
    const p = track(vaultTls.create(vaultSource(namespace, { address, caBundle: caBundle(), auth }), deps(namespace, log)));
    expect(digestsOf({ v: (await p.getSecret({ path, property: 'password' })).value.toString() })).toEqual(digestsOf({ v: value }));
    expect(log.count('login', 'success')).toBe(1);
  });

  test('auth.cert with a certificate of another CA is refused by the listener, and the login fails', async () => {
    const auth = { cert: { clientCert: { name: 'stranger', key: 'tls.crt' }, secretRef: { name: 'stranger', key: 'tls.key' } } };
    const p = track(vaultTls.create(vaultSource(namespace, { address, caBundle: caBundle(), auth }), deps(namespace)));
    const err = await failure(p.getSecret({ path, property: 'password' }));
    expect(err).toBeInstanceOf(SourceUnavailableError);
    expect(err.message).toContain('login');
  });

  test('a key that does not belong to the certificate is SourceAuthFailed naming the Secrets, before any connection', async () => {
    const log = callLog();
    const auth = { cert: { clientCert: { name: 'mismatched', key: 'tls.crt' }, secretRef: { name: 'mismatched', key: 'tls.key' } } };
    const p = track(vaultTls.create(vaultSource(namespace, { address, caBundle: caBundle(), auth }), deps(namespace, log)));
    const err = await failure(p.getSecret({ path, property: 'password' }));
    expect(err).toBeInstanceOf(SourceAuthError);
    expect(err.message).toContain('does not belong to its certificate');
    expect(err.message).not.toContain('-----BEGIN');
  });

  test('refusals: auth.cert over http, tls together with auth.cert, references in another namespace', () => {
    const cert = { clientCert: { name: 'vault-client', key: 'tls.crt' }, secretRef: { name: 'vault-client', key: 'tls.key' } };
    const tls = { certSecretRef: cert.clientCert, keySecretRef: cert.secretRef };
    expect(() => vaultOverHttp.validate(vaultSource(namespace, { address: httpAddr, auth: { cert } }), namespace)).toThrow(/needs an https address/);
    expect(() => vaultTls.validate(vaultSource(namespace, { address, tls, auth: { cert } }), namespace)).toThrow(/both name a client certificate/);
    const elsewhere = { name: 'vault-client', key: 'tls.crt', namespace: 'kube-system' };
    expect(() => vaultTls.validate(vaultSource(namespace, { address, auth: { cert: { ...cert, secretRef: elsewhere } } }), namespace)).toThrow(ForbiddenError);
    expect(() => vaultTls.validate(vaultSource(namespace, { address, tls: { ...tls, certSecretRef: elsewhere }, auth: withToken }), namespace)).toThrow(ForbiddenError);
  });
});

