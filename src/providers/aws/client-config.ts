// The configuration every AWS SDK client of ours gets (Secrets Manager, STS, and the KMS
// adapter in src/crypto/aws-kms.ts): one attempt per call (callers retry, back off and
// count calls themselves), no AWS_ENDPOINT_URL* or config-file endpoints (only the spec
// decides where we connect), and connection / request timeouts. Kept apart from
// client.ts so the KMS adapter shares it without loading the Secrets Manager SDK.
import type { AwsClientOptions } from './client.js';

export function sdkClientConfig(o: AwsClientOptions) {
  return {
    region: o.region,
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    ...(o.credentials ? { credentials: o.credentials } : {}),
    maxAttempts: 1,
    ignoreConfiguredEndpointUrls: true,
    requestHandler: { connectionTimeout: o.timeoutMs, requestTimeout: o.timeoutMs },
  };
}
