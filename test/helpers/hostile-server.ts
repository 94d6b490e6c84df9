// A local HTTP server that behaves as a hostile secret-manager address does: `hang`
// accepts connections and never answers; `endless` answers 200 with a JSON content type
// and streams chunks until the client closes. Its own loops are bounded in bytes and time
// (maxBytes, maxMs) so a test always ends, even if the client under test never stops.
import { createServer, type Server, type ServerResponse } from 'node:http';
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
    const started = Date.now();
    let own = 0;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"data":{"data":{"v":"');
    const pump = () => {
      while (!res.destroyed && own < maxBytes && Date.now() - started < maxMs) {
        own += chunk.length;
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.destroy();
    };
    res.once('close', () => res.destroy());
    pump();
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
