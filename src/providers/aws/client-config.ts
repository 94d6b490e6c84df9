// The configuration every AWS SDK client of ours gets (Secrets Manager, STS, and the KMS
// adapter in kms.ts): one attempt per call (callers retry, back off and count calls
// themselves), no AWS_ENDPOINT_URL* or config-file endpoints (only the spec decides where
// we connect), connection / socket-idle timeouts, credentials that are either given or,
// only for DEFAULT_CHAIN, the SDK's default chain, and (boundResponses) a total deadline
// per call and a cap on the answer's bytes; with the credential and option types. Kept
// apart from client.ts so the KMS adapter shares it without loading the Secrets Manager
// SDK, and client.ts imports it (never the other way round).
import { Readable } from 'node:stream';
import { DEFAULT_MAX_RESPONSE_BYTES, DeadlineError, boundedBody } from '../limits.js';

/**
 * The SDK's default credential chain: in the operator its own identity, in the agent the
 * pod's. Only a ClusterSecretSource with auth.operatorIdentity, and the agent, pass it.
 */
export const DEFAULT_CHAIN = 'sdk-default-chain';

/**
 * The error name of an answer that parsed but is not what AWS sends (a misconfigured or
 * hostile endpoint; client.ts): errors.ts says to check spec.aws.endpoint.
 */
export const MALFORMED_ANSWER = 'MalformedAnswer';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When temporary credentials expire; the SDK asks again shortly before. */
  expiration?: Date;
}

export type CredentialProvider = () => Promise<AwsCredentials>;

export type ClientCredentials = AwsCredentials | CredentialProvider | typeof DEFAULT_CHAIN;

export interface AwsClientOptions {
  region: string;
  /** Endpoint override; undefined: the regional AWS endpoint. */
  endpoint?: string;
  /** Always set: DEFAULT_CHAIN is the only way to the SDK's default chain. */
  credentials: ClientCredentials;
  /** Total time per call (connect, headers, body); also the connection and socket-idle timeout. */
  timeoutMs: number;
  /** Largest answer accepted, in bytes (default 4 MiB). */
  maxResponseBytes?: number;
}

export function sdkClientConfig(o: AwsClientOptions) {
  // Checked at run time too: a caller built without types (or a bug) must not reach the
  // default chain by leaving credentials out.
  if (o.credentials === undefined || o.credentials === null) {
    throw new Error('AWS client without credentials: pass credentials, or DEFAULT_CHAIN to use the default chain explicitly');
  }
  return {
    region: o.region,
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    ...(o.credentials === DEFAULT_CHAIN ? {} : { credentials: o.credentials }),
    maxAttempts: 1,
    ignoreConfiguredEndpointUrls: true,
    // Without throwOnRequestTimeout the SDK only logs a warning when requestTimeout passes
    // and keeps waiting: an endpoint that never answers would hold the call for ever.
    requestHandler: { connectionTimeout: o.timeoutMs, requestTimeout: o.timeoutMs, throwOnRequestTimeout: true },
  };
}

interface RawOutput {
  response?: { body?: unknown };
}
type Next = (args: unknown) => Promise<RawOutput>;

/** The part of an SDK client boundResponses needs. */
export interface WithMiddleware {
  middlewareStack: { add(middleware: (next: Next) => Next, options: Record<string, unknown>): void };
}

/**
 * The SDK's socket timeouts are idle timeouts: a server that trickles bytes, or streams an
 * endless body (which the SDK would collect whole into memory), is never cut off. This
 * middleware sits next to the transport (inside the deserializer): the answer's headers
 * must come within the deadline, and its body streams through a byte counter that fails
 * past `maxResponseBytes` or when the same deadline passes, closing the connection.
 */
export function boundResponses<C>(client: C, o: Pick<AwsClientOptions, 'timeoutMs' | 'maxResponseBytes'>): C {
  const max = o.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const bounded = (next: Next): Next => async (args) => {
    const deadline = Date.now() + o.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeadlineError(o.timeoutMs)), o.timeoutMs);
    });
    try {
      const out = await Promise.race([next(args), late]);
      const body = out.response?.body;
      if (out.response && body instanceof Readable) out.response.body = boundedBody(body, max, deadline, o.timeoutMs);
      return out;
    } finally {
      clearTimeout(timer);
    }
  };
  (client as unknown as WithMiddleware).middlewareStack.add(bounded, {
    step: 'deserialize',
    priority: 'low',
    name: 'secretsyncResponseLimits',
    override: true,
  });
  return client;
}
