// WebhookServing's rounds on a fake clock with in-memory ports: renewals happen on time,
// and a certificate from a new CA is served only after the API server was given a bundle
// that trusts it, and had propagationMs to see it.
import { X509Certificate } from 'node:crypto';
import { FakeClock } from '../../../src/runtime/testing/fake-clock.js';
import type { CertStorePort, StoredBundle } from '../../../src/webhook/cert-store.js';
import { splitPem, type CertBundle } from '../../../src/webhook/certs.js';
import type { MutatingWebhookConfiguration } from '../../../src/webhook/registration.js';
import { WebhookServing } from '../../../src/webhook/serving.js';

class MemoryStore implements CertStorePort {
  stored: StoredBundle | undefined;
  private rv = 0;
  async read() {
    return this.stored;
  }
  async create(bundle: CertBundle) {
    if (this.stored) return 'exists' as const;
    return (this.stored = { bundle, version: String(++this.rv) });
  }
  async update(bundle: CertBundle, version: string) {
    if (this.stored?.version !== version) return 'conflict' as const;
    return (this.stored = { bundle, version: String(++this.rv) });
  }
}

const realTick = () => new Promise((r) => setTimeout(r, 5));

/** A WebhookServing on the fake clock whose CA (45 s) and serving certificate (20 s) renew within a minute. */
function fakeServing(clock: FakeClock, onApply: (c: MutatingWebhookConfiguration) => void): WebhookServing {
  let config: MutatingWebhookConfiguration | undefined;
  return new WebhookServing(
    {
      operatorNamespace: 'ops',
      secretName: 'tls',
      configName: 'secretsync',
      port: 0,
      failurePolicy: 'Fail',
      timeoutSeconds: 10,
      servingLifetimeMs: 20_000,
      caLifetimeMs: 45_000,
      recheckMs: 60_000,
      propagationMs: 2_000,
    },
    {
      handler: async (r) => ({ uid: r.request.uid, allowed: true }),
      certStore: new MemoryStore(),
      webhookConfig: {
        get: async () => config,
        apply: async (c) => {
          config = c;
          onApply(c);
        },
      },
      clock,
    },
  );
}

test('serving and CA renewals: register first, serve after propagationMs, never an untrusted certificate', async () => {
  const clock = new FakeClock(Date.now());
  const events: { at: number; kind: 'apply' | 'serve'; cas?: string[]; cert?: string }[] = [];
  const serving = fakeServing(clock, (c) => {
    const pem = Buffer.from((c.webhooks?.[0]?.clientConfig as { caBundle: string }).caBundle, 'base64').toString();
    events.push({ at: clock.now(), kind: 'apply', cas: splitPem(pem) });
  });
  await serving.start();
  try {
    let served = '';
    const t0 = clock.now();
    while (clock.now() - t0 < 60_000) {
      const cert = serving.bundle?.serving.cert ?? '';
      if (cert !== served) {
        served = cert;
        events.push({ at: clock.now(), kind: 'serve', cert });
      }
      await clock.advance(250);
      await realTick(); // key generation and signing take real time
    }
  } finally {
    await serving.stop();
  }
  const serves = events.filter((e) => e.kind === 'serve');
  const applies = events.filter((e) => e.kind === 'apply');
  expect(serves.length).toBeGreaterThanOrEqual(4); // the first, renewals at ~13 s, ~27 s, a new CA at ~30 s...
  const trusts = (cas: string[] | undefined, cert: string | undefined) =>
    (cas ?? []).some((ca) => new X509Certificate(cert ?? '').verify(new X509Certificate(ca).publicKey));
  expect(new Set(serves.map((s) => new X509Certificate(s.cert ?? '').issuer)).size).toBeGreaterThanOrEqual(2); // the CA rotated
  expect(applies.length).toBeGreaterThanOrEqual(2);
  // Every certificate served is trusted by the bundle registered before it, at least propagationMs before (except the first).
  for (const s of serves.slice(1)) {
    const registered = applies.filter((a) => a.at <= s.at).at(-1);
    expect(trusts(registered?.cas, s.cert)).toBe(true);
    const firstTrusting = applies.find((a) => trusts(a.cas, s.cert));
    expect(firstTrusting === applies[0] || s.at - (firstTrusting?.at ?? 0) >= 2_000).toBe(true);
  }
}, 30_000);

test('stop() during the wait for a new CA to propagate returns at once and swaps nothing', async () => {
  const clock = new FakeClock(Date.now());
  let applies = 0;
  const serving = fakeServing(clock, () => (applies += 1));
  await serving.start();
  const first = serving.bundle?.serving.cert;
  // Until a second bundle is registered: the round that did it now waits propagationMs on the fake clock.
  while (applies < 2) {
    await clock.advance(250);
    await realTick();
  }
  const served = serving.bundle?.serving.cert;
  let stopped = false;
  const stop = serving.stop().then(() => (stopped = true));
  // The clock does not move from here: only the abort can end the wait.
  for (let i = 0; i < 200 && !stopped; i++) await realTick();
  expect(stopped).toBe(true);
  await stop;
  expect(serving.bundle?.serving.cert).toBe(served);
  expect(first).toBeDefined();
});
