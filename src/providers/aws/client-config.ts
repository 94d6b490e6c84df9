// The configuration every AWS SDK client of ours gets (Secrets Manager, STS, and the KMS
// adapter in src/crypto/aws-kms.ts): one attempt per call (callers retry, back off and
// count calls themselves), no AWS_ENDPOINT_URL* or config-file endpoints (only the spec
// decides where we connect), connection / request timeouts, and credentials that are
// either given or, only for DEFAULT_CHAIN, the SDK's default chain. Kept apart from
// client.ts so the KMS adapter shares it without loading the Secrets Manager SDK.
import type { AwsClientOptions } from './client.js';

/**
 * The SDK's default credential chain: in the operator its own identity, in the agent the
 * pod's. Only a ClusterSecretSource with auth.operatorIdentity, and the agent, pass it.
 */
export const DEFAULT_CHAIN = 'sdk-default-chain';

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
    requestHandler: { connectionTimeout: o.timeoutMs, requestTimeout: o.timeoutMs },
  };
}
