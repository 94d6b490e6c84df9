// The client certificate of spec.vault.tls / auth.cert: read from Secrets of the source
// namespace only, checked (a PEM certificate, an unencrypted PEM key, the key of that
// certificate) with messages that name the Secrets and never print what they hold.
import type { VaultProviderSpec } from '../../../../src/api/types.js';
import { ForbiddenError, SourceAuthError } from '../../../../src/errors.js';
import type { ProviderKube } from '../../../../src/providers/provider.js';
import { tlsIdentityLoader, tlsIdentityRefs } from '../../../../src/providers/vault/tls-identity.js';
import { generateCerts, generateClientCerts } from '../../../testenv/certs.js';

const ref = (name: string, key: string, namespace?: string) => ({ name, key, ...(namespace ? { namespace } : {}) });

function loader(spec: Partial<VaultProviderSpec>, data: Record<string, string>) {
  const read: string[] = [];
  const kube: ProviderKube = {
    readSecretKey: async (namespace, name, key) => {
      read.push(`${namespace}/${name}/${key}`);
      return Buffer.from(data[`${name}/${key}`] ?? '');
    },
    requestServiceAccountToken: async () => {
      throw new Error('not used');
    },
  };
  const full = { address: 'https://vault:8200', auth: { token: { secretRef: ref('t', 'token') } }, ...spec } as VaultProviderSpec;
  return { load: tlsIdentityLoader(full, { kube, secretNamespace: 'apps', source: 'SecretSource/apps/v' }), read };
}

test('no tls and no auth.cert: no identity', () => {
  expect(tlsIdentityRefs({ address: 'https://v', auth: { token: { secretRef: ref('t', 'token') } } })).toBeUndefined();
  expect(loader({}, {}).load).toBeUndefined();
});

test('auth.cert and tls: the certificate and key of the source namespace, checked', async () => {
  const { admin } = await generateCerts();
  const data = { 'c/tls.crt': admin.cert, 'c/tls.key': admin.key };
  const viaCert = loader({ auth: { cert: { clientCert: ref('c', 'tls.crt'), secretRef: ref('c', 'tls.key') } } }, data);
  expect(await viaCert.load?.()).toEqual({ cert: admin.cert.trim(), key: admin.key.trim() });
  expect(viaCert.read).toEqual(['apps/c/tls.crt', 'apps/c/tls.key']);
  const viaTls = loader({ tls: { certSecretRef: ref('c', 'tls.crt'), keySecretRef: ref('c', 'tls.key') } }, data);
  expect(await viaTls.load?.()).toEqual({ cert: admin.cert.trim(), key: admin.key.trim() });
});

test('bad content is SourceAuthFailed naming the Secret, never printing it', async () => {
  const [{ admin }, { cert: other }] = await Promise.all([generateCerts(), generateClientCerts('other')]);
  const tls = { tls: { certSecretRef: ref('c', 'tls.crt'), keySecretRef: ref('k', 'tls.key') } };
  const cases: [Record<string, string>, RegExp][] = [
    [{ 'c/tls.crt': 'garbage-cert-q7', 'k/tls.key': admin.key }, /spec.vault.tls \(Secret "c" key "tls.crt"\) holds no PEM certificate/],
    [{ 'c/tls.crt': admin.cert, 'k/tls.key': 'garbage-key-q7' }, /spec.vault.tls \(Secret "k" key "tls.key"\) is not an unencrypted PEM private key/],
    [{ 'c/tls.crt': admin.cert, 'k/tls.key': other.key }, /does not belong to its certificate/],
  ];
  for (const [data, message] of cases) {
    const err = await loader(tls, data).load?.().catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(SourceAuthError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('-----BEGIN');
    expect((err as Error).message).not.toContain('garbage');
  }
});

test('a reference to another namespace is Forbidden before anything is read', async () => {
  const l = loader({ tls: { certSecretRef: ref('c', 'tls.crt', 'kube-system'), keySecretRef: ref('c', 'tls.key') } }, {});
  await expect(l.load?.()).rejects.toBeInstanceOf(ForbiddenError);
  expect(l.read).toEqual([]);
});
