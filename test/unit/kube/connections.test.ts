// shareConnections against a real local HTTPS server: client-node alone opens a connection
// per request; with it, sequential requests reuse one keep-alive connection.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { shareConnections } from '../../../src/kube/connections.js';
import { createBundle } from '../../../src/webhook/certs.js';

let server: https.Server;
let port = 0;
let connections = 0;
let closed = 0;
let ca = '';

beforeAll(async () => {
  const bundle = await createBundle({ hosts: ['127.0.0.1'] });
  ca = bundle.caBundle;
  server = https.createServer({ cert: bundle.serving.cert, key: bundle.serving.key }, (req, res) => {
    // Namespace "silent": the request is read and never answered, as on a connection gone silent.
    if (req.url?.endsWith('/namespaces/silent')) return;
    // Namespace "slow": answered after 600 ms of silence.
    if (req.url?.endsWith('/namespaces/slow')) {
      res.setHeader('Content-Type', 'application/json');
      setTimeout(() => res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'slow' } })), 600);
      return;
    }
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }));
  });
  server.on('secureConnection', (socket) => {
    connections++;
    socket.on('close', () => closed++);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function config(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `https://127.0.0.1:${port}`, caData: Buffer.from(ca).toString('base64') }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function fiveReads(kc: KubeConfig): Promise<number> {
  const before = connections;
  const core = kc.makeApiClient(CoreV1Api);
  for (let i = 0; i < 5; i++) expect((await core.readNamespace({ name: 'x' })).metadata?.name).toBe('x');
  return connections - before;
}

describe('shareConnections', () => {
  it('client-node alone opens a TLS connection per request', async () => {
    expect(await fiveReads(config())).toBe(5);
  });

  it('with it, requests reuse one verified keep-alive connection', async () => {
    const kc = config();
    shareConnections(kc);
    expect(await fiveReads(kc)).toBe(1);
  });

  it('still verifies the server against the configured CA', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `https://127.0.0.1:${port}` }], // no caData: the system CAs do not know ours
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    shareConnections(kc);
    await expect(kc.makeApiClient(CoreV1Api).readNamespace({ name: 'x' })).rejects.toThrow();
  });

  it('a request that gets no answer fails at its deadline instead of waiting forever', async () => {
    const kc = config();
    shareConnections(kc, { requestTimeoutMs: 300 });
    const t0 = Date.now();
    await expect(kc.makeApiClient(CoreV1Api).readNamespace({ name: 'silent' })).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(5_000);
    // The pool still serves: the next request answers.
    expect((await kc.makeApiClient(CoreV1Api).readNamespace({ name: 'x' })).metadata?.name).toBe('x');
  });

  it('a connection idle in the pool is closed after idleSocketMs, not kept for reuse', async () => {
    const kc = config();
    shareConnections(kc, { idleSocketMs: 200 });
    const before = closed;
    expect(await fiveReads(kc)).toBe(1);
    const t0 = Date.now();
    while (closed === before && Date.now() - t0 < 5_000) await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(before + 1);
  });

  it('the idle timeout closes only pooled connections: a slow answer on one in use still arrives', async () => {
    const kc = config();
    shareConnections(kc, { idleSocketMs: 100 });
    expect((await kc.makeApiClient(CoreV1Api).readNamespace({ name: 'slow' })).metadata?.name).toBe('slow');
  });
});
