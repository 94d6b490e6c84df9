// The Vault / OpenBao SecretProvider: reads KV v1/v2 secrets with the session's token,
// retrying once with a fresh login when Vault answers 403 (an expired or revoked token),
// and turns the data map into the bytes the contract asks for.
import type { RemoteRef } from '../../api/types.js';
import { KeyNotFoundError } from '../../errors.js';
import { encodeMap, encodeValue, lookupProperty } from '../property.js';
import type { RemoteMap, RemoteValue, SecretProvider } from '../provider.js';
import type { Authenticator } from './auth.js';
import type { VaultHttp } from './client.js';
import { statusOf, toVaultError, type VaultOperation } from './errors.js';
import { kvReadPath, parseKvAnswer, type KvSecret, type KvSettings } from './kv.js';
import { TokenSession } from './token-session.js';

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
}

export class VaultProvider implements SecretProvider {
  private readonly session: TokenSession;

  constructor(private readonly o: VaultProviderOptions) {
    this.session = new TokenSession(o.http, o.auth, {
      source: o.source,
      now: o.now ?? (() => new Date()),
      onCall: o.onCall,
      renewFraction: o.renewFraction,
    });
  }

  async getSecret(ref: RemoteRef): Promise<RemoteValue> {
    const secret = await this.read(ref.path, ref.version);
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

  async getSecretMap(ref: { path: string; version?: string }): Promise<RemoteMap> {
    const secret = await this.read(ref.path, ref.version);
    return { values: encodeMap(secret.data), version: secret.version };
  }

  close(): Promise<void> {
    return this.session.close();
  }

  private async read(path: string, version?: string): Promise<KvSecret> {
    const apiPath = kvReadPath(this.o.kv, path, version); // spec errors before any network call
    const ctx = { source: this.o.source, host: this.o.host, operation: 'read' as const, path };
    const token = await this.session.token();
    let body: unknown;
    try {
      body = await this.get(apiPath, token);
    } catch (err) {
      if (statusOf(err) !== 403) throw toVaultError(err, ctx);
      await this.session.invalidate(token);
      try {
        body = await this.get(apiPath, await this.session.token());
      } catch (retryErr) {
        throw toVaultError(retryErr, ctx);
      }
    }
    return parseKvAnswer(this.o.kv, body, `${this.o.source}: Vault secret "${path}"`);
  }

  private async get(apiPath: string, token: string): Promise<unknown> {
    try {
      const body = await this.o.http.read(apiPath, token);
      this.o.onCall?.('read', 'success');
      return body;
    } catch (err) {
      this.o.onCall?.('read', 'error');
      throw err;
    }
  }
}
