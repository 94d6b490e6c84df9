// The webhook PKI: the chain verifies with node:crypto, the names are the ones asked for,
// and renewalDue decides from the certificates and `now` alone.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import {
  DAY_MS,
  certHosts,
  createBundle,
  createCa,
  issueServing,
  renew,
  renewalDue,
  splitPem,
  type CertBundle,
} from '../../../src/webhook/certs.js';

const hosts = ['127.0.0.1', 'localhost', 'secretsync-webhook.ops.svc', 'secretsync-webhook.ops.svc.cluster.local'];
const t0 = new Date('2030-01-01T00:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

let bundle: CertBundle;
beforeAll(async () => {
  bundle = await createBundle({ hosts, caLifetimeMs: 3000 * DAY_MS, servingLifetimeMs: 300 * DAY_MS }, t0);
});

test('the serving certificate chains to the CA and is valid for every host asked for, and no other', () => {
  const ca = new X509Certificate(bundle.ca.cert);
  const cert = new X509Certificate(bundle.serving.cert);
  expect(ca.ca).toBe(true);
  expect(cert.ca).toBe(false);
  expect(ca.verify(ca.publicKey)).toBe(true);
  expect(cert.checkIssued(ca)).toBe(true);
  expect(cert.verify(ca.publicKey)).toBe(true);
  expect(cert.checkHost('localhost')).toBe('localhost');
  expect(cert.checkHost('secretsync-webhook.ops.svc')).toBe('secretsync-webhook.ops.svc');
  expect(cert.checkHost('secretsync-webhook.ops.svc.cluster.local')).toBe('secretsync-webhook.ops.svc.cluster.local');
  expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
  expect(cert.checkHost('example.com')).toBeUndefined();
  expect(cert.checkIP('10.0.0.1')).toBeUndefined();
  expect(certHosts(bundle.serving.cert)).toEqual([...hosts].sort());
  expect(bundle.caBundle).toBe(bundle.ca.cert);
});

test('keys are ECDSA P-256 and match their certificates', () => {
  for (const pair of [bundle.ca, bundle.serving]) {
    const key = createPrivateKey(pair.key);
    expect(key.asymmetricKeyType).toBe('ec');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(new X509Certificate(pair.cert).checkPrivateKey(key)).toBe(true);
  }
});

test('lifetimes are as configured, and a serving certificate never outlives its CA', async () => {
  const ca = new X509Certificate(bundle.ca.cert);
  const cert = new X509Certificate(bundle.serving.cert);
  expect(new Date(ca.validTo).getTime()).toBe(at(3000 * DAY_MS).getTime());
  expect(new Date(cert.validTo).getTime()).toBe(at(300 * DAY_MS).getTime());
  expect(new Date(cert.validFrom).getTime()).toBeLessThanOrEqual(t0.getTime()); // backdated for clock skew

  const shortCa = await createCa({ lifetimeMs: 10 * DAY_MS, now: t0 });
  const clamped = new X509Certificate((await issueServing(shortCa, { hosts, lifetimeMs: 300 * DAY_MS, now: t0 })).cert);
  expect(new Date(clamped.validTo).getTime()).toBe(at(10 * DAY_MS).getTime());
});

test('renewalDue: a table of certificates and times', async () => {
  const otherCa = await createCa({ lifetimeMs: 3000 * DAY_MS, now: t0 });
  const foreign = { ...bundle, serving: await issueServing(otherCa, { hosts, lifetimeMs: 300 * DAY_MS, now: t0 }) };
  const cases: [string, Pick<CertBundle, 'ca' | 'serving'>, string[], Date, string][] = [
    ['fresh', bundle, hosts, at(DAY_MS), 'none'],
    ['hosts in another order and case', bundle, [...hosts].reverse().map((h) => h.toUpperCase()), at(DAY_MS), 'none'],
    ['just before 2/3 of the serving lifetime', bundle, hosts, at(199 * DAY_MS), 'none'],
    ['at 2/3 of the serving lifetime', bundle, hosts, at(200 * DAY_MS + 60_000), 'serving:serving-expiring'],
    ['a host added', bundle, [...hosts, 'new.ops.svc'], at(DAY_MS), 'serving:hosts-changed'],
    ['a host removed', bundle, hosts.slice(1), at(DAY_MS), 'serving:hosts-changed'],
    ['signed by another CA', foreign, hosts, at(DAY_MS), 'serving:not-signed-by-ca'],
    ['at 2/3 of the CA lifetime', bundle, hosts, at(2000 * DAY_MS + 60_000), 'ca:ca-expiring'],
    ['CA unreadable', { ...bundle, ca: { cert: 'garbage', key: bundle.ca.key } }, hosts, at(DAY_MS), 'ca:unreadable'],
    ['CA key missing', { ...bundle, ca: { cert: bundle.ca.cert, key: '' } }, hosts, at(DAY_MS), 'ca:unreadable'],
    ['serving certificate unreadable', { ...bundle, serving: { cert: '', key: '' } }, hosts, at(DAY_MS), 'serving:unreadable'],
    ['a serving certificate as CA', { ...bundle, ca: bundle.serving }, hosts, at(DAY_MS), 'ca:unreadable'],
  ];
  for (const [name, b, h, now, want] of cases) {
    const r = renewalDue(b, h, now);
    expect([name, r.renew === 'none' ? 'none' : `${r.renew}:${r.reason}`]).toEqual([name, want]);
  }
});

test('renewalDue says when to look again: the earlier renewal point', async () => {
  const r = renewalDue(bundle, hosts, at(DAY_MS));
  expect(r.renew).toBe('none');
  // The serving cert runs from t0-60s to t0+300d; 2/3 of that.
  const from = t0.getTime() - 60_000;
  expect(r.renew === 'none' && r.at.getTime()).toBe(Math.round(from + (at(300 * DAY_MS).getTime() - from) * (2 / 3)));
});

test('renew: serving keeps the CA; ca replaces it and keeps the old CA trusted while unexpired', async () => {
  const opts = { hosts, caLifetimeMs: 3000 * DAY_MS, servingLifetimeMs: 300 * DAY_MS };
  const s = await renew(bundle, 'serving', opts, at(250 * DAY_MS));
  expect(s.ca).toEqual(bundle.ca);
  expect(s.caBundle).toBe(bundle.caBundle);
  expect(s.serving.cert).not.toBe(bundle.serving.cert);
  expect(renewalDue(s, hosts, at(251 * DAY_MS)).renew).toBe('none');

  const c = await renew(s, 'ca', opts, at(2100 * DAY_MS));
  expect(c.ca.cert).not.toBe(bundle.ca.cert);
  expect(splitPem(c.caBundle)).toEqual([c.ca.cert, bundle.ca.cert]);
  expect(new X509Certificate(c.serving.cert).verify(new X509Certificate(c.ca.cert).publicKey)).toBe(true);
  // Once the old CA has expired it leaves the bundle at the next renewal.
  const later = await renew(c, 'serving', opts, at(3001 * DAY_MS));
  expect(splitPem(later.caBundle)).toEqual([c.ca.cert]);
});
