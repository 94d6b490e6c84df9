// ensureCerts against an in-memory Secret with the API server's compare-and-swap rules:
// replicas racing to create or renew converge on one CA.
import { DAY_MS, renewalDue, type CertBundle } from '../../../src/webhook/certs.js';
import { ensureCerts, type CertStorePort, type StoredBundle } from '../../../src/webhook/cert-store.js';

class MemoryStore implements CertStorePort {
  stored: StoredBundle | undefined;
  private rv = 0;
  writes = 0;
  /** Runs before each write lands: lets a test slip another writer in. */
  beforeWrite: (() => Promise<void>) | undefined;

  async read() {
    return this.stored && { ...this.stored };
  }
  async create(bundle: CertBundle) {
    await this.hook();
    if (this.stored) return 'exists' as const;
    return this.put(bundle);
  }
  async update(bundle: CertBundle, version: string) {
    await this.hook();
    if (!this.stored || this.stored.version !== version) return 'conflict' as const;
    return this.put(bundle);
  }
  private async hook() {
    const h = this.beforeWrite;
    this.beforeWrite = undefined;
    await h?.();
  }
  private put(bundle: CertBundle) {
    this.writes++;
    this.stored = { bundle, version: String(++this.rv) };
    return { ...this.stored };
  }
}

const hosts = ['127.0.0.1', 'localhost'];
const opts = { hosts, caLifetimeMs: 300 * DAY_MS, servingLifetimeMs: 30 * DAY_MS };
const t0 = new Date('2030-01-01T00:00:00Z');
const at = (days: number) => () => new Date(t0.getTime() + days * DAY_MS);

test('creates the Secret once, then reads it back without writing', async () => {
  const store = new MemoryStore();
  const first = await ensureCerts(store, opts, at(0));
  expect(first.wrote).toEqual({ kind: 'created' });
  const again = await ensureCerts(store, opts, at(1));
  expect(again.wrote).toBeUndefined();
  expect(again.bundle).toEqual(first.bundle);
  expect(store.writes).toBe(1);
});

test('two replicas starting together end up with one CA', async () => {
  const store = new MemoryStore();
  const [a, b] = await Promise.all([ensureCerts(store, opts, at(0)), ensureCerts(store, opts, at(0))]);
  expect(a.bundle.ca.cert).toBe(b.bundle.ca.cert);
  expect(a.bundle).toEqual(b.bundle);
  expect(store.writes).toBe(1);
  expect([a.wrote, b.wrote].filter(Boolean)).toEqual([{ kind: 'created' }]);
});

test('a replica that loses the create race uses the winner’s bundle', async () => {
  const store = new MemoryStore();
  let winner: CertBundle | undefined;
  store.beforeWrite = async () => {
    winner = (await ensureCerts(store, opts, at(0))).bundle;
  };
  const loser = await ensureCerts(store, opts, at(0));
  expect(loser.wrote).toBeUndefined();
  expect(loser.bundle).toEqual(winner);
  expect(store.writes).toBe(1);
});

test('renewal: serving at 2/3 of its life, CA at 2/3 of its life; a lost renewal race uses the winner’s', async () => {
  const store = new MemoryStore();
  const created = (await ensureCerts(store, opts, at(0))).bundle;

  const serving = await ensureCerts(store, opts, at(21));
  expect(serving.wrote).toEqual({ kind: 'renewed', renewed: 'serving', reason: 'serving-expiring' });
  expect(serving.bundle.ca).toEqual(created.ca);
  expect(serving.bundle.serving.cert).not.toBe(created.serving.cert);

  let winner: CertBundle | undefined;
  store.beforeWrite = async () => {
    winner = (await ensureCerts(store, opts, at(201))).bundle;
  };
  const loser = await ensureCerts(store, opts, at(201));
  expect(loser.wrote).toBeUndefined();
  expect(loser.bundle).toEqual(winner);
  expect(loser.bundle.ca.cert).not.toBe(created.ca.cert);
  expect(loser.bundle.caBundle).toContain(created.ca.cert.trim()); // the old CA stays trusted
  expect(renewalDue(loser.bundle, hosts, at(201)()).renew).toBe('none');
});

test('new hosts renew the serving certificate only', async () => {
  const store = new MemoryStore();
  const created = (await ensureCerts(store, opts, at(0))).bundle;
  const r = await ensureCerts(store, { ...opts, hosts: [...hosts, 'webhook.ops.svc'] }, at(1));
  expect(r.wrote).toEqual({ kind: 'renewed', renewed: 'serving', reason: 'hosts-changed' });
  expect(r.bundle.ca).toEqual(created.ca);
});

test('a Secret with unreadable content is replaced by a fresh bundle', async () => {
  const store = new MemoryStore();
  store.stored = { bundle: { ca: { cert: '', key: '' }, serving: { cert: '', key: '' }, caBundle: '' }, version: '7' };
  const r = await ensureCerts(store, opts, at(0));
  expect(r.wrote).toEqual({ kind: 'renewed', renewed: 'ca', reason: 'unreadable' });
  expect(renewalDue(r.bundle, hosts, at(0)()).renew).toBe('none');
});

test('a Secret that keeps changing underneath gives up with a retryable error', async () => {
  const store = new MemoryStore();
  await ensureCerts(store, opts, at(0));
  const always: CertStorePort = { read: () => store.read(), create: async () => 'exists', update: async () => 'conflict' };
  await expect(ensureCerts(always, opts, at(21))).rejects.toMatchObject({ code: 'ESS_KUBERNETES', retryable: true });
});
