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
let ca = '';

beforeAll(async () => {
  const bundle = await createBundle({ hosts: ['127.0.0.1'] });
  ca = bundle.caBundle;
  server = https.createServer({ cert: bundle.serving.cert, key: bundle.serving.key }, (req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }));
  });
  server.on('secureConnection', () => connections++);
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
});
