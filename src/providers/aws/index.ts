// The AWS Secrets Manager provider (spec.aws of a SecretSource or ClusterSecretSource):
// static keys from a Secret of the source namespace, a service account's token exchanged
// through STS AssumeRoleWithWebIdentity, or (ClusterSecretSource with operatorIdentity
// only) the SDK's default chain; an optional role assumed through STS, batched reads
// (BatchGetSecretValue, 20 secrets a call) with in-flight de-duplication, a per-source
// concurrency limit and token bucket, and retries with jittered backoff on throttling.
// The same credentials serve KMS for envelope mode (keyEncrypter).
// This file wires the pieces into the ProviderFactory the registry knows; only client.ts
// talks to the SDK.
// Like all of src/providers/, may import src/errors.ts, api/, runtime/, observability/,
// crypto/ and the shared files of providers/; not providers/vault/ (eslint.config.js).
import type { AnySource, AwsProviderSpec } from '../../api/types.js';
import { InvalidSpecError } from '../../errors.js';
import { realClock, type Clock } from '../../runtime/clock.js';
import type { ApiAudienceOptions } from '../audiences.js';
import type { TransportOptions } from '../insecure-http.js';
import type { ProviderDeps, ProviderFactory, SecretProvider } from '../provider.js';
import { sourceKey } from '../../api/source-ref.js';
import { CallGate, type RetryPolicy } from './call-gate.js';
import { createSecretsApi, createStsApi, type SecretsApi, type StsApi } from './client.js';
import { Connection } from './connection.js';
import { awsKms } from './kms.js';
import { AwsProvider } from './provider.js';
import { MAX_BATCH, SecretReader } from './secret-reader.js';
import { validateAwsSpec } from './validate.js';

export { AwsProvider } from './provider.js';
export type { SecretsApi, StsApi } from './client.js';

// The agent's port: src/agent/ imports only this file of the AWS provider, and of it only
// this (the eslint folder rules check it): the KMS adapter on the pod's own identity.
export { kmsWithDefaultChain } from './kms.js';

export interface AwsFactoryOptions extends TransportOptions, ApiAudienceOptions {
  /** Total time per call, body included (default 10 s). */
  timeoutMs?: number;
  /** Largest answer accepted per call, in bytes (default 4 MiB). */
  maxResponseBytes?: number;
  /**
   * Batching of current-version reads: at most maxSize ids (20), sent after an idle gap of
   * idleMs (100 ms), or busyIdleMs (400 ms) right after a full batch, and maxWaitMs (2 s)
   * after the first read at the latest.
   */
  batch?: { maxSize?: number; idleMs?: number; busyIdleMs?: number; maxWaitMs?: number };
  /** AWS calls in flight per source (default 4). */
  concurrency?: number;
  /** Calls per second per source, and the burst above it (defaults 20 and 40). */
  qps?: number;
  burst?: number;
  /** Attempts per call and backoff bounds (defaults: 4 attempts, 200 ms doubling to 5 s, jittered). */
  retry?: Partial<RetryPolicy>;
  /** RoleSessionName for AssumeRole (default "secretsync"; shows in CloudTrail). */
  sessionName?: string;
  /** Lifetime of assumed-role credentials (default 3600 s). */
  roleDurationSeconds?: number;
  clock?: Clock;
  random?: () => number;
  /** Wrap the SDK adapters of each provider (tests observe or perturb real calls through them). */
  wrapSecretsApi?: (api: SecretsApi) => SecretsApi;
  wrapStsApi?: (api: StsApi) => StsApi;
}

export const AWS_DEFAULTS = {
  timeoutMs: 10_000,
  batch: { maxSize: MAX_BATCH, idleMs: 100, busyIdleMs: 400, maxWaitMs: 2_000 },
  concurrency: 4,
  qps: 20,
  burst: 40,
  retry: { attempts: 4, baseMs: 200, maxMs: 5_000 },
  sessionName: 'secretsync',
  roleDurationSeconds: 3600,
} as const;

function awsSpec(source: AnySource): AwsProviderSpec {
  const spec = source.spec.aws;
  if (!spec) throw new InvalidSpecError(`${sourceKey(source)} has no spec.aws block`);
  return spec;
}

/**
 * An AWS ProviderFactory; `awsProvider` is the one with defaults (an https endpoint, if
 * any). The composition root passes `allowInsecureHttp` from --insecure-allow-http.
 */
export function createAwsProviderFactory(opts: AwsFactoryOptions = {}): ProviderFactory {
  const d = AWS_DEFAULTS;
  return {
    name: 'aws',
    alignRefreshes: true, // BatchGetSecretValue serves 20 syncs due together in one call
    validate(source: AnySource, secretNamespace: string): void {
      validateAwsSpec(source.spec.aws, secretNamespace, { ...opts, kind: source.kind });
    },
    create(source: AnySource, deps: ProviderDeps): SecretProvider {
      const spec = awsSpec(source);
      validateAwsSpec(spec, deps.secretNamespace, { ...opts, kind: source.kind });
      const name = sourceKey(source);
      const clock = opts.clock ?? realClock;
      const connection = new Connection({
        source: name,
        kind: source.kind,
        spec,
        kube: deps.kube,
        secretNamespace: deps.secretNamespace,
        timeoutMs: opts.timeoutMs ?? d.timeoutMs,
        maxResponseBytes: opts.maxResponseBytes,
        sessionName: opts.sessionName ?? d.sessionName,
        roleDurationSeconds: opts.roleDurationSeconds ?? d.roleDurationSeconds,
        onCall: deps.onCall,
        makeSecretsApi: (o) => (opts.wrapSecretsApi ?? ((a) => a))(createSecretsApi(o)),
        makeStsApi: (o) => (opts.wrapStsApi ?? ((a) => a))(createStsApi(o)),
        makeKms: awsKms,
      });
      const gate = new CallGate({
        source: name,
        concurrency: opts.concurrency ?? d.concurrency,
        qps: opts.qps ?? d.qps,
        burst: opts.burst ?? d.burst,
        retry: { ...d.retry, ...opts.retry },
        clock,
        random: opts.random,
        onCall: deps.onCall,
      });
      const reader = new SecretReader({ source: name, connection, gate, clock, batch: { ...d.batch, ...opts.batch } });
      return new AwsProvider({ source: name, connection, gate, reader });
    },
  };
}

export const awsProvider: ProviderFactory = createAwsProviderFactory();
