// The Vault / OpenBao SecretProvider: reads KV v1/v2 secrets with the session's token and
// turns the data map into the bytes the contract asks for. A 403 is either a token Vault
// no longer honours (then: a fresh login and one retry) or a path the token's policy
// denies (then: that read fails, and the token every other sync uses stays); token-check.ts
// tells them apart. Transit calls (keyEncrypter) and rotation writes use the same session
// and the same rule. Reads are shared through FreshReads at the HTTP level (the API path,
// version pin included), so properties of one secret and syncs due at the same tick cost
// one read; a caller's notBefore says how old a read it accepts. Nothing else is cached:
// rotate drops the shared reads of its path, so a read after a rotation sees the new version.
import { constantTimeEqual } from '../../crypto/compare.js';
import type { FindSpec, RemoteRef } from '../../api/types.js';
import type { KeyEncrypter } from '../../crypto/key-encrypter.js';
import { InvalidSpecError, KeyNotFoundError, SourceAuthError } from '../../errors.js';
import { FreshReads } from '../fresh-reads.js';
import { encodeMap, encodeValue, lookupProperty } from '../property.js';
import type { ReadOptions, RemoteMap, RemoteValue, RotationResult, RotationWrite, SecretProvider } from '../provider.js';
import type { Authenticator } from './auth.js';
import type { VaultHttp } from './client.js';
import { statusOf, toVaultError, type TransitOperation, type VaultErrorContext, type VaultOperation } from './errors.js';
import { kvReadPath, parseKvAnswer, type KvSecret, type KvSettings } from './kv.js';
import { kvListPath, parseKvList, walkKv } from './kv-list.js';
import { isCasMismatch, kvWriteBody, kvWritePath, parseKvWriteAnswer } from './kv-write.js';
import { TokenCheck } from './token-check.js';
import { TokenSession } from './token-session.js';
import { vaultTransit } from './transit.js';

export interface VaultProviderOptions {
  /** The source, as sourceKey() names it. */
  source: string;
  /** host[:port] of the address, for error messages. */
  host: string;
  kv: KvSettings;
  http: VaultHttp;
  auth: Authenticator;
  now?: () => Date;
  onCall?: (operation: VaultOperation, result: 'success' | 'error') => void;
  /** Fraction of the token TTL after which it is renewed (default 2/3). */
  renewFraction?: number;
  /** How long the verdict of a lookup-self on a token is reused after a 403 (default 5 s). */
  tokenVerdictTtlMs?: number;
}

export class VaultProvider implements SecretProvider {
  private readonly session: TokenSession;
  private readonly tokens: TokenCheck;
  /** Parsed KV answers by API path (with ?version=), shared by callers that accept them. */
  private readonly reads: FreshReads<KvSecret>;
  private readonly now: () => Date;

  constructor(private readonly o: VaultProviderOptions) {
    const now = (this.now = o.now ?? (() => new Date()));
    this.reads = new FreshReads({ clock: { now: () => now().getTime() } });
    this.session = new TokenSession(o.http, o.auth, { source: o.source, now, onCall: o.onCall, renewFraction: o.renewFraction });
    this.tokens = new TokenCheck(o.http, { now, onCall: o.onCall, verdictTtlMs: o.tokenVerdictTtlMs });
  }

  async getSecret(ref: RemoteRef, opts?: ReadOptions): Promise<RemoteValue> {
    const secret = await this.read(ref.path, ref.version, opts?.notBefore);
    if (ref.property === undefined || ref.property === '') {
      return { value: Buffer.from(JSON.stringify(secret.data), 'utf8'), version: secret.version };
    }
    const found = lookupProperty(secret.data, ref.property);
    if (!found.found) {
      throw new KeyNotFoundError(
        `${this.o.source}: Vault secret "${ref.path}"${ref.version ? ` version ${ref.version}` : ''} has no property "${ref.property}"`,
      );
    }
    return { value: encodeValue(found.value), version: secret.version };
  }

  async getSecretMap(ref: { path: string; version?: string }, opts?: ReadOptions): Promise<RemoteMap> {
    const secret = await this.read(ref.path, ref.version, opts?.notBefore);
    return { values: encodeMap(secret.data, `${this.o.source}: Vault secret "${ref.path}"${ref.version ? ` version ${ref.version}` : ''}`), version: secret.version };
  }

