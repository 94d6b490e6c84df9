// The contract every secret manager plugs in through (after External Secrets Operator's
// provider interface): read one value, read all properties of a secret, validate a spec,
// and release credentials on close. Providers throw only the typed errors of src/errors.ts.
// A provider that fronts a key service also hands out a KeyEncrypter for envelope mode,
// authenticated exactly as its reads are. A provider that can write also offers rotate:
// one crash-safe write of new property values, planned on a version the caller read.
// Reads take a freshness bound (ReadOptions.notBefore) instead of a cache switch: a caller
// says how old a read it accepts, so syncs due at the same tick can share one read.
import type { AnySource, FindSpec, RemoteRef } from '../api/types.js';
import type { KeyEncrypter } from '../crypto/key-encrypter.js';

export interface RemoteValue {
  value: Buffer;
  /** The provider's version id of what was read (Vault KV v2 version, AWS VersionId). */
  version: string;
}

export interface RemoteMap {
  values: Record<string, Buffer>;
  version: string;
}

/** One rotation write: new values for some properties of a secret, planned on version `basedOn`. */
export interface RotationWrite {
  /** Remote path (Vault KV path / AWS secret name or ARN). */
  path: string;
  /** Unique per rotation (a UUID the caller recorded in status before calling): AWS ClientRequestToken. */
  id: string;
  /** The provider version id the caller read and planned on (Vault KV v2 version, AWS VersionId). */
  basedOn: string;
  /** Properties to set to new values; every other property of the secret is kept as it is. */
  set: Record<string, Buffer>;
  /** AWS only: replace a plain-string (non-JSON) secret whole with this value (then `set` is empty). */
  whole?: Buffer;
}

export type RotationResult =
  /** This call wrote the new version. */
  | { outcome: 'written'; version: string }
  /** AWS: a version with ClientRequestToken === id already exists (now promoted to AWSCURRENT if it was not). */
  | { outcome: 'already-written'; version: string }
  /**
   * The source is no longer at basedOn and no version of this id exists: nothing written
   * (an earlier write of ours, or another writer). `version` is the current one.
   */
  | { outcome: 'moved'; version: string };

export interface ReadOptions {
  /**
   * Epoch ms: the answer may come from a read of the same remote secret (same path and
   * version pin) that started at or after this moment, in flight or finished, shared with
   * other callers. Default: the moment of the call, so only reads started then are shared.
   * A failed read is never shared beyond the callers already waiting on it.
   */
  notBefore?: number;
}

export interface SecretProvider {
  /**
   * One value: `property` of the secret, or (without property) the whole secret:
   * for a map-shaped secret (Vault KV) its JSON encoding.
   */
  getSecret(ref: RemoteRef, opts?: ReadOptions): Promise<RemoteValue>;
  /** Every top-level property of a secret (dataFrom). */
  getSecretMap(ref: { path: string; version?: string }, opts?: ReadOptions): Promise<RemoteMap>;
  /**
   * dataFrom[].find: the paths (Vault) or names (AWS) of the secrets under `find.path`,
   * with (AWS) every one of `find.tags`; names only, no values. The caller filters by
   * name.regexp and the namespace's prefixes. More than `maxListed` names visited is a
   * FindLimitError, so a listing is bounded whatever it finds. InvalidSpecError for what
   * this provider cannot find by (tags on Vault).
   */
  listSecrets?(find: FindSpec, opts: { maxListed: number }): Promise<string[]>;
  /**
   * The KEK of envelope mode, with this source's credentials and call metrics: Vault
   * Transit (`{mount, key}`) or AWS KMS (`{keyId}`). InvalidSpecError for the form this
   * provider does not serve. Calls fail once the provider is closed.
   */
  keyEncrypter?(kek: { mount: string; key: string } | { keyId: string }): KeyEncrypter;
  /**
   * Writes `w.set` (or `w.whole`) as a new version if the secret is still at `w.basedOn`,
   * keeping every other property. Safe to call again with the same arguments after a
   * crash: it never writes twice. The next getSecret / getSecretMap of `w.path` returns
   * what is current after it, whatever its notBefore: reads of `w.path` started before the
   * write are no longer shared (also when rotate fails: a failed step may have written).
   */
  rotate?(w: RotationWrite): Promise<RotationResult>;
  /** Releases credentials (revokes the Vault token). Idempotent. */
  close(): Promise<void>;
}

/** What a provider may ask of Kubernetes; namespace rules are enforced by the caller (resolveSecretRef). */
export interface ProviderKube {
  /** The bytes of `key` in Secret `namespace/name`; ForbiddenError/InvalidSpecError/... on failure. */
  readSecretKey(namespace: string, name: string, key: string): Promise<Buffer>;
  /** A short-lived token for a service account (TokenRequest API). */
  requestServiceAccountToken(
    namespace: string,
    name: string,
    opts?: { audiences?: string[]; expirationSeconds?: number },
  ): Promise<{ token: string; expiresAt: Date }>;
}

export interface ProviderDeps {
  kube: ProviderKube;
  /** The namespace Secret references of this source resolve in. */
  secretNamespace: string;
  now?: () => Date;
  /** Counts provider calls by operation and result (metrics). */
  onCall?: (operation: string, result: 'success' | 'error') => void;
}

export interface ProviderFactory {
  /** The spec block this provider serves, e.g. "vault". */
  readonly name: string;
  /**
   * Whether the syncs of one source should be due at the same moment. True for a provider
   * that batches reads (AWS: BatchGetSecretValue serves 20 secrets a call, so syncs that
   * refresh together cost one call per 20); false for one that reads one secret per call
   * (Vault), whose syncs are better spread, each remote path at its own offset, so a
   * source never sees all its reads in the same second while the syncs of one path still
   * share their tick and therefore one read (ReadOptions.notBefore).
   */
  readonly alignRefreshes: boolean;
  /** Semantic checks the CRD schema cannot express; throws InvalidSpecError / ForbiddenError. */
  validate(source: AnySource, secretNamespace: string): void;
  create(source: AnySource, deps: ProviderDeps): SecretProvider;
}
