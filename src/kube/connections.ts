// One keep-alive connection pool per API server for the typed clients. client-node creates
// a new https.Agent for every request (KubeConfig.applySecurityAuthentication), so every
// call opened a new TCP + TLS connection: at 10,000 SecretSyncs that was 30,000 handshakes,
// a third of the API server's CPU and most of the operator's native memory churn. The agent
// is replaced by a shared one with the same TLS options (CA, client certificate, server
// name, verification), keyed by those options, so a credential that changes gets its own
// pool. Proxy agents (cluster.proxyUrl) and plain http are left as client-node made them.
// A pooled connection can go silent without closing (a proxy or load balancer that stopped
// forwarding; TCP keepalive is answered by the middlebox): a request sent on it would wait
// forever. So each request gets a deadline unless it brings one (the informers' lists do),
// and a connection idle in the pool is closed after a while instead of being reused blind.
import { createHash } from 'node:crypto';
import https from 'node:https';
import type { KubeConfig, RequestContext } from '@kubernetes/client-node';

const TLS_OPTIONS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;
/** Pools kept at once (one per distinct credential; an old one is closed when a newer pushes it out). */
const MAX_POOLS = 4;

function optionsKey(o: Record<string, unknown>): string {
  const h = createHash('sha256');
  for (const k of TLS_OPTIONS) {
    const v = o[k];
    h.update(`${k}\0`);
    if (v === undefined) h.update('-');
    else if (Buffer.isBuffer(v) || typeof v === 'string') h.update(v);
    else h.update(JSON.stringify(v));
    h.update('\0');
  }
  return h.digest('hex');
}

export interface SharedConnectionOptions {
  /** Sockets per API server. Default 32. */
  maxSockets?: number;
  /** Deadline of a request that sets none itself (everything but the informers' lists and watches). Default 30 s. */
  requestTimeoutMs?: number;
  /** A pooled connection idle this long is closed, not reused. Default 15 s. */
  idleSocketMs?: number;
}

/** Makes every request authenticated through `kc` reuse pooled keep-alive connections. */
export function shareConnections(kc: KubeConfig, opts: SharedConnectionOptions = {}): void {
  const pools = new Map<string, https.Agent>();
  const apply = kc.applySecurityAuthentication.bind(kc);
  kc.applySecurityAuthentication = async (ctx: RequestContext) => {
    await apply(ctx);
    if (!ctx.getSignal()) ctx.setSignal(AbortSignal.timeout(opts.requestTimeoutMs ?? 30_000));
    const made = ctx.getAgent();
    if (!made || made.constructor !== https.Agent) return;
    const options = (made as https.Agent & { options: Record<string, unknown> }).options;
    const key = optionsKey(options);
    let shared = pools.get(key);
    if (!shared) {
      shared = new https.Agent({
        ...(options as https.AgentOptions),
        keepAlive: true,
        maxSockets: opts.maxSockets ?? 32,
        scheduling: 'lifo',
        // Node destroys a pooled socket idle this long (a socket in use only gets a 'timeout' event).
        timeout: opts.idleSocketMs ?? 15_000,
      });
      pools.set(key, shared);
      if (pools.size > MAX_POOLS) {
        const [oldest, agent] = pools.entries().next().value as [string, https.Agent];
        pools.delete(oldest);
        agent.destroy();
      }
    }
    made.destroy();
    ctx.setAgent(shared);
  };
}
