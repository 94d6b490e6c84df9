// WebhookServing: the Runnable that keeps the injection webhook reachable and trusted on
// every replica (leader or not; the API server may call any of them through the Service).
// A round: ensure the shared certificates (create or renew, see cert-store.ts), register
// the caBundle, then serve the current certificate. Rounds run at start, at the next
// renewal point and at least every `recheckMs` (to pick up a renewal another replica
// made, and to repair a deleted or edited configuration). When the trust bundle changes,
// the configuration is written first and the new certificate served only after
// `propagationMs`, so the API server never sees a certificate it does not trust yet (a new
// CA's bundle still holds the old CA, which keeps trusting the certificate being served).
import type { Logger } from '../observability/logger.js';
import type { WebhookCollectors } from '../observability/metrics.js';
import { realClock, type Clock, type Timer } from '../runtime/clock.js';
import type { Runnable } from '../runtime/manager.js';
import type { AdmissionHandler } from './admission.js';
import { ensureCerts, type CertStorePort } from './cert-store.js';
import { DEFAULT_CA_LIFETIME_MS, DEFAULT_SERVING_LIFETIME_MS, renewalDue, type CertBundle } from './certs.js';
import { register, type FailurePolicy, type RegistrationOptions, type WebhookConfigPort } from './registration.js';
import { MUTATE_PATH, WebhookServer, type ClientAuth } from './server.js';

export interface WebhookServingOptions {
  /** Where the TLS Secret lives; also excluded from injection. */
  operatorNamespace: string;
  /** --namespace: only pods of this namespace are sent to the webhook. */
  watchNamespace?: string;
  /** --webhook-secret-name (default secretsync-webhook-tls). */
  secretName: string;
  /** --webhook-config-name: the MutatingWebhookConfiguration (default secretsync). */
  configName: string;
  /**
   * In a cluster: the Service in front of the operator pods (--webhook-service-name,
   * port default 443). Absent (no KUBERNETES_SERVICE_HOST): the API server calls
   * https://127.0.0.1:<port>/mutate.
   */
  service?: { name: string; port?: number };
  /** --webhook-port (default 9443); 0 picks a free port (loopback only). */
  port: number;
  /** Bind address; default 127.0.0.1 on loopback, 0.0.0.0 with a Service. */
  host?: string;
  /** --webhook-failure-policy (default Fail). */
  failurePolicy: FailurePolicy;
  /** --webhook-timeout-seconds (default 10; 1..30). */
  timeoutSeconds: number;
  caLifetimeMs?: number;
  servingLifetimeMs?: number;
  /** Longest time between two rounds (default 5 minutes). */
  recheckMs?: number;
  /** How long the API server gets to see a new caBundle before a certificate needing it is served (default 5 s). */
  propagationMs?: number;
  maxBodyBytes?: number;
  /** --webhook-client-ca / --webhook-client-names: only a caller with such a client certificate gets past TLS. */
  clientAuth?: ClientAuth;
}

export interface WebhookServingDeps {
  handler: AdmissionHandler;
  /**
   * Certificates provided from outside (--webhook-cert-dir, e.g. cert-manager): read every
   * round instead of the self-managed Secret, never renewed here (the provider renews them).
   */
  externalCerts?: () => Promise<CertBundle>;
  certStore: CertStorePort;
  webhookConfig: WebhookConfigPort;
  clock?: Clock;
  log?: Logger;
  metrics?: WebhookCollectors;
  /** Sees each AdmissionReview answer as sent (SECRETSYNC_TEST_ADMISSION_RECORD). */
  onResponse?: (body: string) => void;
}

export const DEFAULT_WEBHOOK_SECRET_NAME = 'secretsync-webhook-tls';
export const DEFAULT_WEBHOOK_CONFIG_NAME = 'secretsync';
export const DEFAULT_WEBHOOK_PORT = 9443;
const DEFAULT_RECHECK_MS = 5 * 60_000;
const RETRY_MS = 10_000;
const EXTERNAL_RECHECK_MS = 60_000;

/** The names the serving certificate is valid for. */
export function webhookHosts(o: Pick<WebhookServingOptions, 'service' | 'operatorNamespace'>): string[] {
  if (!o.service) return ['127.0.0.1', 'localhost'];
  const svc = `${o.service.name}.${o.operatorNamespace}`;
  return [svc, `${svc}.svc`, `${svc}.svc.cluster.local`];
}

export class WebhookServing implements Runnable {
  private readonly clock: Clock;
  private server: WebhookServer | undefined;
  private boundPort = 0;
  /** What the API server was last told to trust, and what we serve. */
  private registeredBundle: string | undefined;
  private served: CertBundle | undefined;
  private timer: Timer | undefined;
  private round: Promise<void> = Promise.resolve();
  /** Aborted by stop(): a round waiting out propagationMs ends at once instead of holding stop() up. */
  private stopping = new AbortController();
  private stopped = false;

  constructor(
    private readonly o: WebhookServingOptions,
    private readonly d: WebhookServingDeps,
  ) {
    this.clock = d.clock ?? realClock;
    if (o.service && o.port === 0) throw new RangeError('a webhook behind a Service needs a fixed --webhook-port');
  }

  /** The port the server listens on (after start). */
  get port(): number {
    return this.boundPort;
  }

