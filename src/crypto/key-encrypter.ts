// The port between envelope encryption and a key service. A KeyEncrypter holds one key
// encryption key (KEK) in Vault Transit or AWS KMS and does the three things the envelope
// needs of it: mint a data key (plaintext for us, wrapped for the Secret), unwrap one
// (the agent, with the pod's identity), and re-wrap one under the KEK's newest version
// without the plaintext ever leaving the key service. The operator only mints and
// re-wraps; only pods decrypt.

/** Whom a data key is for: KMS binds it as the encryption context; Transit ignores it. */
export interface KeyContext {
  namespace: string;
  secretsync: string;
}

/**
 * A KEK version: Transit's key version ("3"), or for KMS the ARN of the key that wrapped
 * it (an alias moved to another key is a new version).
 */
export type KekVersion = string;

export interface DataKey {
  /** 32 bytes for AES-256-GCM. Never logged, never stored. */
  plaintext: Buffer;
  /** The data key wrapped by the KEK, as the key service returned it (text). */
  wrapped: string;
  kekVersion: KekVersion;
}

export interface WrappedKey {
  wrapped: string;
  kekVersion: KekVersion;
}

export interface KeyEncrypter {
  /** A fresh 256-bit data key, wrapped by the KEK's current version. */
  generateDataKey(ctx: KeyContext): Promise<DataKey>;
  /** The plaintext of a wrapped data key (pods only). */
  decrypt(wrapped: string, ctx: KeyContext): Promise<Buffer>;
  /** The same data key wrapped by the KEK's current version; the plaintext stays in the key service. */
  rewrap(wrapped: string, ctx: KeyContext): Promise<WrappedKey>;
  /** The KEK version new data keys are wrapped with now. */
  currentVersion(): Promise<KekVersion>;
}

/** KMS encryption context for a SecretSync's data keys (documented in docs/envelope-format.md). */
export function kmsEncryptionContext(ctx: KeyContext): Record<string, string> {
  return { 'secretsync.io/namespace': ctx.namespace, 'secretsync.io/secretsync': ctx.secretsync };
}
