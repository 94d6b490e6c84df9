// What a failed unwrap means for the agent. The Transit and KMS adapters already turn
// Vault and AWS answers into the operator's typed errors with sanitised text; here those
// become the agent's refusals, with the fix a pod owner can make: the Vault role's policy
// line, the kms:Decrypt grant of the pod's AWS identity, or a Secret to have rewritten
// when its wrapped key does not open (altered, or copied from another SecretSync or
// namespace). Outages stay retryable.
import {
  InvalidValueError,
  SecretSyncError,
  SourceAuthError,
  SourceUnavailableError,
  sanitize,
} from '../errors.js';
import { AgentCode, AgentError } from './errors.js';

const REWRITE = 'delete the Secret so the operator writes it again';

function textOf(err: unknown): string {
  return sanitize(err instanceof Error ? err.message : String(err), 400);
}

export interface TransitFailureContext {
  /** `<mount>/decrypt/<key>`, as a policy names it. */
  path: string;
  /** Whose policy: `Kubernetes auth role "app" at auth/kubernetes`. */
  identity: string;
  version: number;
  /** HTTP status of the failed call, when Vault answered. */
  status: number | undefined;
}

export function transitFailure(err: unknown, c: TransitFailureContext): AgentError {
  if (err instanceof AgentError) return err;
  if (c.status === 403) {
    return new AgentError(
      AgentCode.VaultDenied,
      `Vault denied Transit decrypt at "${c.path}" to ${c.identity} (HTTP 403): ` +
        `the role's token policies must allow it: path "${c.path}" { capabilities = ["update"] }`,
    );
  }
  if (err instanceof InvalidValueError) {
    return new AgentError(AgentCode.Envelope, `the data key of version ${c.version} does not unwrap: ${textOf(err)}; ${REWRITE}`);
  }
  if (err instanceof SourceUnavailableError || !(err instanceof SecretSyncError)) {
    return new AgentError(AgentCode.VaultUnavailable, `unwrapping the data key of version ${c.version} failed: ${textOf(err)}; will retry`);
  }
  return new AgentError(AgentCode.VaultDenied, `unwrapping the data key of version ${c.version} was refused: ${textOf(err)}`);
}

export interface KmsFailureContext {
  keyId: string;
  region: string;
  version: number;
  context: Record<string, string>;
}

const AWS_CODE = /\(([A-Za-z]+(?:Exception|Error|Denied|TokenId|DoesNotMatch))\)/;

/** The AWS error code of a raw SDK error, or the one a typed error's message carries. */
function awsCode(err: unknown): string | undefined {
  const e = err as { name?: unknown; Code?: unknown } | null;
  if (!(err instanceof SecretSyncError)) {
    if (typeof e?.Code === 'string') return e.Code;
    if (typeof e?.name === 'string' && e.name !== 'Error') return e.name;
  }
  return err instanceof Error ? AWS_CODE.exec(err.message)?.[1] : undefined;
}

export function kmsFailure(err: unknown, c: KmsFailureContext): AgentError {
  if (err instanceof AgentError) return err;
  const code = awsCode(err);
  const ctx = Object.entries(c.context)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  if (err instanceof InvalidValueError || code === 'InvalidCiphertextException' || code === 'IncorrectKeyException') {
    return new AgentError(
      AgentCode.KmsInvalidCiphertext,
      `AWS KMS could not decrypt the data key of version ${c.version} with key ${c.keyId} and encryption context ${ctx}` +
        `${code ? ` (${code})` : ''}: the wrapped key was altered, or copied from another SecretSync or namespace; ${REWRITE}`,
    );
  }
  if (code === 'AccessDeniedException' || code === 'AccessDenied') {
    return new AgentError(
      AgentCode.KmsDenied,
      `AWS KMS denied Decrypt with key ${c.keyId} in ${c.region} (${code}): the pod's AWS identity (the SDK default chain: ` +
        `IRSA or EKS Pod Identity) needs kms:Decrypt on that key, in its IAM policy and the key policy, with encryption context ${ctx}`,
    );
  }
  if (err instanceof SourceUnavailableError || !(err instanceof SecretSyncError)) {
    return new AgentError(AgentCode.KmsUnavailable, `unwrapping the data key of version ${c.version} failed: ${textOf(err)}; will retry`);
  }
  // Credentials refused, key disabled or not found, key not usable: the adapter says which.
  return new AgentError(
    AgentCode.KmsDenied,
    `unwrapping the data key of version ${c.version} was refused: ${textOf(err)}` +
      (err instanceof SourceAuthError ? "; the pod's AWS identity comes from the SDK default chain (IRSA or EKS Pod Identity)" : ''),
  );
}