  /** The certificates being served (after start). */
  get bundle(): CertBundle | undefined {
    return this.served;
  }

  private certOptions() {
    return {
      hosts: webhookHosts(this.o),
      caLifetimeMs: this.o.caLifetimeMs ?? DEFAULT_CA_LIFETIME_MS,
      servingLifetimeMs: this.o.servingLifetimeMs ?? DEFAULT_SERVING_LIFETIME_MS,
    };
  }

  private registration(): RegistrationOptions {
    const { service } = this.o;
    return {
      name: this.o.configName,
      operatorNamespace: this.o.operatorNamespace,
      ...(this.o.watchNamespace ? { watchNamespace: this.o.watchNamespace } : {}),
      failurePolicy: this.o.failurePolicy,
      timeoutSeconds: this.o.timeoutSeconds,
      target: service
        ? { service: { namespace: this.o.operatorNamespace, name: service.name, port: service.port ?? 443 } }
        : { url: `https://127.0.0.1:${this.boundPort}${MUTATE_PATH}` },
    };
  }

  /** Certificates, server, registration; then rounds on a timer. Rejects if the first round fails. */
  private async certs(): Promise<{ bundle: CertBundle; wrote?: Awaited<ReturnType<typeof ensureCerts>>['wrote'] }> {
    if (this.d.externalCerts) return { bundle: await this.d.externalCerts() };
    return ensureCerts(this.d.certStore, this.certOptions(), () => new Date(this.clock.now()));
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.stopping = new AbortController();
    const { bundle, wrote } = await this.certs();
    if (wrote) this.d.log?.info({ secretName: this.o.secretName, ...wrote }, 'webhook certificates written');
    this.server = new WebhookServer({
      host: this.o.host ?? (this.o.service ? '0.0.0.0' : '127.0.0.1'),
      port: this.o.port,
      tls: bundle.serving,
      handler: this.d.handler,
      maxBodyBytes: this.o.maxBodyBytes,
      ...(this.o.clientAuth ? { clientAuth: this.o.clientAuth } : {}),
      metrics: this.d.metrics,
      log: this.d.log,
      ...(this.d.onResponse ? { onResponse: this.d.onResponse } : {}),
    });
    this.boundPort = await this.server.listen();
    this.served = bundle;
    try {
      await this.register(bundle);
    } catch (err) {
      await this.server.close();
      throw err;
    }
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    this.timer?.cancel();
    await this.round.catch(() => undefined);
    await this.server?.close();
  }

  /** One round now (serialised with the timer's); resolves when it is done. */
  refresh(): Promise<void> {
    const next = this.round.then(() => this.runRound());
    this.round = next.catch(() => undefined);
    return next;
  }

  private async register(bundle: CertBundle): Promise<void> {
    const wrote = await register(this.d.webhookConfig, this.registration(), bundle.caBundle);
    if (wrote) this.d.log?.info({ config: this.o.configName }, 'webhook configuration applied');
    this.registeredBundle = bundle.caBundle;
  }

  private async runRound(): Promise<void> {
    if (this.stopped || !this.server) return;
    const { bundle, wrote } = await this.certs();
    if (wrote) this.d.log?.info({ secretName: this.o.secretName, ...wrote }, 'webhook certificates written');
    const trustChanged = bundle.caBundle !== this.registeredBundle;
    // Always through register(): it compares first, and repairs a deleted or edited configuration.
    await this.register(bundle);
    if (bundle.serving.cert === this.served?.serving.cert) return;
    // The sleep rejects only when stop() aborts it; the certificate is then not swapped.
    if (trustChanged) await this.clock.sleep(this.o.propagationMs ?? 5_000, this.stopping.signal).catch(() => undefined);
    if (this.stopped) return;
    this.server.setCertificate(bundle.serving);
    this.served = bundle;
    this.d.log?.info({ secretName: this.o.secretName }, 'webhook serving certificate swapped');
  }

  private schedule(delayMs?: number): void {
    if (this.stopped || !this.served) return;
    const recheck = this.o.recheckMs ?? DEFAULT_RECHECK_MS;
    let ms = delayMs;
    // Certificates from a directory are renewed by whoever writes them: look again every minute.
    if (ms === undefined && this.d.externalCerts) ms = Math.min(recheck, EXTERNAL_RECHECK_MS);
    if (ms === undefined) {
      const due = renewalDue(this.served, webhookHosts(this.o), new Date(this.clock.now()));
      ms = due.renew === 'none' ? Math.min(recheck, Math.max(0, due.at.getTime() - this.clock.now()) + 50) : 1_000;
    }
    this.timer?.cancel();
    this.timer = this.clock.setTimer(ms, () => {
      this.refresh().then(
        () => this.schedule(),
        (err: unknown) => {
          this.d.log?.warn({ errorClass: err instanceof Error ? err.constructor.name : typeof err, err: errText(err) }, 'webhook certificate round failed; retrying');
          this.schedule(Math.min(recheck, RETRY_MS));
        },
      );
    });
  }
}

/** Our errors carry sanitised text (kubeError); anything else is reduced to its class. */
function errText(err: unknown): string {
  return err instanceof Error && 'code' in err && typeof (err as { code: unknown }).code === 'string' ? err.message : 'unexpected error';
}
