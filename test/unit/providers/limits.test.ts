// Every provider call is bounded: a total deadline (an address that accepts and never
// answers) and a cap on the body (one that streams without end), through the real
// transports (node-vault with our HTTP, the AWS SDK) against a local hostile server.
import { createSecretsApi } from '../../../src/providers/aws/client.js';
import { toAwsError } from '../../../src/providers/aws/errors.js';
import { DeadlineError, ResponseTooLargeError, limitErrorOf } from '../../../src/providers/limits.js';
import { createVaultHttp } from '../../../src/providers/vault/client.js';
import { toVaultError } from '../../../src/providers/vault/errors.js';
import { SourceUnavailableError } from '../../../src/errors.js';
import { startHostileServer, type HostileServer } from '../../helpers/hostile-server.js';
import { createServer } from 'node:http';

import { jest } from '@jest/globals';
jest.setTimeout(20_000);

const servers: HostileServer[] = [];
afterAll(async () => Promise.all(servers.map((s) => s.close())));
async function hostile(mode: 'hang' | 'endless'): Promise<HostileServer> {
  const s = await startHostileServer(mode, { maxMs: 15_000 });
  servers.push(s);
  return s;
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

const vaultCtx = { source: 'SecretSource/evil/src', host: 'h', operation: 'read' as const, path: 'x' };

describe('Vault transport', () => {
  test('an address that never answers fails at the total deadline', async () => {
    const s = await hostile('hang');
    const http = createVaultHttp({ address: s.url, timeoutMs: 500 });
    const t0 = Date.now();
    const err = await failure(http.read('secret/data/x', 't'));
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(err).toBeInstanceOf(DeadlineError);
    const typed = toVaultError(err, vaultCtx);
    expect(typed).toBeInstanceOf(SourceUnavailableError);
    expect(typed.message).toMatch(/no complete answer within 500ms/);
  });

  test('an endless body stops at the byte cap and frees the connection', async () => {
    const s = await hostile('endless');
    const http = createVaultHttp({ address: s.url, timeoutMs: 10_000, maxResponseBytes: 1024 * 1024 });
    const err = await failure(http.read('secret/data/x', 't'));
    expect(err).toBeInstanceOf(ResponseTooLargeError);
    expect(toVaultError(err, vaultCtx).message).toMatch(/response larger than 1048576 bytes/);
    // The server stops once the client closed: far below its own 512 MiB bound.
    expect(s.bytesSent()).toBeLessThan(64 * 1024 * 1024);
  });

  test('a body trickled slower than the deadline fails at the deadline (an idle timeout would not)', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const t = setInterval(() => res.write(' '), 100);
      res.once('close', () => clearInterval(t));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const http = createVaultHttp({ address: `http://127.0.0.1:${port}`, timeoutMs: 700 });
      const t0 = Date.now();
      expect(await failure(http.read('secret/data/x', 't'))).toBeInstanceOf(DeadlineError);
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  test('a normal answer passes, with node-vault judging the status', async () => {
    const server = createServer((req, res) => {
      const ok = req.url?.includes('ok');
      res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? { data: { v: 1 } } : { errors: [] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const http = createVaultHttp({ address: `http://127.0.0.1:${port}`, timeoutMs: 2000 });
      await expect(http.read('secret/ok', 't')).resolves.toEqual({ data: { v: 1 } });
      const err = await failure(http.read('secret/missing', 't'));
      expect((err as { response?: { statusCode?: number } }).response?.statusCode).toBe(404);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('AWS transport', () => {
  const api = (url: string, o: { timeoutMs: number; maxResponseBytes?: number }) =>
    createSecretsApi({ region: 'us-east-1', endpoint: url, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' }, ...o });
  const awsCtx = { source: 'SecretSource/evil/aws', operation: 'GetSecretValue' as const, target: 'x' };

  test('an endpoint that never answers fails at the total deadline', async () => {
    const s = await hostile('hang');
    const t0 = Date.now();
    const err = await failure(api(s.url, { timeoutMs: 500 }).getSecretValue('x'));
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(limitErrorOf(err) ?? err).toBeInstanceOf(DeadlineError);
    expect(toAwsError(err, awsCtx).message).toMatch(/no complete answer within 500ms/);
  });

  test('an endless body stops at the byte cap', async () => {
    const s = await hostile('endless');
    const err = await failure(api(s.url, { timeoutMs: 10_000, maxResponseBytes: 1024 * 1024 }).getSecretValue('x'));
    expect(limitErrorOf(err)).toBeInstanceOf(ResponseTooLargeError);
    expect(toAwsError(err, awsCtx)).toBeInstanceOf(SourceUnavailableError);
    expect(toAwsError(err, awsCtx).message).toMatch(/response larger than 1048576 bytes/);
    expect(s.bytesSent()).toBeLessThan(64 * 1024 * 1024);
  });
});
