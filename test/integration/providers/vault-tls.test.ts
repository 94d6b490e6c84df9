// spec.vault.caBundle: OpenBao's dev server speaks plain HTTP, so the test puts a TLS
// front (a throwaway CA and a serving certificate for 127.0.0.1) before the real server
// and checks that the provider trusts exactly the CA bundle of the spec.
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { SourceUnavailableError } from '../../../src/errors.js';
import type { SecretProvider } from '../../../src/providers/provider.js';
import { vaultProvider } from '../../../src/providers/vault/index.js';
import { uniqueName } from '../../helpers/stack.js';
import { generateCerts, type TestenvCerts } from '../../testenv/certs.js';
import {
  VAULT_ADDR,
  canary,
  createNamespace,
  createSecret,
  deleteNamespace,
  deps,
  rejection,
  root,
  vaultSource,
} from './vault-fixtures.js';

const path = `${uniqueName('tls')}/app`;
const policy = uniqueName('secretsync-tls');
const value = canary();
const providers: SecretProvider[] = [];
let certs: TestenvCerts;
let otherCa: string;
let server: Server;
let address: string;
let namespace: string;
let token: string;

beforeAll(async () => {
  [certs, { ca: { cert: otherCa } }] = await Promise.all([generateCerts(), generateCerts()]);
  const upstream = new URL(VAULT_ADDR);
  server = createServer({ cert: certs.apiserver.cert, key: certs.apiserver.key }, (req, res) => {
    const fwd = httpRequest(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    fwd.on('error', () => res.destroy());
    req.pipe(fwd);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  address = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  await root.write(`secret/data/${path}`, { data: { password: value } });
  await root.write(`sys/policy/${policy}`, { policy: `path "secret/data/${path}" { capabilities = ["read"] }` });
  const created = (await root.write('auth/token/create', { policies: [policy], ttl: '1h' })) as { auth: { client_token: string } };
  token = created.auth.client_token;
  namespace = await createNamespace('vault-tls');
  await createSecret(namespace, 'vault-token', { token });
});

afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await root.write('auth/token/revoke', { token }).catch(() => undefined);
  await root.delete(`sys/policy/${policy}`).catch(() => undefined);
  await root.delete(`secret/metadata/${path}`).catch(() => undefined);
  await deleteNamespace(namespace);
});

function provider(caBundle?: string): SecretProvider {
  const auth = { token: { secretRef: { name: 'vault-token', key: 'token' } } };
  const p = vaultProvider.create(vaultSource(namespace, { address, caBundle, auth }), deps(namespace));
  providers.push(p);
  return p;
}

test('with the CA in caBundle the provider reads over TLS', async () => {
  expect((await provider(certs.ca.cert).getSecret({ path, property: 'password' })).value.toString()).toBe(value);
});

test.each([
  ['without caBundle', undefined],
  ['with another CA in caBundle', 'other'],
])('%s the certificate is refused: SourceUnavailable', async (_what, ca) => {
  const err = await rejection(provider(ca === 'other' ? otherCa : undefined).getSecret({ path, property: 'password' }));
  expect(err).toBeInstanceOf(SourceUnavailableError);
  expect(err.message).toContain(address.replace('https://', ''));
  expect(err.message).not.toContain(value);
  expect(err.message).not.toContain(token);
});