  /**
   * dataFrom[].find: every secret path under find.path (the whole mount without one),
   * listed recursively through KV metadata. A folder Vault does not know (404) lists nothing.
   */
  async listSecrets(find: FindSpec, opts: { maxListed: number }): Promise<string[]> {
    if (Object.keys(find.tags ?? {}).length > 0) {
      throw new InvalidSpecError(`${this.o.source} is a Vault source: find.tags selects AWS secrets; use find.path and find.name.regexp`);
    }
    const list = async (folder: string): Promise<string[] | undefined> => {
      const apiPath = kvListPath(this.o.kv, folder);
      const ctx: VaultErrorContext = { source: this.o.source, host: this.o.host, operation: 'list', path: folder };
      const what = `${this.o.source}: listing Vault folder "${folder}"`;
      const send = async (t: string): Promise<string[] | undefined> => {
        try {
          return parseKvList(await this.get(apiPath, t, 'list'), what);
        } catch (err) {
          // A plain 404 (no errors in the body) is an empty or absent folder; a 404 with a
          // reason (no mount there) is a failure.
          if (statusOf(err) === 404 && !hasErrors(err)) return undefined;
          throw err;
        }
      };
      return this.authorized(ctx, send, () => this.listDenied(folder, apiPath));
    };
    return walkKv(find.path ?? '', opts.maxListed, list, 'find.path');
  }

  /** Transit with this source's token session; `{keyId}` (KMS) is not a Vault key. */
  keyEncrypter(kek: { mount: string; key: string } | { keyId: string }): KeyEncrypter {
    if (!('mount' in kek)) {
      throw new InvalidSpecError(
        `${this.o.source} is a Vault source: it serves kek.vaultTransit (mount and key), not a KMS keyId; ` +
          'use kek.vaultTransit with this source, or kek.awsKms with an aws source',
      );
    }
    return vaultTransit({
      http: this.transitHttp,
      token: () => this.session.token(),
      mount: kek.mount,
      key: kek.key,
      onCall: (operation, result) => this.o.onCall?.(operation as TransitOperation, result),
      source: this.o.source,
      host: this.o.host,
    });
  }

  close(): Promise<void> {
    this.reads.clear();
    this.tokens.clear();
    return this.session.close();
  }

  /**
   * Writes `w.set` over the current data with check-and-set on `w.basedOn`. A repeated call
   * after a crash finds the secret past basedOn (or Vault refuses the cas) and writes nothing.
   */
  async rotate(w: RotationWrite): Promise<RotationResult> {
    const apiPath = kvWritePath(this.o.kv, w, this.o.source); // spec errors before any network call
    try {
      return await this.rotateAt(w, apiPath);
    } finally {
      // Written (or maybe written: a failed write may have landed): no read of this path
      // from before is shared any more, whatever a caller's notBefore.
      this.forgetReads(w.path);
    }
  }

  private async rotateAt(w: RotationWrite, apiPath: string): Promise<RotationResult> {
    const what = `${this.o.source}: rotating Vault secret "${w.path}"`;
    const denied = () => this.rotationDenied(w.path, apiPath);
    const readCtx: VaultErrorContext = { source: this.o.source, host: this.o.host, operation: 'read', path: w.path };
    const readNow = () => this.authorized(readCtx, async (t) => parseKvAnswer(this.o.kv, await this.get(apiPath, t), what), denied);
    const current = await readNow();
    if (current.version !== w.basedOn) return { outcome: 'moved', version: current.version };
    const body = kvWriteBody(current.data, w, what);
    // undefined: Vault refused the cas, someone (maybe an earlier call of ours) wrote since our read.
    const casWrite = async (t: string) => {
      try {
        return parseKvWriteAnswer(await this.post(apiPath, body, t), what);
      } catch (err) {
        if (isCasMismatch(err)) return undefined;
        throw err;
      }
    };
    const written = await this.authorized({ ...readCtx, operation: 'kv-write' }, casWrite, denied);
    if (written !== undefined) return { outcome: 'written', version: written };
    return { outcome: 'moved', version: (await readNow()).version };
  }

  private read(path: string, version: string | undefined, notBefore: number | undefined): Promise<KvSecret> {
    const apiPath = kvReadPath(this.o.kv, path, version); // spec errors before any network call
    const ctx: VaultErrorContext = { source: this.o.source, host: this.o.host, operation: 'read', path };
    const what = `${this.o.source}: Vault secret "${path}"`;
    return this.reads.get(apiPath, notBefore ?? this.now().getTime(), () =>
      this.authorized(ctx, async (t) => parseKvAnswer(this.o.kv, await this.get(apiPath, t), what), () => this.denied(path, apiPath)),
    );
  }

