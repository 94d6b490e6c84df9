// The pod-injection admission webhook, served by every replica (the API server may call
// any) from the caches: its TLS (self-managed in a Secret, or --webhook-cert-dir), its
// registration, and who may call it (--webhook-client-ca).
import { readFileSync } from 'node:fs';
import { KubeWebhookCertStore } from '../kube/webhook-cert-store.js';
import { KubeWebhookConfig } from '../kube/webhook-config.js';
import { readCertDir } from '../webhook/cert-dir.js';
import { injectionHandler } from '../webhook/handler.js';
import { DEFAULT_WEBHOOK_SECRET_NAME, WebhookServing } from '../webhook/serving.js';
import type { Core } from './core.js';

/**
 * undefined when --webhook-addr is "0". `inCluster`: the operator runs in a pod (registered
 * by Service, not URL); `onResponse`: the test-only admission record (test-admission-record.ts).
 */
export function webhookServing(core: Core, env: { inCluster: boolean; onResponse?: (body: string) => void }): WebhookServing | undefined {
  const { opts, log, metrics, clients } = core;
  const w = opts.webhook;
  if (!w.addr) return undefined;
  const [host, port] = splitHostPort(w.addr);
  const onWrite = (resource: string, verb: string) => metrics.apiWrites.inc({ resource, verb });
  const clientAuth = w.clientCaFile
    ? { ca: readFileSync(w.clientCaFile, 'utf8'), ...(w.clientNames.length > 0 ? { names: w.clientNames } : {}) }
    : undefined;
  return new WebhookServing(
    {
      operatorNamespace: core.operatorNamespace,
      ...(opts.namespace ? { watchNamespace: opts.namespace } : {}),
      secretName: DEFAULT_WEBHOOK_SECRET_NAME,
      configName: w.configName,
      ...(env.inCluster ? { service: { name: w.service, port: 443 } } : {}),
      port,
      ...(host ? { host } : {}),
      failurePolicy: w.failurePolicy,
      timeoutSeconds: w.timeoutSeconds,
      ...(clientAuth ? { clientAuth } : {}),
    },
    {
      // Only a caller with the API server's client certificate gets detailed refusals.
      handler: injectionHandler(
        core.reader,
        { agentImage: w.agentImage, callerVerified: clientAuth !== undefined, fileEnv: w.fileEnv, insecureAllowHttp: opts.insecureAllowHttp },
        { log, synced: core.synced },
      ),
      ...(w.certDir ? { externalCerts: () => readCertDir(w.certDir as string) } : {}),
      certStore: new KubeWebhookCertStore(clients.core, { namespace: core.operatorNamespace, name: DEFAULT_WEBHOOK_SECRET_NAME }, onWrite, core.owner),
      webhookConfig: new KubeWebhookConfig(clients.admission, onWrite),
      log,
      metrics: metrics.webhook,
      ...(env.onResponse ? { onResponse: env.onResponse } : {}),
    },
  );
}

/** `host:port` or `:port` → [host or undefined, port]. */
export function splitHostPort(addr: string): [string | undefined, number] {
  const i = addr.lastIndexOf(':');
  const port = Number(addr.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--webhook-addr must be HOST:PORT or :PORT, got "${addr}"`);
  const host = addr.slice(0, i);
  return [host === '' ? undefined : host, port];
}
