// A local HTTP server that behaves as a hostile secret-manager address does: `hang`
// accepts connections and never answers; `endless` answers 200 with a JSON content type
// and streams chunks until the client closes. Its own loops are bounded in bytes and time
// (maxBytes, maxMs) so a test always ends, even if the client under test never stops.
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type HostileMode = 'hang' | 'endless';

export interface HostileServer {
  url: string;
  /** Requests received. */
  requests(): number;
  /** Bytes written to clients in all. */
  bytesSent(): number;
  /** Connections open now, and the most ever open at once. */
  open(): number;
  maxOpen(): number;
  close(): Promise<void>;
}

/**
 * Answers 200 with a JSON content type and a KV-shaped body whose string value never ends:
 * `chunk` after `chunk`, honouring back-pressure, until the client closes or the bounds
 * (maxBytes of this response, maxMs since `started`) are reached.
 */
export function streamEndless(res: ServerResponse, o: { chunk: Buffer; maxBytes: number; maxMs: number; started?: number; onBytes?: (n: number) => void }): void {
  const started = o.started ?? Date.now();
  let own = 0;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"data":{"data":{"v":"');
  const pump = () => {
    while (!res.destroyed && own < o.maxBytes && Date.now() - started < o.maxMs) {
      own += o.chunk.length;
      o.onBytes?.(o.chunk.length);
      if (!res.write(o.chunk)) return void res.once('drain', pump);
    }
    res.destroy();
  };
  pump();
}

export async function startHostileServer(
  mode: HostileMode,
  o: { maxBytes?: number; maxMs?: number; chunkBytes?: number } = {},
): Promise<HostileServer> {
  const maxBytes = o.maxBytes ?? 512 * 1024 * 1024;
  const maxMs = o.maxMs ?? 120_000;
  const chunk = Buffer.alloc(o.chunkBytes ?? 64 * 1024, 'a');
  let requests = 0;
  let sent = 0;
  const sockets = new Set<Socket>();
  let maxOpen = 0;
  const stream = (res: ServerResponse) => {
    res.once('close', () => res.destroy());
    streamEndless(res, { chunk, maxBytes, maxMs, onBytes: (n) => (sent += n) });
  };
  const server: Server = createServer((req, res) => {
    requests++;
    req.resume();
    if (mode === 'endless') stream(res);
    else setTimeout(() => res.destroy(), maxMs).unref(); // hang: never a byte back
  });
  server.on('connection', (s) => {
    sockets.add(s);
    maxOpen = Math.max(maxOpen, sockets.size);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    bytesSent: () => sent,
    open: () => sockets.size,
    maxOpen: () => maxOpen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A Vault address that answers every read badly, in the way its path says: a KV read of
 * `<mode>/...` (GET /v1/<mount>/data/<mode>/...) gets `text` (HTML with 200), `deep` (JSON
 * nested 100,000 levels), `endless` (a body without end), `slow` (one byte every 100 ms),
 * `hang` (nothing), `redirect` (307 to another host: the same answers served on 127.0.0.2, where a client
 * that follows it would send its request, and maybe its token),
 * `error` (500 with HTML), `empty` (200, no body), `null` (200, JSON null) or `shape`
 * (200, data that is a string). Anything else: 404 as Vault writes it. Bounded like
 * startHostileServer.
 */
export interface HostileVault {
  url: string;
  /** Requests by mode. */
  requests(mode: string): number;
  /** Requests that reached the redirect's other host (127.0.0.2), and those of them carrying a Vault token. */
  requestsAtOtherHost(): number;
  tokensAtOtherHost(): number;
  close(): Promise<void>;
}

export async function startHostileVault(o: { maxBytes?: number; maxMs?: number } = {}): Promise<HostileVault> {
  const maxBytes = o.maxBytes ?? 64 * 1024 * 1024;
  const maxMs = o.maxMs ?? 60_000;
  const counts = new Map<string, number>();
  let tokensElsewhere = 0;
  let requestsElsewhere = 0;
  const timers = hostileTimers();
  const later = timers.later;
  let otherUrl = '';
  const handle = (elsewhere: boolean) => (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    if (elsewhere) {
      requestsElsewhere++;
      if (req.headers['x-vault-token'] !== undefined) tokensElsewhere++;
    }
    const mode = /^\/v1\/[^/]+\/data\/([a-z]+)\//.exec(req.url ?? '')?.[1] ?? '';
    counts.set(mode, (counts.get(mode) ?? 0) + 1);
    const started = Date.now();
    switch (mode) {
      case 'text':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Welcome to nginx!</body></html>');
        return;
      case 'deep': {
        const depth = 100_000;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`{"data":{"data":{"v":${'['.repeat(depth)}${']'.repeat(depth)}},"metadata":{"version":1}}}`);
        return;
      }
      case 'endless':
        streamEndless(res, { chunk: Buffer.alloc(64 * 1024, 'a'), maxBytes, maxMs, started });
        return;
      case 'slow': {
        res.writeHead(200, { 'content-type': 'application/json' });
        const drip = () => {
          if (res.destroyed || Date.now() - started > maxMs) return void res.destroy();
          res.write(' ');
          later(drip, 100);
        };
        drip();
        return;
      }
      case 'hang':
        later(() => res.destroy(), maxMs);
        return;
      case 'redirect':
        res.writeHead(307, { location: `${otherUrl}/v1/secret/data/text/x` }).end();
        return;
      case 'error':
        res.writeHead(500, { 'content-type': 'text/html' }).end('<html><h1>500 Internal Server Error</h1></html>');
        return;
      case 'empty':
        res.writeHead(200, { 'content-type': 'application/json' }).end();
        return;
      case 'null':
        res.writeHead(200, { 'content-type': 'application/json' }).end('null');
        return;
      case 'shape':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{"data":"not a map","metadata":{"version":1}}}');
        return;
      default:
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[]}');
    }
  };
  const served = await listenWithOtherHost(handle, timers);
  otherUrl = served.otherUrl;
  return {
    url: served.url,
    requests: (mode) => counts.get(mode) ?? 0,
    requestsAtOtherHost: () => requestsElsewhere,
    tokensAtOtherHost: () => tokensElsewhere,
    close: served.close,
  };
}

/** Timers a hostile server arms (slow bodies, hangs): `later` runs one, `clear` drops all that have not run. */
export function hostileTimers(): { later: (fn: () => void, ms: number) => void; clear: () => void } {
  const timers = new Set<NodeJS.Timeout>();
  return {
    later: (fn, ms) => {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      timers.add(t);
    },
    clear: () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}

/**
 * Serves `handle(false)` on 127.0.0.1 and `handle(true)` on 127.0.0.2, the other host a
 * redirect points to; `close` ends every connection, both servers and `timers`.
 */
export async function listenWithOtherHost(
  handle: (elsewhere: boolean) => RequestListener,
  timers: { clear: () => void },
): Promise<{ url: string; otherUrl: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const listen = async (server: Server, host: string): Promise<string> => {
    server.on('connection', (s) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    const addr = server.address();
    return `http://${host}:${typeof addr === 'object' && addr ? addr.port : 0}`;
  };
  const main = createServer(handle(false));
  const other = createServer(handle(true));
  const url = await listen(main, '127.0.0.1');
  const otherUrl = await listen(other, '127.0.0.2');
  const closeOne = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));
  return {
    url,
    otherUrl,
    close: async () => {
      timers.clear();
      for (const s of sockets) s.destroy();
      await Promise.all([closeOne(main), closeOne(other)]);
    },
  };
}
