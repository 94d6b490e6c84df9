// The HTTPS endpoint the API server calls: POST /mutate with an AdmissionReview, answered
// with an AdmissionReview. The certificate is swapped in place (setSecureContext): new TLS
// handshakes get the new one, connections already open keep theirs, so a renewal never
// fails a request. A handler failure refuses the request with a fixed message (the error
// text may hold object content); malformed or oversized bodies get 400 / 413.
// With `clientAuth` the TLS handshake requires a client certificate signed by its CA (the
// API server's, configured with an AdmissionConfiguration kubeConfigFile): anyone else is
// refused before a byte of HTTP, so a hand-made AdmissionReview never reaches the handler.
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../observability/logger.js';
import type { WebhookCollectors, WebhookResult } from '../observability/metrics.js';
import { ADMISSION_API_VERSION, parseReview, type AdmissionHandler, type AdmissionResponse, type AdmissionReview } from './admission.js';

export const MUTATE_PATH = '/mutate';
/** An AdmissionReview carries one object; the API server's own request limit is 3 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 3 * 1024 * 1024 + 64 * 1024;
const OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);
export const INTERNAL_ERROR_MESSAGE = 'secretsync webhook: internal error; see the operator log';

export interface TlsPair {
  cert: string;
  key: string;
}

/** Require the caller's client certificate (the API server's). */
export interface ClientAuth {
  /** PEM: the CA(s) that sign the API server's webhook client certificate. */
  ca: string;
  /** When set, the certificate's CN or a DNS SAN must be one of these (HTTP 403 otherwise). */
  names?: string[];
}

/** Whether a verified peer certificate carries one of `names` (CN or DNS subject alternative name). */
export function peerNameAllowed(peer: { subject?: { CN?: string | string[] }; subjectaltname?: string } | undefined, names: string[]): boolean {
  if (!peer) return false;
  const cn = peer.subject?.CN;
  const cns = Array.isArray(cn) ? cn : cn !== undefined ? [cn] : [];
  const dns = (peer.subjectaltname ?? '').split(',').map((s) => s.trim()).filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
  return [...cns, ...dns].some((n) => names.includes(n));
}

export interface WebhookServerOptions {
  /** Address to bind: 127.0.0.1 outside a cluster, 0.0.0.0 (or ::) inside one. */
  host: string;
  /** 0: any free port (see listen()). */
  port: number;
  tls: TlsPair;
  handler: AdmissionHandler;
  maxBodyBytes?: number;
  metrics?: WebhookCollectors;
  log?: Logger;
  /** How long close() lets in-flight requests finish before cutting connections. */
  closeGraceMs?: number;
  /** Require and verify the caller's client certificate (--webhook-client-ca). */
  clientAuth?: ClientAuth;
  /** Sees each AdmissionReview answer as sent (tests keep them for the leak scan). */
  onResponse?: (body: string) => void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return reject(new HttpError(413, 'request body too large'));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, 'request body too large'));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function resultOf(r: AdmissionResponse): WebhookResult {
  if (!r.allowed) return 'refused';
  return r.patch ? 'injected' : 'unchanged';
}

export class WebhookServer {
  private readonly server: Server;
  private readonly limit: number;

  constructor(private readonly o: WebhookServerOptions) {
    this.limit = o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.server = createServer({ ...this.secureOptions(o.tls), ...(o.clientAuth ? { requestCert: true, rejectUnauthorized: true } : {}) }, (req, res) => void this.route(req, res));
    // The API server reuses connections; keep them a little longer than its idle timeout.
    this.server.keepAliveTimeout = 95_000;
  }

  /** Binds and returns the port (the chosen one when `port` was 0). */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.o.port, this.o.host, () => {
        this.server.off('error', reject);
        const a = this.server.address();
        resolve(typeof a === 'object' && a ? a.port : this.o.port);
      });
    });
  }

  /** New handshakes use `tls` from now on; open connections are left as they are. */
  setCertificate(tls: TlsPair): void {
    this.server.setSecureContext(this.secureOptions(tls));
  }

  private secureOptions(tls: TlsPair) {
    return { cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' as const, ...(this.o.clientAuth ? { ca: this.o.clientAuth.ca } : {}) };
  }

  /** Stops accepting, lets in-flight requests finish (up to the grace period), then closes. */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const grace = setTimeout(() => this.server.closeAllConnections(), this.o.closeGraceMs ?? 5_000);
    try {
      await closed;
    } finally {
      clearTimeout(grace);
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    const names = this.o.clientAuth?.names;
    if (names && names.length > 0 && !peerNameAllowed((req.socket as TLSSocket).getPeerCertificate?.(), names)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('client certificate not allowed\n');
      return;
    }
    if (path !== MUTATE_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'POST' }).end('method not allowed\n');
      return;
    }
    const started = process.hrtime.bigint();
    let operation = 'unknown';
    const done = (result: WebhookResult) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.o.metrics?.requests.inc({ operation, result });
      this.o.metrics?.duration.observe({ operation, result }, seconds);
    };
    let review: ReturnType<typeof parseReview>;
    try {
      const body = await readBody(req, this.limit);
      try {
        review = parseReview(JSON.parse(body.toString('utf8')));
      } catch {
        review = undefined;
      }
      if (!review) throw new HttpError(400, 'expected an admission.k8s.io/v1 AdmissionReview with a request');
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 400;
      res.writeHead(status, { 'content-type': 'text/plain', ...(status === 413 ? { connection: 'close' } : {}) });
      res.end(`${err instanceof HttpError ? err.message : 'bad request'}\n`);
      done('error');
      return;
    }
    const { uid } = review.request;
    if (OPERATIONS.has(review.request.operation)) operation = review.request.operation;
    let response: AdmissionResponse;
    let result: WebhookResult;
    try {
      response = { ...(await this.o.handler(review)), uid };
      if (response.patch) response.patchType = 'JSONPatch';
      result = resultOf(response);
    } catch (err) {
      // The message may quote the object (a Pod's env, say): log the class only, answer a fixed text.
      this.o.log?.error(
        { uid, namespace: review.request.namespace, errorClass: err instanceof Error ? err.constructor.name : typeof err },
        'admission handler failed',
      );
      response = { uid, allowed: false, status: { code: 500, message: INTERNAL_ERROR_MESSAGE } };
      result = 'error';
    }
    const out: AdmissionReview = { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
    const body = JSON.stringify(out);
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    this.o.onResponse?.(body);
    done(result);
  }
}
