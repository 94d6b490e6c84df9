// --webhook-client-ca: the webhook's TLS handshake requires a client certificate from the
// API server's CA; a caller without one, or with one from another CA, never reaches the
// handler; --webhook-client-names narrows it to certificates carrying one of the names.
import { request } from 'node:https';
import { patchResponse } from '../../../src/webhook/admission.js';
import { createBundle, type CertBundle } from '../../../src/webhook/certs.js';
import { WebhookServer, peerNameAllowed, type ClientAuth } from '../../../src/webhook/server.js';
import { generateClientCerts, type Pem } from '../../../test/testenv/certs.js';

let bundle: CertBundle;
let apiserver: { ca: Pem; cert: Pem };
let impostor: { ca: Pem; cert: Pem };
let calls = 0;

beforeAll(async () => {
  bundle = await createBundle({ hosts: ['127.0.0.1'] });
  apiserver = await generateClientCerts('kube-apiserver-webhook-client');
  impostor = await generateClientCerts('kube-apiserver-webhook-client', 'CN=another-ca');
});

async function serve(clientAuth: ClientAuth | undefined): Promise<{ server: WebhookServer; port: number }> {
  const server = new WebhookServer({
    host: '127.0.0.1',
    port: 0,
    tls: bundle.serving,
    handler: async (r) => {
      calls++;
      return patchResponse(r.request.uid, []);
    },
    closeGraceMs: 200,
    ...(clientAuth ? { clientAuth } : {}),
  });
  return { server, port: await server.listen() };
}

const review = JSON.stringify({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: { uid: 'u1', kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: 'victim', operation: 'CREATE', object: {} },
});

function post(port: number, client?: Pem): Promise<{ status: number } | { tlsError: string }> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/mutate', method: 'POST', ca: bundle.caBundle, agent: false, ...(client ? { cert: client.cert, key: client.key } : {}), headers: { 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ tlsError: err.code ?? err.message }));
    req.end(review);
  });
}

test('without --webhook-client-ca anyone may call (as before)', async () => {
  const { server, port } = await serve(undefined);
  try {
    expect(await post(port)).toEqual({ status: 200 });
  } finally {
    await server.close();
  }
});

test('with it: the API server\'s certificate passes; none, or one from another CA, is refused in the handshake', async () => {
  const { server, port } = await serve({ ca: apiserver.ca.cert });
  calls = 0;
  try {
    expect(await post(port, apiserver.cert)).toEqual({ status: 200 });
    expect(calls).toBe(1);
    expect(await post(port)).toEqual({ tlsError: expect.any(String) });
    expect(await post(port, impostor.cert)).toEqual({ tlsError: expect.any(String) });
    expect(calls).toBe(1);
  } finally {
    await server.close();
  }
});

test('with allowed names: a certificate of the CA without one of them gets 403, never the handler', async () => {
  const other = await generateClientCerts('someone-else', 'CN=a-second-trusted-ca');
  const { server, port } = await serve({ ca: `${apiserver.ca.cert}${other.ca.cert}`, names: ['kube-apiserver-webhook-client'] });
  calls = 0;
  try {
    expect(await post(port, apiserver.cert)).toEqual({ status: 200 });
    expect(await post(port, other.cert)).toEqual({ status: 403 });
    expect(calls).toBe(1);
  } finally {
    await server.close();
  }
});

test('peerNameAllowed: CN or DNS SAN', () => {
  expect(peerNameAllowed({ subject: { CN: 'a' } }, ['a'])).toBe(true);
  expect(peerNameAllowed({ subject: { CN: 'b' }, subjectaltname: 'DNS:x, DNS:a, IP Address:127.0.0.1' }, ['a'])).toBe(true);
  expect(peerNameAllowed({ subject: { CN: 'b' }, subjectaltname: 'IP Address:127.0.0.1' }, ['a'])).toBe(false);
  expect(peerNameAllowed(undefined, ['a'])).toBe(false);
});
