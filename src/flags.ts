// Flags of `secretsync operator`: parsed and checked here (pure), documented in HELP.
import { parseArgs } from 'node:util';
import { parseDuration } from './api/duration.js';
import { UsageError } from './errors.js';
import { defaultSourceConcurrency } from './secretsync/fair-share.js';
import { LOG_FORMATS, type LogFormat } from './observability/log-text.js';

export interface OperatorOptions {
  kubeconfig?: string;
  namespace?: string;
  workers: number;
  qps: number;
  burst: number;
  metricsAddr: string;
  healthAddr: string;
  leaderElect: boolean;
  leaderElectionId: string;
  /** --owner-deployment: the Deployment running the operator, owner of the Lease and Secrets it creates in its namespace. */
  ownerDeployment?: string;
  operatorNamespace?: string;
  logLevel: string;
  logFormat: LogFormat;
  shutdownTimeoutMs: number;
  /** Accept http:// Vault addresses and AWS endpoints (local/dev stacks only). */
  insecureAllowHttp: boolean;
  /** How often each KEK in use is asked for its current version (rotation → re-wrap). */
  kekCheckIntervalMs: number;
  /** How often each cache is relisted in full and compared with the API server. */
  resyncPeriodMs: number;
  /** A watch that delivers nothing (no event, no bookmark) this long is abandoned and its cache relisted. */
  watchSilenceMs: number;
  /** Total time per secret-manager request, body included. */
  sourceTimeoutMs: number;
  /** Largest secret-manager response accepted, in bytes. */
  sourceMaxResponseBytes: number;
  /** Reconciles reaching one namespace's SecretSources at once. */
  sourceConcurrency: number;
  /** Secrets one SecretSync's dataFrom finds may discover in all. */
  findMaxSecrets: number;
  webhook: WebhookFlags;
}

export interface WebhookFlags {
  /** HOST:PORT to serve admission on; undefined: no webhook. */
  addr: string | undefined;
  /** tls.crt / tls.key / ca.crt provided from outside (e.g. cert-manager); undefined: self-managed in a Secret. */
  certDir: string | undefined;
  configName: string;
  failurePolicy: 'Fail' | 'Ignore';
  timeoutSeconds: number;
  /** In a cluster: the Service in the operator namespace that fronts the webhook port. */
  service: string;
  /** The image of the injected agent containers (the operator's own). */
  agentImage: string;
  /** --webhook-client-ca: PEM file of the CA signing the API server's webhook client certificate; callers without one are refused at TLS. */
  clientCaFile: string | undefined;
  /** --webhook-client-names: allowed CN / DNS SAN of that certificate (empty: any the CA signed). */
  clientNames: string[];
  /**
   * --webhook-file-env: `verified` (default) looks SecretSyncs up (`<KEY>_FILE` env vars,
   * admission refusals) only for a caller proved to be the API server (--webhook-client-ca)
   * and answers others blind; `always` looks them up for any caller, which lets whoever
   * reaches the port learn the key names of a SecretSync it guesses (the platform team's
   * explicit choice).
   */
  fileEnv: 'verified' | 'always';
}

/** The image the agent containers run by default: the operator's own release. */
export const DEFAULT_AGENT_IMAGE = 'ghcr.io/secretsync/secretsync:0.1.0';