  /** Drops the shared reads of `path`, every version pin included. */
  private forgetReads(path: string): void {
    const base = kvReadPath(this.o.kv, path);
    this.reads.invalidateWhere((key) => key === base || key.startsWith(`${base}?`));
  }

  /**
   * `send` with the session's token. A 403 on a token Vault still honours is the policy's
   * answer (`denied()`: this call fails, the token stays); on a token it no longer honours,
   * one fresh login and one retry. Other failures map through toVaultError.
   */
  private async authorized<T>(ctx: VaultErrorContext, send: (token: string) => Promise<T>, denied: () => SourceAuthError): Promise<T> {
    const token = await this.session.token();
    try {
      return await send(token);
    } catch (err) {
      if (statusOf(err) !== 403) throw toVaultError(err, ctx);
      if (await this.tokens.isValid(token)) throw denied();
    }
    // Vault no longer honours the token: replace it (concurrent callers share one login).
    await this.session.invalidate(token);
    const fresh = await this.session.token();
    try {
      return await send(fresh);
    } catch (err) {
      if (statusOf(err) === 403 && !constantTimeEqual(fresh, token) && (await this.tokens.isValid(fresh))) throw denied();
      throw toVaultError(err, ctx);
    }
  }

  /** A valid token refused one path: its policy does not allow it. Fails this read only. */
  private denied(path: string, apiPath: string): SourceAuthError {
    const policyPath = apiPath.replace(/\?.*$/, '');
    return new SourceAuthError(
      `${this.o.source}: Vault denied reading "${path}" with a valid token: the policy of ${this.o.auth.identity} ` +
        `does not allow read on "${policyPath}". Grant it in that Vault policy: path "${policyPath}" { capabilities = ["read"] }`,
    );
  }

  /** A valid token refused a LIST: its policy lacks list on the metadata path. */
  private listDenied(folder: string, apiPath: string): SourceAuthError {
    const policyPath = apiPath.replace(/\?.*$/, '').replace(/\/$/, '');
    return new SourceAuthError(
      `${this.o.source}: Vault denied listing "${folder}" with a valid token: the policy of ${this.o.auth.identity} ` +
        `does not allow list on "${policyPath}/*". Grant it in that Vault policy: path "${policyPath}/*" { capabilities = ["list"] }`,
    );
  }

  /** A valid token refused a rotation: its policy lacks read, create or update on the data path. */
  private rotationDenied(path: string, apiPath: string): SourceAuthError {
    return new SourceAuthError(
      `${this.o.source}: Vault denied rotating "${path}" with a valid token: the policy of ${this.o.auth.identity} ` +
        `does not allow read, create and update on "${apiPath}". Grant them in that Vault policy: ` +
        `path "${apiPath}" { capabilities = ["read", "create", "update"] }`,
    );
  }

  /**
   * The HTTP client of Transit calls: a 403 on a token Vault no longer honours (expired,
   * revoked) is retried once with a fresh login, as reads are; a 403 on a valid token is
   * the policy's answer and reaches the caller as is.
   */
  private readonly transitHttp: VaultHttp = {
    read: (path, token) => this.retryStaleToken(token, (t) => this.o.http.read(path, t)),
    write: (path, body, token) =>
      token === undefined ? this.o.http.write(path, body) : this.retryStaleToken(token, (t) => this.o.http.write(path, body, t)),
  };

  private async retryStaleToken(token: string, send: (token: string) => Promise<unknown>): Promise<unknown> {
    try {
      return await send(token);
    } catch (err) {
      if (statusOf(err) !== 403 || (await this.tokens.isValid(token))) throw err;
    }
    await this.session.invalidate(token);
    return send(await this.session.token());
  }

  private async get(apiPath: string, token: string, operation: 'read' | 'list' = 'read'): Promise<unknown> {
    try {
      const body = await this.o.http.read(apiPath, token);
      this.o.onCall?.(operation, 'success');
      return body;
    } catch (err) {
      this.o.onCall?.(operation, 'error');
      throw err;
    }
  }

  private async post(apiPath: string, body: Record<string, unknown>, token: string): Promise<unknown> {
    try {
      const answer = await this.o.http.write(apiPath, body, token);
      this.o.onCall?.('kv-write', 'success');
      return answer;
    } catch (err) {
      this.o.onCall?.('kv-write', 'error');
      throw err;
    }
  }
}

/** Whether a node-vault error's body lists errors (Vault's reasons). */
function hasErrors(err: unknown): boolean {
  const errors = (err as { response?: { body?: { errors?: unknown } } } | null)?.response?.body?.errors;
  return Array.isArray(errors) && errors.length > 0;
}
