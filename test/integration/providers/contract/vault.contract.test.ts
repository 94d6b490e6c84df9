// The provider contract against the stack's real OpenBao: KV v2 at secret/, token auth with
// a policy-limited token kept in a Kubernetes Secret; refused credentials are a token
// Vault does not know; unreachable is a closed loopback port.
import { randomBytes } from 'node:crypto';
import { closedPort, createNamespace, createSecret, deleteNamespace, deps, readPolicy, root, vaultOverHttp, vaultSource } from '../vault-fixtures.js';
import { uniqueName } from '../../../helpers/stack.js';
import { describeProviderContract } from './contract.js';

const prefix = uniqueName('contract');
const policy = uniqueName('secretsync-contract');
const badToken = `hvs.${randomBytes(18).toString('base64url')}`;
let namespace = '';
let token = '';
let seq = 0;

const tokenAuth = (name: string) => ({ token: { secretRef: { name, key: 'token' } } });

describeProviderContract('vault (OpenBao, KV v2, token auth)', {
  async setup() {
    await readPolicy(policy, [`secret/data/${prefix}/*`]);
    const created = (await root.write('auth/token/create', { policies: [policy], ttl: '1h' })) as { auth: { client_token: string } };
    token = created.auth.client_token;
    namespace = await createNamespace('contract-vault');
    await createSecret(namespace, 'vault-token', { token });
    await createSecret(namespace, 'vault-bad', { token: badToken });
  },
  async teardown() {
    await root.write('auth/token/revoke', { token }).catch(() => undefined);
    await root.delete(`sys/policy/${policy}`).catch(() => undefined);
    await root.delete(`secret/metadata/${prefix}`).catch(() => undefined);
    for (let i = 1; i <= seq; i++) await root.delete(`secret/metadata/${prefix}/s${i}`).catch(() => undefined);
    await deleteNamespace(namespace);
  },
  provider: () => vaultOverHttp.create(vaultSource(namespace, { auth: tokenAuth('vault-token') }), deps(namespace)),
  badCredentialsProvider: () => vaultOverHttp.create(vaultSource(namespace, { auth: tokenAuth('vault-bad') }), deps(namespace)),
  async unreachableProvider() {
    const address = `http://127.0.0.1:${await closedPort()}`;
    return vaultOverHttp.create(vaultSource(namespace, { address, auth: tokenAuth('vault-token') }), deps(namespace));
  },
  async write(data) {
    const path = `${prefix}/s${++seq}`;
    const r = (await root.write(`secret/data/${path}`, { data })) as { data: { version: number } };
    return { path, version: String(r.data.version) };
  },
  async update(path, data) {
    const r = (await root.write(`secret/data/${path}`, { data })) as { data: { version: number } };
    return String(r.data.version);
  },
  missingPath: () => `${prefix}/absent`,
  credentials: () => [token, badToken],
});
