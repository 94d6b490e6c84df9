// A transparent loopback HTTP proxy in front of a real server (OpenBao) that notes the
// time, method and path of every request, so a test can count the reads that really
// reached the server, per second. Bodies and headers (tokens) are forwarded, never kept.
import { createServer, request, type Server } from 'node:http';

export interface RecordedRequest {
  at: number;
  method: string;
  path: string;
}

export interface HttpRecorder {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startHttpRecorder(target: string): Promise<HttpRecorder> {
  const upstream = new URL(target);
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ at: Date.now(), method: req.method ?? '', path: (req.url ?? '').split('?')[0] ?? '' });
    const out = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    out.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = addr && typeof addr === 'object' ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
