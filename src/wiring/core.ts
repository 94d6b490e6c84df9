// What the wiring of every controller shares: flags, logger, metrics, clients, the
// start-up reads (owner, HMAC key, the API server's token audiences), the caches, and the
// reader, writer and provider registry built on them.
import type { OperatorOptions } from '../flags.js';
import { learnApiAudiences } from '../kube/api-audiences.js';
import type { KubeClients, KubeOwnerReference } from '../kube/clients.js';
import { retryAfterMs } from '../kube/errors.js';
import { ensureHmacKey } from '../kube/hmac-key.js';
import { deploymentOwner } from '../kube/owner.js';
import { CacheSyncReader } from '../kube/reader.js';
import { KubeSyncWriter } from '../kube/writer.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { createAwsProviderFactory } from '../providers/aws/index.js';
import { ProviderRegistry } from '../providers/registry.js';
import { createVaultProviderFactory } from '../providers/vault/index.js';
import { ClientRateLimiter } from '../runtime/client-rate-limiter.js';
import { hmacKey, type HmacKey } from '../secretsync/content.js';
import { operatorInformers, type OperatorInformers } from './informers.js';

export interface CoreInputs {
  opts: OperatorOptions;
  log: Logger;
  metrics: Metrics;
  clients: KubeClients;
  operatorNamespace: string;
  /** This replica may write: it leads, or leader election is off. */
  canWrite(): boolean;
  /** Every cache has synced (the manager says so). */
  synced(): boolean;
}

export interface Core extends CoreInputs {
  /** --owner-deployment's owner reference, for what the operator creates in its namespace. */
  owner: KubeOwnerReference | undefined;
  contentKey: HmacKey;
  informers: OperatorInformers;
  reader: CacheSyncReader;
  writer: KubeSyncWriter;
  providers: ProviderRegistry;
}

export async function buildCore(c: CoreInputs): Promise<Core> {
  const { opts, log, metrics, clients } = c;
  const owner = opts.ownerDeployment !== undefined ? await deploymentOwner(clients.apps, c.operatorNamespace, opts.ownerDeployment) : undefined;
  const contentKey = hmacKey(await ensureHmacKey(clients.core, c.operatorNamespace, undefined, owner));
  // Tokens the operator mints for sources must never carry one of these (plus the well-known forms).
  const apiAudiences = await learnApiAudiences(clients.kc);
  log.info({ apiAudiences: apiAudiences.audiences, from: apiAudiences.from }, "learned the API server's token audiences; tokens for them are never minted for a source");

  const informers = operatorInformers(clients, { namespace: opts.namespace, resyncMs: opts.resyncPeriodMs, watchdogMs: opts.watchSilenceMs }, log);
  const providerOptions = {
    allowInsecureHttp: opts.insecureAllowHttp,
    timeoutMs: opts.sourceTimeoutMs,
    maxResponseBytes: opts.sourceMaxResponseBytes,
    apiAudiences: apiAudiences.audiences,
  };
  if (opts.insecureAllowHttp) log.warn('--insecure-allow-http: http:// sources are accepted; credentials and secrets may cross the network unencrypted');
  const providers = new ProviderRegistry().register(createVaultProviderFactory(providerOptions)).register(createAwsProviderFactory(providerOptions));
  const reader = new CacheSyncReader({
    secretSyncs: informers.secretSyncs,
    secretSources: informers.secretSources,
    clusterSecretSources: informers.clusterSecretSources,
    managedSecrets: informers.ownedSecrets,
    namespaces: informers.namespaces,
    managedRoles: informers.ownedRoles,
    managedRoleBindings: informers.ownedRoleBindings,
    deployments: informers.deployments,
    statefulSets: informers.statefulSets,
    daemonSets: informers.daemonSets,
  });
  const limiter = new ClientRateLimiter({ qps: opts.qps, burst: opts.burst });
  const writer = new KubeSyncWriter({
    core: clients.core,
    custom: clients.custom,
    rbac: clients.rbac,
    apps: clients.apps,
    canWrite: c.canWrite,
    limit: (fn) => limiter.withRateLimit(fn, retryAfterMs),
    // Events: only tokens no other call has reserved.
    limitSpare: async (fn) => {
      await limiter.acquireSpare();
      return fn();
    },
    onWrite: (resource, verb) => metrics.apiWrites.inc({ resource, verb }),
    onEventDropped: (reason) => metrics.eventsDropped.inc({ reason }),
  });
  return { ...c, owner, contentKey, informers, reader, writer, providers };
}
