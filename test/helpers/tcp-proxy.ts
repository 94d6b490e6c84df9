// A loopback TCP proxy the test can take down and bring back, to make one source's
// secret manager unreachable without stopping the shared server. Or freeze: the connections
// open at that moment go silent without closing (as behind a proxy or load balancer that
// stopped forwarding but keeps its TCP sessions: the client's TCP keepalive is answered by
// this side's kernel, so only the application can notice), while new ones pass.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface Proxy {
  port: number;
  down(): Promise<void>;
  up(): Promise<void>;
  /**
   * Every connection open now forwards nothing more, either way (its bytes are read and
   * dropped; the server's end of it is not passed on), and stays open until the client
   * closes it. Connections made afterwards pass as before. Returns how many froze.
   */
  freeze(): number;
  /** Bytes passed client → server (`sent`) and server → client (`received`) so far; connections open. */
  traffic(): { sent: number; received: number; open: number };
  /** Calls `fn` with each chunk passed from now on (plain-HTTP servers: what was asked); returns the untap. */
  tap(fn: (direction: 'sent' | 'received', chunk: Buffer) => void): () => void;
}

export async function startProxy(targetHost: string, targetPort: number): Promise<Proxy> {
  const sockets = new Set<Socket>();
  const pairs = new Set<{ client: Socket; upstream: Socket; frozen: boolean }>();
  const taps = new Set<(direction: 'sent' | 'received', chunk: Buffer) => void>();
  let sent = 0;
  let received = 0;
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = createConnection(targetPort, targetHost);
        const pair = { client, upstream, frozen: false };
        pairs.add(pair);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        client.on('close', () => {
          pairs.delete(pair);
          if (pair.frozen) upstream.destroy();
        });
        upstream.on('close', () => {
          if (!pair.frozen) pairs.delete(pair);
        });
        client.on('data', (b: Buffer) => {
          if (pair.frozen) return;
          sent += b.length;
          for (const t of taps) t('sent', b);
        });
        upstream.on('data', (b: Buffer) => {
          if (pair.frozen) return;
          received += b.length;
          for (const t of taps) t('received', b);
        });
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const a = server?.address();
        if (a && typeof a === 'object') port = a.port;
        resolve();
      });
    });
  await listen();
  return {
    get port() {
      return port;
    },
    async down() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server = undefined;
    },
    up: listen,
    freeze() {
      let n = 0;
      for (const p of pairs) {
        if (p.frozen || p.client.destroyed) continue;
        p.frozen = true;
        p.client.unpipe(p.upstream);
        p.upstream.unpipe(p.client);
        // Keep reading (and dropping) both ways: a paused socket would never see the client close.
        p.client.resume();
        p.upstream.resume();
        n++;
      }
      return n;
    },
    traffic() {
      return { sent, received, open: pairs.size };
    },
    tap(fn) {
      taps.add(fn);
      return () => taps.delete(fn);
    },
  };
}
