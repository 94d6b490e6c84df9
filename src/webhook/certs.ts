// The webhook's own PKI: a CA the API server trusts through the webhook configuration's
// caBundle, and a serving certificate it signs, both ECDSA P-256, PEM in and out. The
// certificates are built by @peculiar/x509 (no hand-written ASN.1); checks use node:crypto.
// renewalDue() is a pure function of the certificates, the wanted names and `now`.
import { X509Certificate as NodeX509, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import 'reflect-metadata'; // @peculiar/x509 resolves its ASN.1 schemas through tsyringe
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export const DAY_MS = 24 * 3600_000;
export const DEFAULT_CA_LIFETIME_MS = 3650 * DAY_MS;
export const DEFAULT_SERVING_LIFETIME_MS = 365 * DAY_MS;
/** Renew once this share of a certificate's lifetime has passed. */
export const RENEW_AT = 2 / 3;

export interface KeyPairPem {
  /** PEM certificate. */
  cert: string;
  /** PEM PKCS#8 private key. */
  key: string;
}

/**
 * Everything the webhook needs: the serving pair, the signing CA, and the CA certificates
 * the API server is to trust (the current CA first; a previous CA stays while certificates
 * it signed may still be in use, so a CA rotation never leaves a window of distrust).
 */
export interface CertBundle {
  ca: KeyPairPem;
  serving: KeyPairPem;
  /** PEM, one or more CERTIFICATE blocks; starts with ca.cert. */
  caBundle: string;
}

export interface CertOptions {
  /** DNS names and IP addresses the serving certificate is valid for. */
  hosts: string[];
  caLifetimeMs?: number;
  servingLifetimeMs?: number;
  /** Subject CN of the CA. */
  caName?: string;
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN PRIVATE KEY-----\n${b64.trimEnd()}\n-----END PRIVATE KEY-----\n`;
}

async function importKey(pem: string): Promise<CryptoKey> {
  const b64 = pem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '').replace(/\s+/g, '');
  return webcrypto.subtle.importKey('pkcs8', Buffer.from(b64, 'base64'), alg, false, ['sign']);
}

async function keys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
}

/** A positive serial of 16 random bytes (RFC 5280: at most 20 octets, positive). */
function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1');
}

/** notBefore is backdated a little (clock skew between replicas and the API server). */
function validity(now: Date, lifetimeMs: number, notAfterMax?: Date): { notBefore: Date; notAfter: Date } {
  const skew = Math.min(60_000, Math.floor(lifetimeMs / 10));
  let notAfter = new Date(now.getTime() + lifetimeMs);
  if (notAfterMax && notAfter > notAfterMax) notAfter = notAfterMax;
  return { notBefore: new Date(now.getTime() - skew), notAfter };
}

const pem = (c: x509.X509Certificate) => c.toString('pem') + '\n';

export async function createCa(opts: { lifetimeMs?: number; name?: string; now?: Date } = {}): Promise<KeyPairPem> {
  const kp = await keys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    // Each CA gets its own name (as client-go's self-signed ones: name@unix-seconds), so two in a bundle are told apart.
    name: `CN=${opts.name ?? 'secretsync-webhook-ca'}@${Math.floor((opts.now ?? new Date()).getTime() / 1000)}`,
    ...validity(opts.now ?? new Date(), opts.lifetimeMs ?? DEFAULT_CA_LIFETIME_MS),
    keys: kp,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(kp.publicKey),
    ],
  });
  return { cert: pem(cert), key: await keyPem(kp.privateKey) };
}

function generalNames(hosts: string[]): x509.JsonGeneralNames {
  return normalizeHosts(hosts).map((h) => ({ type: isIP(h) ? 'ip' : 'dns', value: h }));
}

/** A serving certificate for `hosts`, signed by `ca`, never outliving it. */
export async function issueServing(ca: KeyPairPem, opts: { hosts: string[]; lifetimeMs?: number; now?: Date }): Promise<KeyPairPem> {
  if (opts.hosts.length === 0) throw new RangeError('a serving certificate needs at least one host');
  const caCert = new x509.X509Certificate(ca.cert);
  const kp = await keys();
  const names = generalNames(opts.hosts);
  const firstDns = names.find((n) => n.type === 'dns')?.value ?? names[0]?.value;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${firstDns}`,
    issuer: caCert.subject,
    ...validity(opts.now ?? new Date(), opts.lifetimeMs ?? DEFAULT_SERVING_LIFETIME_MS, caCert.notAfter),
    signingAlgorithm: alg,
    publicKey: kp.publicKey,
    signingKey: await importKey(ca.key),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    ],
  });
  return { cert: pem(cert), key: await keyPem(kp.privateKey) };
}

