// The agent's composition root (what src/main.ts is for the operator): reads the pod's
// environment (namespace file, $KUBECONFIG, the Vault token and CA files), builds the
// real clients, delivers every --sync, and for `watch` follows them until SIGTERM. A
// refusal ends the process with one line on stderr; nothing else is printed there.
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { agentKube, type AgentKube } from '../kube/agent-kube.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { kmsWithDefaultChain } from '../providers/aws/index.js';
import { createVaultHttp, vaultTransit } from '../providers/vault/index.js';
import { backoffMs } from '../runtime/backoff.js';
import { realClock } from '../runtime/clock.js';
import { Deliverer, type Prepared } from './deliver.js';
import { AgentCode, AgentError } from './errors.js';
import type { AgentOptions, SyncFlag, SyncTarget } from './flags.js';
import { KeyAccess, type KeyServices } from './key-access.js';
import { follow } from './watch.js';

const SA_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
const VAULT_TIMEOUT_MS = 15_000;
/** Retries of a retryable failure (Kubernetes, Vault or KMS unreachable) before init gives up: 1+2+4+8 s. */
const START_RETRIES = 4;

function podNamespace(opts: AgentOptions): string {
  if (opts.namespace) return opts.namespace;
  try {
    const ns = readFileSync(SA_NAMESPACE_FILE, 'utf8').trim();
    if (ns) return ns;
  } catch {
    // below
  }
  throw new AgentError(AgentCode.Config, `cannot tell the pod's namespace: ${SA_NAMESPACE_FILE} is not readable; pass --namespace`);
}

function kubeClient(): AgentKube {
  const kubeconfig = process.env.KUBECONFIG?.split(':').find((p) => p !== '');
  if (!kubeconfig && !process.env.KUBERNETES_SERVICE_HOST) {
    throw new AgentError(AgentCode.Config, 'not running in a pod (no KUBERNETES_SERVICE_HOST) and $KUBECONFIG is not set: set one of them');
  }
  try {
    return agentKube(kubeconfig ? { kubeconfig } : {});
  } catch (err) {
    throw new AgentError(AgentCode.Config, `cannot load the Kubernetes client configuration: ${(err as Error).message.slice(0, 200)}`);
  }
}

function services(opts: AgentOptions): KeyServices {
  let caBundle: string | undefined;
  if (opts.vaultCacert) {
    try {
      caBundle = readFileSync(opts.vaultCacert, 'utf8');
    } catch (err) {
      throw new AgentError(AgentCode.Config, `cannot read --vault-cacert ${opts.vaultCacert} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return {
    vaultHttp: ({ address, namespace }) =>
      createVaultHttp({ address, timeoutMs: VAULT_TIMEOUT_MS, ...(namespace ? { namespace } : {}), ...(caBundle ? { caBundle } : {}) }),
    vaultTransit: (o) => vaultTransit({ ...o, source: `Vault at ${o.host}` }),
    // The SDK's default chain, said explicitly: in the agent that is the pod's own AWS identity.
    awsKms: (o) => kmsWithDefaultChain(o),
    jwtSource: opts.vaultTokenFile,
    async readJwt() {
      let jwt: string;
      try {
        jwt = (await readFile(opts.vaultTokenFile, 'utf8')).trim();
      } catch (err) {
        jwt = '';
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          throw new AgentError(AgentCode.Config, `cannot read the Vault token file ${opts.vaultTokenFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
        }
      }
      if (!jwt) {
        throw new AgentError(
          AgentCode.Config,
          `no service-account token for Vault in ${opts.vaultTokenFile}: mount a projected token of audience "vault" there, or pass --vault-token-file`,
        );
      }
      return jwt;
    },
  };
}

/**
 * Prepares every sync, then writes them: a refusal of any leaves every directory as it
 * was. Retryable failures are retried a few times with backoff.
 */
async function deliverAll(d: Deliverer, flags: SyncFlag[], signal: AbortSignal, log: Logger): Promise<{ syncs: SyncTarget[]; delivered: Map<string, string> }> {
  for (let attempt = 0; ; attempt++) {
    const prepared: Prepared[] = [];
    try {
      const syncs: SyncTarget[] = [];
      for (const f of flags) syncs.push(await d.resolve(f));
      for (const s of syncs) prepared.push((await d.prepare(s)) as Prepared);
      const delivered = new Map<string, string>();
      for (const p of prepared.splice(0)) {
        delivered.set(p.sync.name, p.fingerprint);
        await d.commit(p);
      }
      return { syncs, delivered };
    } catch (err) {
      for (const p of prepared) for (const b of Object.values(p.files)) b.fill(0);
      if (!(err instanceof AgentError) || !err.retryable || attempt >= START_RETRIES || signal.aborted) throw err;
      const wait = backoffMs(attempt, { initialMs: 1000, maxMs: 8000 });
      log.warn({ code: err.code, retryInMs: wait }, `delivery failed, retrying: ${err.message}`);
      await realClock.sleep(wait, signal).catch(() => undefined);
    }
  }
}

export async function runAgent(opts: AgentOptions): Promise<number> {
  const log = createLogger({ level: opts.logLevel, base: { name: 'secretsync-agent' } });
  const stop = new AbortController();
  const onSignal = (sig: string) => () => {
    log.info({ signal: sig }, 'stopping');
    stop.abort();
  };
  const onTerm = onSignal('SIGTERM');
  const onInt = onSignal('SIGINT');
  process.once('SIGTERM', onTerm);
  process.once('SIGINT', onInt);
  let keys: KeyAccess | undefined;
  try {
    const namespace = podNamespace(opts);
    const kube = kubeClient();
    keys = new KeyAccess(services(opts), { vaultAddr: opts.vaultAddr, awsEndpoint: opts.awsEndpoint, insecureAllowHttp: opts.insecureAllowHttp, log });
    const deliverer = new Deliverer({ kube, keys, namespace, dir: opts.dir, log, ...(opts.version !== undefined ? { version: opts.version } : {}) });
    const { syncs, delivered } = await deliverAll(deliverer, opts.syncs, stop.signal, log);
    if (opts.command === 'init') return 0;
    log.info({ syncs: syncs.map((s) => s.name), intervalMs: opts.intervalMs }, 'following');
    await follow({
      syncs,
      deliverer,
      watch: {
        listWatch: (s) => kube.secretListWatch(namespace, s.secret),
        mayWatch: (s) => kube.mayWatchSecret(namespace, s.secret),
      },
      intervalMs: opts.intervalMs,
      delivered,
      signal: stop.signal,
      log,
    });
    log.info('stopped');
    return 0;
  } catch (err) {
    if (stop.signal.aborted && opts.command === 'watch') return 0;
    const message = err instanceof Error ? err.message : String(err);
    log.error({ ...(err instanceof AgentError ? { code: err.code } : {}) }, message);
    process.stderr.write(`secretsync agent: ${message.replace(/\s+/g, ' ')}\n`);
    return 1;
  } finally {
    process.removeListener('SIGTERM', onTerm);
    process.removeListener('SIGINT', onInt);
    await keys?.close();
  }
}
