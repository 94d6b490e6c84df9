// Certificates for the local apiserver: a throwaway CA, a serving cert for 127.0.0.1,
// an admin client cert (O=system:masters), the service-account signing key pair, and the
// client certificate the API server presents to admission webhooks, signed by a CA of its
// own (so no other client certificate of the stack passes the webhook's check).
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import 'reflect-metadata'; // @peculiar/x509 resolves its ASN.1 schemas through tsyringe
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface Pem {
  cert: string;
  key: string;
}

export interface TestenvCerts {
  ca: Pem;
  apiserver: Pem;
  admin: Pem;
  serviceAccount: { publicKey: string; privateKey: string };
  /** The CA the webhook trusts for callers (--webhook-client-ca) and the API server's certificate from it. */
  webhookClient: { ca: Pem; cert: Pem };
}

/** CN of the certificate the stack's API server presents to webhooks. */
export const WEBHOOK_CLIENT_CN = 'kube-apiserver-webhook-client';

async function keyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN PRIVATE KEY-----\n${b64.trimEnd()}\n-----END PRIVATE KEY-----\n`;
}

function validity(): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - 60_000), notAfter: new Date(now + 365 * 24 * 3600_000) };
}

function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(12))).toString('hex').replace(/^[89a-f]/, '1');
}

async function keys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function issue(
  ca: { cert: x509.X509Certificate; key: CryptoKey },
  subject: string,
  usage: 'server' | 'client',
  extraIps: string[] = [],
): Promise<Pem> {
  const kp = await keys();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
  ];
  if (usage === 'server') {
    extensions.push(
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        ...extraIps.map((value) => ({ type: 'ip' as const, value })),
        { type: 'dns', value: 'localhost' },
        { type: 'dns', value: 'kubernetes' },
        { type: 'dns', value: 'kubernetes.default' },
        { type: 'dns', value: 'kubernetes.default.svc' },
        { type: 'dns', value: 'kubernetes.default.svc.cluster.local' },
      ]),
    );
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: ca.cert.subject,
    ...validity(),
    signingAlgorithm: alg,
    publicKey: kp.publicKey,
    signingKey: ca.key,
    extensions,
  });
  return { cert: cert.toString('pem') + '\n', key: await keyPem(kp.privateKey) };
}

async function selfSignedCa(name: string): Promise<{ cert: x509.X509Certificate; key: CryptoKey; pem: Pem }> {
  const caKeys = await keys();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name,
    ...validity(),
    keys: caKeys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  return { cert: caCert, key: caKeys.privateKey, pem: { cert: caCert.toString('pem') + '\n', key: await keyPem(caKeys.privateKey) } };
}

/** A CA and a client certificate (CN `cn`) from it: the API server's webhook client identity, or an impostor's. */
export async function generateClientCerts(cn: string, caName = 'CN=secretsync-testenv-webhook-client-ca'): Promise<{ ca: Pem; cert: Pem }> {
  const ca = await selfSignedCa(caName);
  return { ca: ca.pem, cert: await issue(ca, `CN=${cn}`, 'client') };
}

/** `apiserverIps`: more IP SANs for the serving certificate (the node's: its bridge address and the `kubernetes` Service IP). */
export async function generateCerts(apiserverIps: string[] = []): Promise<TestenvCerts> {
  const ca = await selfSignedCa('CN=secretsync-testenv-ca');
  const sa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    ca: ca.pem,
    apiserver: await issue(ca, 'CN=kube-apiserver', 'server', apiserverIps),
    admin: await issue(ca, 'CN=secretsync-testenv-admin, O=system:masters', 'client'),
    serviceAccount: {
      publicKey: sa.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      privateKey: sa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    },
    webhookClient: await generateClientCerts(WEBHOOK_CLIENT_CN),
  };
}
