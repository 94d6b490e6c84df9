// The only file that imports node-vault. It exposes just the two calls the provider uses
// (read, write) with the token passed per request, so a client never holds a token of
// its own and one client serves login, reads, renewal and revocation alike.
// node-vault falls back to VAULT_ADDR / VAULT_TOKEN / VAULT_NAMESPACE / VAULT_SKIP_VERIFY
// from the environment and logs request bodies through `debug`; every one of those is
// pinned here so only the SecretSource decides where we connect and what we send.
// node-vault's own transport (axios) has only an idle timeout, which a server trickling
// bytes resets forever, and no cap on the body; so the HTTP is ours (its `request-promise`
// hook): a total deadline per request and a cap on the body's bytes (../limits.ts).
import http from 'node:http';
import https from 'node:https';
import nodeVault from 'node-vault';
import { DEFAULT_MAX_RESPONSE_BYTES, DeadlineError, ResponseTooLargeError } from '../limits.js';

export interface VaultHttp {
  /** GET /v1/<path>; resolves to the JSON body, rejects with node-vault errors. */
  read(path: string, token: string): Promise<unknown>;
  /** POST /v1/<path> with a JSON body; `token` may be omitted (login). */
  write(path: string, body: Record<string, unknown>, token?: string): Promise<unknown>;
  /**
   * With a TLS client identity: read it again before the next request (a login calls this,
   * so a rotated certificate Secret takes effect at the next login). No-op without one.
   */
  reloadIdentity?(): void;
}

/** A PEM client certificate (chain) and its private key, presented in the TLS handshake. */
export interface TlsIdentity {
  cert: string;
  key: string;
}

export interface VaultHttpOptions {
  address: string;
  /** Vault Enterprise / OpenBao namespace, sent as X-Vault-Namespace. */
  namespace?: string;
  /** PEM bundle to trust for https addresses (default: the system CAs). */
  caBundle?: string;
  /** Total time per request: connect, headers and body. */
  timeoutMs: number;
  /** Largest response body accepted (default 4 MiB). */
  maxResponseBytes?: number;
  /** Connections per client (per source) at once; more requests wait within their deadline. Default 16. */
  maxSockets?: number;
  /**
   * A client certificate for the TLS handshake (mutual TLS to the listener, or Vault's cert
   * auth), loaded on the first request and again after reloadIdentity(); https only.
   */
  identity?: () => Promise<TlsIdentity>;
}

const noop = () => undefined;

/** What node-vault hands its transport, and what it expects back. */
interface RpOptions {
  method: string;
  uri: string;
  headers?: Record<string, string>;
  json?: unknown;
}
interface RpResponse {
  statusCode: number;
  body: unknown;
  request: { path: string };
}

/** One request under a total deadline and a body cap; node-vault judges the status code. */
export function boundedRequest(o: { agent: http.Agent; timeoutMs: number; maxResponseBytes: number }) {
  return (options: RpOptions): Promise<RpResponse> =>
    new Promise<RpResponse>((resolve, reject) => {
      const url = new URL(options.uri);
      const payload = options.json !== undefined && typeof options.json === 'object' ? Buffer.from(JSON.stringify(options.json)) : undefined;
      const headers: Record<string, string> = { ...options.headers, accept: 'application/json' };
      if (payload) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(payload.length) });
      const request = url.protocol === 'https:' ? https.request : http.request;
      let settled = false;
      const finish = (err: Error | undefined, value?: RpResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          req.destroy(err);
          reject(err);
        } else resolve(value as RpResponse);
      };
      const req = request(url, { method: options.method, headers, agent: o.agent });
      const timer = setTimeout(() => finish(new DeadlineError(o.timeoutMs)), o.timeoutMs);
      req.on('error', (err) => finish(err));
      req.on('response', (res) => {
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > o.maxResponseBytes) return finish(new ResponseTooLargeError(o.maxResponseBytes));
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > o.maxResponseBytes) finish(new ResponseTooLargeError(o.maxResponseBytes));
          else chunks.push(chunk);
        });
        res.on('error', (err) => finish(err));
        res.on('aborted', () => finish(Object.assign(new Error('the connection closed before the answer was complete'), { code: 'ECONNRESET' })));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: node-vault reports the status code alone
          }
          finish(undefined, { statusCode: res.statusCode ?? 0, body, request: { path: url.pathname } });
        });
      });
      req.end(payload);
    });
}

export function createVaultHttp(opts: VaultHttpOptions): VaultHttp {
  const maxSockets = opts.maxSockets ?? 16;
  const bounds = { timeoutMs: opts.timeoutMs, maxResponseBytes: opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES };
  const httpsAgent = (identity?: TlsIdentity) =>
    new https.Agent({ keepAlive: true, maxSockets, rejectUnauthorized: true, ...(opts.caBundle ? { ca: opts.caBundle } : {}), ...identity });
  let rp: (options: RpOptions) => Promise<RpResponse>;
  let reloadIdentity: (() => void) | undefined;
  const loadIdentity = opts.identity;
  if (loadIdentity && opts.address.startsWith('https:')) {
    // One agent per loaded identity; a reload makes the next request build a new one, and
    // the old one's sockets close once requests on them had their time.
    let current: Promise<ReturnType<typeof boundedRequest>> | undefined;
    let agent: https.Agent | undefined;
    const load = () =>
      loadIdentity().then((identity) => {
        agent = httpsAgent(identity);
        return boundedRequest({ agent, ...bounds });
      });
    const reload = (stale: Promise<unknown>) => {
      if (current !== stale) return; // another request reloaded already
      const old = agent;
      current = undefined;
      agent = undefined;
      if (old) setTimeout(() => old.destroy(), opts.timeoutMs).unref();
    };
    rp = (options) => {
      const pending = (current ??= load());
      // A failed load is not cached, nor is an identity whose connection failed (no HTTP
      // answer: e.g. the listener refused an expired certificate): the next request reads
      // the Secrets again, so a renewed certificate is picked up without a login.
      pending.catch(() => reload(pending));
      return pending.then((send) =>
        send(options).catch((err: unknown) => {
          reload(pending);
          throw err;
        }),
      );
    };
    reloadIdentity = () => {
      if (current) reload(current);
    };
  } else {
    const agent = opts.address.startsWith('https:') ? httpsAgent() : new http.Agent({ keepAlive: true, maxSockets });
    rp = boundedRequest({ agent, ...bounds });
  }
  const client = nodeVault({
    apiVersion: 'v1',
    endpoint: opts.address,
    debug: noop,
    'request-promise': { defaults: () => rp },
  } as Parameters<typeof nodeVault>[0]);
  // Undo node-vault's environment fallbacks (it reads them when an option is empty).
  Object.assign(client as unknown as Record<string, unknown>, {
    token: '',
    namespace: opts.namespace ?? '',
    pathPrefix: '',
  });
  // A fresh headers object per request: node-vault mutates the one it is given.
  const headers = (token?: string) => (token ? { 'X-Vault-Token': token } : {});
  return {
    read: (path, token) => client.read(path, { headers: headers(token) }) as Promise<unknown>,
    write: (path, body, token) => client.write(path, body, { headers: headers(token) }) as Promise<unknown>,
    ...(reloadIdentity ? { reloadIdentity } : {}),
  };
}