export const OPERATOR_HELP = `Usage: secretsync operator [flags]

Runs the SecretSync controller: watches SecretSync, SecretSource and ClusterSecretSource
objects and keeps the target Secrets in step with the secret managers.

Flags:
  --kubeconfig PATH            kubeconfig to use; default: $KUBECONFIG (a list of files is merged), else
                               ~/.kube/config, else the in-cluster service account (its token file mounted),
                               else http://localhost:8080
  --namespace NS               watch SecretSyncs and SecretSources in this namespace only (the webhook is then
                               sent only this namespace's pods); default: all namespaces
  --operator-namespace NS      namespace of the operator: ClusterSecretSource secret references, the HMAC key
                               Secret and the leader Lease live here; default: $POD_NAMESPACE, else the
                               in-cluster service account's namespace, else "secretsync-system"
  --workers N                  concurrent reconciles (different SecretSyncs); default 20. Reconciles wait on
                               I/O, and 20 in flight let one AWS BatchGetSecretValue serve 20 SecretSyncs
  --qps N                      client-side limit of Kubernetes API requests per second; default 50.
                               Only changes cost requests: a new SecretSync takes 3 writes (Secret, status,
                               event), a quiet refresh none, a restart none (everything is read from watch
                               caches). So 50/s brings 1,000 new SecretSyncs to Ready in about a minute and
                               10,000 in about ten, while a 10,000-object cluster at rest sees no writes; the
                               API server's priority and fairness still applies on top
  --burst N                    requests allowed at once above --qps (a change wave); default 100
  --metrics-addr HOST:PORT     serve Prometheus /metrics here; default :8080 ("0" disables)
  --health-addr HOST:PORT      serve /healthz and /readyz here; default :8081 ("0" disables)
  --leader-elect               run only while holding the Lease (15s lease, 10s renew deadline, 2s retry);
                               use it whenever more than one replica runs; default off
  --leader-election-id NAME    name of the leader Lease; default "secretsync-leader"
  --owner-deployment NAME      the Deployment in the operator namespace that runs the operator (the chart sets it):
                               the Lease and Secrets the operator creates there name it as their owner, so
                               deleting it (helm uninstall) removes them too
  --log-level LEVEL            trace, debug, info, warn, error; default info
  --log-format FORMAT          json (default: one JSON object a line, for log collectors) or text (one readable
                               line a record: time (UTC), level, message, key=value fields; coloured on a
                               terminal unless $NO_COLOR is set). Both are redacted alike
  --shutdown-timeout DURATION  on SIGTERM, how long to wait for in-flight reconciles; default 30s
  --insecure-allow-http        accept http:// in spec.vault.address and spec.aws.endpoint. For local/dev stacks
                               only: tokens, credentials and secret values then cross the network unencrypted.
                               Without it such a source is Ready=False (InvalidSpec); default off. The injected
                               agents get the same flag
  --kek-check-interval DURATION
                               envelope mode: how often each key-encryption key in use is asked for its current
                               version (one call per KEK, not per SecretSync); after a rotation the data keys
                               are re-wrapped in the background, without a new version or a rollout; default 5m.
                               A force-sync of a SecretSync asks its KEK at once
  --resync-period DURATION     how often every cache is relisted in full and compared with the API server, so
                               what a broken watch missed is repaired; default 10m (at least 1s)
  --watch-silence-timeout DURATION
                               a watch that delivers nothing, not even the API server's bookmark (about once a
                               minute), for this long is abandoned and its cache relisted: a connection that went
                               silent without closing (a proxy that stopped forwarding; TCP keepalive does not
                               see it) is noticed within it; default 5m (at least 1s; under about a minute,
                               quiet healthy watches are relisted for nothing)
  --source-timeout DURATION    total time one request to a secret manager may take (Vault, AWS Secrets Manager,
                               STS, KMS): connecting, the headers and the whole body; default 15s. A source's
                               address is chosen by whoever writes the SecretSource, so one that never answers
                               or trickles bytes costs a reconcile this long, then Ready=False (SourceUnavailable)
  --source-max-response-bytes N
                               largest answer accepted from a secret manager; reading stops there and the call
                               fails (SourceUnavailable: "response larger than N bytes"); default 4194304 (4 MiB,
                               far above a SecretSync's 1 MiB maximum and a full AWS batch of 20 secrets)
  --source-concurrency N       at most N reconciles at once that reach the SecretSources of one namespace
                               (its sync sources and KEK sources together); the others wait without holding
                               a worker, in order. Reconciles through ClusterSecretSources only are not limited.
                               Default: a quarter of --workers (at least 1), so a namespace whose sources hang
                               holds at most that many workers and the rest serve everyone else
  --find-max-secrets N         at most N secrets one SecretSync's spec.dataFrom[].find entries may discover in all
                               (each one is read at every refresh); more is Ready=False (FindLimitExceeded), and
                               so is listing more than 20 times N names (shared among its finds). Default 100
  --webhook-addr HOST:PORT     serve the pod-injection admission webhook (TLS) here; default :9443 ("0" disables).
                               Every replica serves it, leader or not. Its CA and serving certificate are
                               self-managed in Secret secretsync-webhook-tls of the operator namespace (renewed
                               at 2/3 of their lifetime; the webhook configuration's caBundle follows)
  --webhook-cert-dir DIR       serve tls.crt/tls.key from DIR and register ca.crt (e.g. a cert-manager Certificate's
                               Secret, mounted), re-read every minute, instead of the self-managed CA
  --webhook-config-name NAME   the MutatingWebhookConfiguration the operator keeps current; default "secretsync"
  --webhook-failure-policy P   Fail (default: a pod asking for injection is refused while no replica answers) or
                               Ignore (it is admitted uninjected; the operator records an event on its SecretSync
                               when it sees it). Pods that do not ask are never sent to the webhook
  --webhook-timeout DURATION   how long the API server waits for an answer, 1s to 30s; default 10s
  --webhook-service NAME       in a cluster, the Service in the operator namespace in front of --webhook-addr's
                               port; default "secretsync-webhook". Outside a cluster the webhook is registered
                               by URL on 127.0.0.1 instead
  --webhook-client-ca FILE     require a client certificate signed by the CA(s) in FILE (PEM) on the webhook port:
                               the one the API server presents, set in its --admission-control-config-file
                               (a WebhookAdmissionConfiguration kubeConfigFile whose users entry for the webhook's
                               host, or "*", has client-certificate/client-key). Callers without one are refused
                               in the TLS handshake. Without this flag anyone who reaches the port may send an
                               AdmissionReview, and refusals then say only what the pod's namespace may read
  --webhook-client-names LIST  with --webhook-client-ca: the certificate's CN or a DNS name must be one of these
                               (comma-separated; default: any certificate the CA signed)
  --webhook-file-env WHEN      verified (default): look SecretSyncs up (<KEY>_FILE env vars, admission refusals)
                               only for callers verified by --webhook-client-ca, and answer others blind, from
                               the request alone (the agent checks in the pod); always: look them up for any
                               caller (who then learns the key names of a SecretSync whose name and granted
                               service account it guesses)
  --agent-image IMAGE          image of the injected agent containers; default the operator's own release image
  -h, --help                   show this help
`;


