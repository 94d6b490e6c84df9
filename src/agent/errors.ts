// The agent's refusals and failures. Each has a stable code (documented in docs/agent.md;
// a unit test checks), says whether trying again later can help (the watch retries those
// with backoff; init gives up on the others at once), and carries one line that says what
// is wrong and what to do. Messages never contain a value, a data key or a token.

export const AgentCode = {
  /** The flags or the pod's environment cannot work (no namespace, unreadable token file, http address). */
  Config: 'ESS_AGENT_CONFIG',
  /** The pod's service account may not read the target Secret (403). */
  SecretForbidden: 'ESS_AGENT_SECRET_FORBIDDEN',
  /** The target Secret does not exist (404). */
  SecretNotFound: 'ESS_AGENT_SECRET_NOT_FOUND',
  /** The Kubernetes API could not be reached or failed. */
  KubeUnavailable: 'ESS_AGENT_KUBE_UNAVAILABLE',
  /** The Secret is not controlled by the SecretSync named on the command line. */
  NotControlled: 'ESS_AGENT_NOT_CONTROLLED',
  /** A malformed envelope, or a ciphertext that does not open (altered or copied). */
  Envelope: 'ESS_AGENT_ENVELOPE',
  /** --version names a version the Secret does not hold. */
  VersionNotHeld: 'ESS_AGENT_VERSION_NOT_HELD',
  /** A key name or mount annotation that cannot be written as asked. */
  InvalidContent: 'ESS_AGENT_INVALID_CONTENT',
  /** Vault refused the Kubernetes-auth login. */
  VaultLoginDenied: 'ESS_AGENT_VAULT_LOGIN_DENIED',
  /** Vault refused the Transit decrypt. */
  VaultDenied: 'ESS_AGENT_VAULT_DENIED',
  /** Vault could not be reached or failed. */
  VaultUnavailable: 'ESS_AGENT_VAULT_UNAVAILABLE',
  /** AWS KMS refused Decrypt (access denied, disabled key, bad credentials). */
  KmsDenied: 'ESS_AGENT_KMS_DENIED',
  /** AWS KMS says the wrapped data key is not a ciphertext for this key and context. */
  KmsInvalidCiphertext: 'ESS_AGENT_KMS_INVALID_CIPHERTEXT',
  /** AWS KMS could not be reached or failed. */
  KmsUnavailable: 'ESS_AGENT_KMS_UNAVAILABLE',
  /** spec.mount asks for an owner the agent, running as another non-root user, cannot give the files. */
  Owner: 'ESS_AGENT_OWNER',
  /** The files could not be written. */
  Write: 'ESS_AGENT_WRITE',
} as const;
export type AgentCode = (typeof AgentCode)[keyof typeof AgentCode];

const RETRYABLE: ReadonlySet<AgentCode> = new Set<AgentCode>([
  AgentCode.KubeUnavailable,
  AgentCode.VaultUnavailable,
  AgentCode.KmsUnavailable,
  AgentCode.Write,
]);

export class AgentError extends Error {
  readonly retryable: boolean;
  constructor(
    readonly code: AgentCode,
    message: string,
  ) {
    super(message);
    this.name = 'AgentError';
    this.retryable = RETRYABLE.has(code);
  }
}

/** Whether `code` is one a later attempt may get past. */
export const isRetryableCode = (code: AgentCode): boolean => RETRYABLE.has(code);