/** A fresh CA and serving certificate. */
export async function createBundle(opts: CertOptions, now = new Date()): Promise<CertBundle> {
  const ca = await createCa({ lifetimeMs: opts.caLifetimeMs, name: opts.caName, now });
  const serving = await issueServing(ca, { hosts: opts.hosts, lifetimeMs: opts.servingLifetimeMs, now });
  return { ca, serving, caBundle: ca.cert };
}

/** The PEM blocks of a bundle, each ending in a newline. */
export function splitPem(text: string): string[] {
  return (text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((b) => b + '\n');
}

/**
 * What `renewalDue` decided. `ca`: a new CA (and serving certificate); `serving`: a new
 * serving certificate from the same CA; `none`: keep, and look again at `at`.
 */
export type Renewal =
  | { renew: 'none'; at: Date }
  | { renew: 'serving' | 'ca'; reason: RenewalReason };

export type RenewalReason = 'unreadable' | 'ca-expiring' | 'serving-expiring' | 'hosts-changed' | 'not-signed-by-ca';

function renewPoint(c: NodeX509): Date {
  const from = new Date(c.validFrom).getTime();
  const to = new Date(c.validTo).getTime();
  return new Date(from + (to - from) * RENEW_AT);
}

/** Lower-cased, de-duplicated, sorted: the form in which SAN lists are compared. */
export function normalizeHosts(hosts: string[]): string[] {
  return [...new Set(hosts.map((h) => h.trim().toLowerCase()).filter((h) => h !== ''))].sort();
}

/** DNS names and IP addresses in a certificate's subjectAltName. */
export function certHosts(certPem: string): string[] {
  const san = new x509.X509Certificate(certPem).getExtension(x509.SubjectAlternativeNameExtension);
  return normalizeHosts((san?.names.items ?? []).filter((n) => n.type === 'dns' || n.type === 'ip').map((n) => n.value));
}

/**
 * Whether the bundle must be renewed at `now`, for `hosts`: the CA when 2/3 of its lifetime
 * has passed (or it cannot be read), the serving certificate when 2/3 of its lifetime has
 * passed, its names differ from `hosts`, or the CA did not sign it. A serving certificate is
 * never valid past its CA, so an expiring CA also shortens the serving certificate.
 */
export function renewalDue(bundle: Pick<CertBundle, 'ca' | 'serving'>, hosts: string[], now: Date): Renewal {
  let ca: NodeX509;
  let serving: NodeX509;
  try {
    ca = new NodeX509(bundle.ca.cert);
    if (!ca.ca || !bundle.ca.key.includes('PRIVATE KEY')) return { renew: 'ca', reason: 'unreadable' };
  } catch {
    return { renew: 'ca', reason: 'unreadable' };
  }
  const caAt = renewPoint(ca);
  if (now >= caAt) return { renew: 'ca', reason: 'ca-expiring' };
  try {
    serving = new NodeX509(bundle.serving.cert);
    if (!bundle.serving.key.includes('PRIVATE KEY')) return { renew: 'serving', reason: 'unreadable' };
  } catch {
    return { renew: 'serving', reason: 'unreadable' };
  }
  if (!serving.checkIssued(ca) || !serving.verify(ca.publicKey)) return { renew: 'serving', reason: 'not-signed-by-ca' };
  const servingAt = renewPoint(serving);
  if (now >= servingAt) return { renew: 'serving', reason: 'serving-expiring' };
  if (certHosts(bundle.serving.cert).join(',') !== normalizeHosts(hosts).join(',')) return { renew: 'serving', reason: 'hosts-changed' };
  return { renew: 'none', at: caAt < servingAt ? caAt : servingAt };
}

/**
 * The bundle after a renewal `renewalDue` asked for. A new CA keeps the previous CA
 * certificates in caBundle while they are unexpired: serving certificates they signed may
 * still be presented by other replicas until those pick up the new Secret.
 */
export async function renew(prev: CertBundle | undefined, kind: 'ca' | 'serving', opts: CertOptions, now = new Date()): Promise<CertBundle> {
  if (!prev || kind === 'ca') {
    const next = await createBundle(opts, now);
    return { ...next, caBundle: trustBundle(next.ca.cert, prev?.caBundle, now) };
  }
  const serving = await issueServing(prev.ca, { hosts: opts.hosts, lifetimeMs: opts.servingLifetimeMs, now });
  return { ...prev, serving, caBundle: trustBundle(prev.ca.cert, prev.caBundle, now) };
}

/** `current` first, then the unexpired, readable certificates of `previous` (no duplicates). */
function trustBundle(current: string, previous: string | undefined, now: Date): string {
  const keep = splitPem(previous ?? '').filter((b) => b.trim() !== current.trim() && stillValid(b, now));
  return [current, ...keep].join('');
}

function stillValid(certPem: string, now: Date): boolean {
  try {
    return new Date(new NodeX509(certPem).validTo) > now;
  } catch {
    return false;
  }
}
