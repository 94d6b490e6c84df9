// An AWS Secrets Manager endpoint that answers every call badly, in the way its path says
// (a SecretSource's spec.aws.endpoint is `<url>/<mode>`; the SDK keeps the path): `text`
// (HTML with 200), `deep` (JSON nested 100,000 levels), `endless` (a body without end),
// `slow` (one byte every 100 ms), `hang` (nothing), `redirect` (307 to another host: the
// same answers served on 127.0.0.2, where a client that follows it would send its signed
// request), `error` (500 with HTML), `empty` (200, no body), `null` (200, JSON null) or
// `shape` (200, SecretValues that is a string). Anything else: a ResourceNotFoundException
// as Secrets Manager writes it. The Vault side of the corpus is startHostileVault
// (hostile-server.ts); bounded the same way.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostileTimers, listenWithOtherHost, streamEndless } from './hostile-server.js';

export interface HostileAws {
  url: string;
  /** Requests by mode. */
  requests(mode: string): number;
  /** Requests that reached the redirect's other host (127.0.0.2), and those of them signed (an Authorization header). */
  requestsAtOtherHost(): number;
  signaturesAtOtherHost(): number;
  close(): Promise<void>;
}

const AMZ_JSON = { 'content-type': 'application/x-amz-json-1.1' };

export async function startHostileAws(o: { maxBytes?: number; maxMs?: number } = {}): Promise<HostileAws> {
  const maxBytes = o.maxBytes ?? 64 * 1024 * 1024;
  const maxMs = o.maxMs ?? 60_000;
  const counts = new Map<string, number>();
  let requestsElsewhere = 0;
  let signedElsewhere = 0;
  const timers = hostileTimers();
  const later = timers.later;
  let otherUrl = '';
  const handle = (elsewhere: boolean) => (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    if (elsewhere) {
      requestsElsewhere++;
      if (req.headers.authorization !== undefined || req.headers['x-amz-security-token'] !== undefined) signedElsewhere++;
    }
    const mode = /^\/([a-z]+)\/?/.exec(req.url ?? '')?.[1] ?? '';
    counts.set(mode, (counts.get(mode) ?? 0) + 1);
    const started = Date.now();
    switch (mode) {
      case 'text':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Welcome to nginx!</body></html>');
        return;
      case 'deep': {
        const depth = 100_000;
        res.writeHead(200, AMZ_JSON).end(`{"SecretValues":${'['.repeat(depth)}${']'.repeat(depth)},"Errors":[]}`);
        return;
      }
      case 'endless':
        streamEndless(res, { chunk: Buffer.alloc(64 * 1024, 'a'), maxBytes, maxMs, started });
        return;
      case 'slow': {
        res.writeHead(200, AMZ_JSON);
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
        res.writeHead(307, { location: `${otherUrl}/text/` }).end();
        return;
      case 'error':
        res.writeHead(500, { 'content-type': 'text/html' }).end('<html><h1>500 Internal Server Error</h1></html>');
        return;
      case 'empty':
        res.writeHead(200, AMZ_JSON).end();
        return;
      case 'null':
        res.writeHead(200, AMZ_JSON).end('null');
        return;
      case 'shape':
        res.writeHead(200, AMZ_JSON).end('{"SecretValues":"not a list","Errors":{"a":1},"SecretString":{"x":1}}');
        return;
      default:
        res
          .writeHead(400, AMZ_JSON)
          .end('{"__type":"ResourceNotFoundException","message":"Secrets Manager can\'t find the specified secret."}');
    }
  };
  const served = await listenWithOtherHost(handle, timers);
  otherUrl = served.otherUrl;
  return {
    url: served.url,
    requests: (mode) => counts.get(mode) ?? 0,
    requestsAtOtherHost: () => requestsElsewhere,
    signaturesAtOtherHost: () => signedElsewhere,
    close: served.close,
  };
}
