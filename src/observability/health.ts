// /healthz (the process is alive), /readyz (caches synced; leader election running) and
// /metrics, on plain HTTP servers bound to the addresses given by flags.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export type Check = () => boolean;

export interface HttpEndpoints {
  /** Returns the bound port (useful with port 0). */
  listen(): Promise<number>;
  close(): Promise<void>;
}

export function parseAddr(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  const host = i > 0 ? addr.slice(0, i) : '0.0.0.0';
  const port = Number(addr.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid address "${addr}": want host:port or :port`);
  return { host: host.replace(/^\[|\]$/g, ''), port };
}

export function serve(
  addr: string,
  routes: Record<string, () => Promise<{ status: number; type: string; body: string }>>,
): HttpEndpoints {
  const { host, port } = parseAddr(addr);
  const server: Server = createServer((req, res) => {
    const route = routes[(req.url ?? '/').split('?')[0] ?? '/'];
    if (!route || req.method !== 'GET') {
      res.writeHead(404).end('not found\n');
      return;
    }
    route().then(
      (r) => res.writeHead(r.status, { 'content-type': r.type }).end(r.body),
      () => res.writeHead(500).end('error\n'),
    );
  });
  return {
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const a = server.address();
          resolve(typeof a === 'object' && a ? a.port : port);
        });
      }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export function healthRoutes(checks: { live: Check; ready: Check }) {
  const text = (ok: boolean) => async () => ({ status: ok ? 200 : 503, type: 'text/plain', body: ok ? 'ok\n' : 'not ready\n' });
  return {
    '/healthz': async () => text(checks.live())(),
    '/readyz': async () => text(checks.ready())(),
  };
}

export function metricsRoutes(registry: Registry) {
  return {
    '/metrics': async () => ({ status: 200, type: registry.contentType, body: await registry.metrics() }),
  };
}