function intFlag(name: string, v: string | undefined, def: number, min: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got "${v}"`);
  return n;
}

export function parseOperatorFlags(argv: string[]): OperatorOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        kubeconfig: { type: 'string' },
        namespace: { type: 'string' },
        'operator-namespace': { type: 'string' },
        workers: { type: 'string' },
        qps: { type: 'string' },
        burst: { type: 'string' },
        'metrics-addr': { type: 'string' },
        'health-addr': { type: 'string' },
        'leader-elect': { type: 'boolean' },
        'leader-election-id': { type: 'string' },
        'owner-deployment': { type: 'string' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        'shutdown-timeout': { type: 'string' },
        'insecure-allow-http': { type: 'boolean' },
        'kek-check-interval': { type: 'string' },
        'resync-period': { type: 'string' },
        'watch-silence-timeout': { type: 'string' },
        'source-timeout': { type: 'string' },
        'source-max-response-bytes': { type: 'string' },
        'source-concurrency': { type: 'string' },
        'find-max-secrets': { type: 'string' },
        'webhook-addr': { type: 'string' },
        'webhook-cert-dir': { type: 'string' },
        'webhook-config-name': { type: 'string' },
        'webhook-failure-policy': { type: 'string' },
        'webhook-timeout': { type: 'string' },
        'webhook-service': { type: 'string' },
        'webhook-client-ca': { type: 'string' },
        'webhook-client-names': { type: 'string' },
        'webhook-file-env': { type: 'string' },
        'agent-image': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const level = v['log-level'] ?? 'info';
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(level)) {
    throw new UsageError(`--log-level must be one of trace, debug, info, warn, error; got "${level}"`);
  }
  const format = v['log-format'] ?? 'json';
  if (!(LOG_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--log-format must be json or text, got "${format}"`);
  }
  const shutdown = parseDuration(v['shutdown-timeout'] ?? '30s');
  if (shutdown === undefined) throw new UsageError(`--shutdown-timeout must be a duration like 30s, got "${v['shutdown-timeout']}"`);
  const kekCheck = parseDuration(v['kek-check-interval'] ?? '5m');
  if (kekCheck === undefined || kekCheck < 1000) {
    throw new UsageError(`--kek-check-interval must be a duration of at least 1s like 5m, got "${v['kek-check-interval']}"`);
  }
  const resync = parseDuration(v['resync-period'] ?? '10m');
  if (resync === undefined || resync < 1000) {
    throw new UsageError(`--resync-period must be a duration of at least 1s like 10m, got "${v['resync-period']}"`);
  }
  const silence = parseDuration(v['watch-silence-timeout'] ?? '5m');
  if (silence === undefined || silence < 1000) {
    throw new UsageError(`--watch-silence-timeout must be a duration of at least 1s like 5m, got "${v['watch-silence-timeout']}"`);
  }
  const sourceTimeout = parseDuration(v['source-timeout'] ?? '15s');
  if (sourceTimeout === undefined || sourceTimeout < 1000 || sourceTimeout > 300_000) {
    throw new UsageError(`--source-timeout must be a duration from 1s to 5m like 15s, got "${v['source-timeout']}"`);
  }
  const workers = intFlag('workers', v.workers, 20, 1);
  const policy = v['webhook-failure-policy'] ?? 'Fail';
  if (policy !== 'Fail' && policy !== 'Ignore') throw new UsageError(`--webhook-failure-policy must be Fail or Ignore, got "${policy}"`);
  const timeout = parseDuration(v['webhook-timeout'] ?? '10s');
  if (timeout === undefined || timeout < 1000 || timeout > 30_000) {
    throw new UsageError(`--webhook-timeout must be a duration from 1s to 30s (the API server's limits), got "${v['webhook-timeout']}"`);
  }
  const webhookAddr = v['webhook-addr'] ?? ':9443';
  const clientNames = (v['webhook-client-names'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (clientNames.length > 0 && v['webhook-client-ca'] === undefined) {
    throw new UsageError('--webhook-client-names needs --webhook-client-ca (the CA that signs the certificates those names are checked in)');
  }
  const fileEnv = v['webhook-file-env'] ?? 'verified';
  if (fileEnv !== 'verified' && fileEnv !== 'always') throw new UsageError(`--webhook-file-env must be verified or always, got "${fileEnv}"`);
  return {
    kubeconfig: v.kubeconfig,
    namespace: v.namespace,
    operatorNamespace: v['operator-namespace'],
    workers,
    qps: intFlag('qps', v.qps, 50, 1),
    burst: intFlag('burst', v.burst, 100, 1),
    metricsAddr: v['metrics-addr'] ?? ':8080',
    healthAddr: v['health-addr'] ?? ':8081',
    leaderElect: v['leader-elect'] ?? false,
    leaderElectionId: v['leader-election-id'] ?? 'secretsync-leader',
    ...(v['owner-deployment'] !== undefined ? { ownerDeployment: v['owner-deployment'] } : {}),
    logLevel: level,
    logFormat: format as LogFormat,
    shutdownTimeoutMs: shutdown,
    insecureAllowHttp: v['insecure-allow-http'] ?? false,
    kekCheckIntervalMs: kekCheck,
    resyncPeriodMs: resync,
    watchSilenceMs: silence,
    sourceTimeoutMs: sourceTimeout,
    sourceMaxResponseBytes: intFlag('source-max-response-bytes', v['source-max-response-bytes'], 4 * 1024 * 1024, 64 * 1024),
    sourceConcurrency: intFlag('source-concurrency', v['source-concurrency'], defaultSourceConcurrency(workers), 1),
    findMaxSecrets: intFlag('find-max-secrets', v['find-max-secrets'], 100, 1),
    webhook: {
      addr: webhookAddr === '0' ? undefined : webhookAddr,
      certDir: v['webhook-cert-dir'],
      configName: v['webhook-config-name'] ?? 'secretsync',
      failurePolicy: policy,
      timeoutSeconds: Math.round(timeout / 1000),
      service: v['webhook-service'] ?? 'secretsync-webhook',
      agentImage: v['agent-image'] ?? DEFAULT_AGENT_IMAGE,
      clientCaFile: v['webhook-client-ca'],
      clientNames,
      fileEnv,
    },
  };
}
