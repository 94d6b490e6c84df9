// The webhook's HTTPS server on loopback: AdmissionReview in and out, refusals on bad
// input, a fixed message when the handler fails, metrics, and the certificate swapped in
// place without disturbing open connections.
import { Agent, request } from 'node:https';
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { createMetrics } from '../../../src/observability/metrics.js';
import { patchResponse, type AdmissionHandler, type AdmissionReview } from '../../../src/webhook/admission.js';
import { createBundle, issueServing, type CertBundle } from '../../../src/webhook/certs.js';
import { INTERNAL_ERROR_MESSAGE, WebhookServer } from '../../../src/webhook/server.js';

let bundle: CertBundle;
let server: WebhookServer;
let port: number;
let metrics: ReturnType<typeof createMetrics>;
let handler: AdmissionHandler;

beforeAll(async () => {
  bundle = await createBundle({ hosts: ['127.0.0.1', 'localhost'] });
});

beforeEach(async () => {
  metrics = createMetrics();
  handler = async (r) => patchResponse(r.request.uid, [{ op: 'add', path: '/metadata/annotations', value: { a: 'b' } }]);
  server = new WebhookServer({
    host: '127.0.0.1',
    port: 0,
    tls: bundle.serving,
    handler: (r) => handler(r),
    metrics: metrics.webhook,
    maxBodyBytes: 64 * 1024,
    closeGraceMs: 500,
  });
  port = await server.listen();
});

afterEach(() => server.close());

interface Reply {
  status: number;
  body: string;
  fingerprint: string;
  reused: boolean;
}

function post(body: string, opts: { agent?: Agent; path?: string; method?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: opts.path ?? '/mutate',
        method: opts.method ?? 'POST',
        ca: bundle.caBundle,
        agent: opts.agent ?? false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), fingerprint, reused: req.reusedSocket }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const review = (uid = 'u-1', object: unknown = { metadata: { name: 'p' } }) =>
  JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid, kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: 'ns', operation: 'CREATE', object, dryRun: false },
  });

async function count(result: string, operation = 'CREATE'): Promise<number> {
  const got = await metrics.registry.getSingleMetric('secretsync_webhook_requests_total')?.get();
  return got?.values.find((v) => v.labels.result === result && v.labels.operation === operation)?.value ?? 0;
}

test('answers an AdmissionReview with the handler’s patch, under the request’s uid', async () => {
  handler = async (r) => ({ ...patchResponse('wrong-uid', [{ op: 'add', path: '/x', value: 1 }]), warnings: [`saw ${r.request.namespace}`] });
  const r = await post(review('abc'));
  expect(r.status).toBe(200);
  const out = JSON.parse(r.body) as AdmissionReview;
  expect(out.apiVersion).toBe('admission.k8s.io/v1');
  expect(out.kind).toBe('AdmissionReview');
  expect(out.response).toMatchObject({ uid: 'abc', allowed: true, patchType: 'JSONPatch', warnings: ['saw ns'] });
  expect(JSON.parse(Buffer.from(out.response?.patch ?? '', 'base64').toString())).toEqual([{ op: 'add', path: '/x', value: 1 }]);
  expect(await count('injected')).toBe(1);
  const h = await metrics.registry.getSingleMetric('secretsync_webhook_request_duration_seconds')?.get();
  expect(h?.values.find((v) => (v as { metricName?: string }).metricName?.endsWith('_count'))?.value).toBe(1);
});

test('results: unchanged and refused are counted as such', async () => {
  handler = async (r) => patchResponse(r.request.uid, []);
  expect(JSON.parse((await post(review())).body).response).toEqual({ uid: 'u-1', allowed: true });
  handler = async (r) => ({ uid: r.request.uid, allowed: false, status: { code: 403, message: 'no' } });
  expect(JSON.parse((await post(review())).body).response).toMatchObject({ allowed: false, status: { message: 'no' } });
  expect(await count('unchanged')).toBe(1);
  expect(await count('refused')).toBe(1);
});

test('a failing handler refuses with a fixed message, never the error text', async () => {
  handler = async (r) => {
    throw new Error(`cannot inject: env DB_PASSWORD=${JSON.stringify(r.request.object)}`);
  };
  const r = await post(review('u-2', { spec: { env: 'hunter2' } }));
  expect(r.status).toBe(200);
  const out = JSON.parse(r.body) as AdmissionReview;
  expect(out.response).toEqual({ uid: 'u-2', allowed: false, status: { code: 500, message: INTERNAL_ERROR_MESSAGE } });
  expect(r.body).not.toContain('hunter2');
  expect(await count('error')).toBe(1);
});

test('malformed bodies get 400, oversized ones 413, other routes 404/405', async () => {
  expect((await post('{not json')).status).toBe(400);
  expect((await post(JSON.stringify({ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'x' } }))).status).toBe(400);
  expect((await post(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }))).status).toBe(400);
  expect((await post(review('u', { blob: 'x'.repeat(100 * 1024) }))).status).toBe(413);
  expect((await post('', { path: '/other' })).status).toBe(404);
  expect((await post('', { method: 'GET' })).status).toBe(405);
  expect((await post('', { path: '/healthz', method: 'GET' })).status).toBe(200);
  expect(await count('error', 'unknown')).toBe(4);
});

test('setCertificate: new connections get the new certificate; an open connection keeps working', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const fp = (pem: string) => new X509Certificate(pem).fingerprint256;
    const before = await post(review(), { agent });
    expect(before.fingerprint).toBe(fp(bundle.serving.cert));

    const next = await issueServing(bundle.ca, { hosts: ['127.0.0.1'] });
    server.setCertificate(next);

    const sameConn = await post(review(), { agent });
    expect(sameConn.reused).toBe(true);
    expect(sameConn.status).toBe(200);
    expect(sameConn.fingerprint).toBe(fp(bundle.serving.cert));

    const fresh = await post(review());
    expect(fresh.status).toBe(200);
    expect(fresh.fingerprint).toBe(fp(next.cert));
  } finally {
    agent.destroy();
  }
});

test('onResponse sees each AdmissionReview answer exactly as sent (the test-only admission record)', async () => {
  const seen: string[] = [];
  const recording = new WebhookServer({ host: '127.0.0.1', port: 0, tls: bundle.serving, handler: (r) => handler(r), onResponse: (b) => seen.push(b) });
  const p = await recording.listen();
  try {
    const got = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: p, path: '/mutate', method: 'POST', ca: bundle.caBundle, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      });
      req.on('error', reject);
      req.end(review('u-rec'));
    });
    expect(seen).toEqual([got]);
    expect((JSON.parse(got) as AdmissionReview).response?.patch).toBeDefined();
  } finally {
    await recording.close();
  }
});
