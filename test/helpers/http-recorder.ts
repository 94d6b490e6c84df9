// A transparent loopback HTTP proxy in front of a real server (OpenBao, moto) that notes
// the time, method and path of every request, so a test can count the reads that really
// reached the server, per second. Bodies and headers (tokens) are forwarded, never kept;
// a test that must know more (which AWS action, signed by which access key id) passes
// `note`, which sees each request once and returns only the facts to keep.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface RecordedRequest {
  at: number;
  method: string;
  path: string;
  /** What `note` kept of this request. */
  notes?: Record<string, string>;
}

export type RequestNote = (req: { method: string; path: string; headers: Record<string, string | string[] | undefined>; body: Buffer }) => Record<string, string>;

export interface HttpRecorder {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startHttpRecorder(target: string, opts: { note?: RequestNote } = {}): Promise<HttpRecorder> {
  const upstream = new URL(target);
  const requests: RecordedRequest[] = [];
  const forward = (req: IncomingMessage, res: ServerResponse, body?: Buffer) => {
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
    if (body) out.end(body);
    else req.pipe(out);
  };
  const server: Server = createServer((req, res) => {
    const entry: RecordedRequest = { at: Date.now(), method: req.method ?? '', path: (req.url ?? '').split('?')[0] ?? '' };
    requests.push(entry);
    const note = opts.note;
    if (!note) return forward(req, res);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      entry.notes = note({ method: entry.method, path: req.url ?? '', headers: req.headers, body });
      forward(req, res, body);
    });
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
