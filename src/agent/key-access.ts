// Unwrapping a version's data key with the pod's own identity, wherever its KEK lives:
// Vault Transit (Kubernetes auth login, then transit/decrypt) or AWS KMS (Decrypt with the
// SDK's default credential chain and the SecretSync's encryption context). Clients and
// Vault sessions are kept per address/role (or region/endpoint/key) for the life of the
// agent, so a watch logs in once and renews rather than logging in per delivery.
import type { VersionEnvelope } from '../crypto/envelope.js';
import type { Logger } from '../observability/logger.js';
import { kmsEncryptionContext, type KeyContext, type KeyEncrypter } from '../crypto/key-encrypter.js';
import { TokenCheck, TokenSession, statusOf, type Authenticator, type VaultHttp } from '../providers/vault/index.js';
import { AgentCode, AgentError } from './errors.js';
import { kmsFailure, transitFailure } from './kek-errors.js';
import { kubernetesAuthenticator } from './vault-login.js';

type VaultKek = Extract<VersionEnvelope['kek'], { type: 'vault-transit' }>;
type KmsKek = Extract<VersionEnvelope['kek'], { type: 'aws-kms' }>;

/** The real clients, injected by the composition root (unit tests pass others). */
export interface KeyServices {
  vaultHttp(o: { address: string; namespace?: string }): VaultHttp;
  vaultTransit(o: { http: VaultHttp; token: () => Promise<string>; mount: string; key: string; host: string }): KeyEncrypter;
  awsKms(o: { region: string; endpoint?: string; keyId: string }): KeyEncrypter & { destroy(): void };
  /** The projected service-account token for Vault login. */
  readJwt(): Promise<string>;
  /** Where readJwt reads from, for messages. */
  jwtSource: string;
}

export interface KeyAccessOptions {
  log?: Logger;
  /** --vault-addr: replaces the address recorded in the envelope. */
  vaultAddr?: string;
  /** --aws-endpoint: replaces the endpoint recorded in the envelope. */
  awsEndpoint?: string;
  insecureAllowHttp: boolean;
}

interface VaultSession {
  http: VaultHttp;
  auth: Authenticator;
  session: TokenSession;
  check: TokenCheck;
  host: string;
  /** Status of the last failed Vault call through `http` (adapters may wrap the error). */
  lastStatus: number | undefined;
  encrypters: Map<string, KeyEncrypter>;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url.slice(0, 100);
  }
}

/** Builds a client from the envelope's KEK coordinates; a refusal of them is the envelope's fault. */
function badCoordinates<T>(entry: VersionEnvelope, make: () => T): T {
  try {
    return make();
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new AgentError(AgentCode.Envelope, `the key coordinates of version ${entry.version} cannot be used: ${why.slice(0, 200)}`);
  }
}

export class KeyAccess {
  private readonly vault = new Map<string, VaultSession>();
  private readonly kms = new Map<string, KeyEncrypter & { destroy(): void }>();

  constructor(
    private readonly services: KeyServices,
    private readonly opts: KeyAccessOptions,
  ) {}

  /** The plaintext data key of `entry`; AgentError when it cannot be had. */
  async unwrap(entry: VersionEnvelope, ctx: KeyContext): Promise<Buffer> {
    const kek = entry.kek;
    if (kek.type === 'vault-transit') return this.unwrapVault(kek, entry, ctx);
    return this.unwrapKms(kek, entry, ctx);
  }

  /** Revokes Vault tokens and closes clients. Never throws. */
  async close(): Promise<void> {
    await Promise.all([...this.vault.values()].map((s) => s.session.close().catch(() => undefined)));
    this.vault.clear();
    for (const k of this.kms.values()) k.destroy();
    this.kms.clear();
  }

  private checkTransport(what: string, url: string): void {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new AgentError(AgentCode.Config, `the ${what} "${url.slice(0, 100)}" is not a URL: fix the SecretSync's key settings or pass a valid override`);
    }
    if (u.protocol === 'http:' && !this.opts.insecureAllowHttp) {
      throw new AgentError(
        AgentCode.Config,
        `the ${what} http://${u.host} is plaintext http: the service-account token and the data key would travel unencrypted. ` +
          'Use https, or run the agent with --insecure-allow-http on a development stack',
      );
    }
  }

  private vaultSession(kek: VaultKek): VaultSession {
    const address = this.opts.vaultAddr ?? kek.address;
    const id = [address, kek.namespace ?? '', kek.agentAuth.mount, kek.agentAuth.role].join('\0');
    let s = this.vault.get(id);
    if (s) return s;
    this.checkTransport(this.opts.vaultAddr ? '--vault-addr' : 'Vault address recorded in the envelope', address);
    const raw = this.services.vaultHttp({ address, ...(kek.namespace ? { namespace: kek.namespace } : {}) });
    const host = hostOf(address);
    const noting = <T>(p: Promise<T>): Promise<T> =>
      p.catch((err: unknown) => {
        if (s) s.lastStatus = statusOf(err);
        throw err;
      });
    const http: VaultHttp = {
      read: (path, token) => noting(raw.read(path, token)),
      write: (path, body, token) => noting(raw.write(path, body, token)),
    };
    const auth = kubernetesAuthenticator(raw, {
      mount: kek.agentAuth.mount,
      role: kek.agentAuth.role,
      readJwt: () => this.services.readJwt(),
      jwtSource: this.services.jwtSource,
      host,
    });
    const now = () => new Date();
    s = {
      http,
      auth,
      session: new TokenSession(raw, auth, { source: `Vault at ${host}`, now }),
      check: new TokenCheck(raw, { now }),
      host,
      lastStatus: undefined,
      encrypters: new Map(),
    };
    this.vault.set(id, s);
    return s;
  }

  private async unwrapVault(kek: VaultKek, entry: VersionEnvelope, ctx: KeyContext): Promise<Buffer> {
    const s = this.vaultSession(kek);
    const path = `${kek.mount}/decrypt/${kek.key}`;
    let enc = s.encrypters.get(path);
    if (!enc) {
      enc = badCoordinates(entry, () =>
        this.services.vaultTransit({ http: s.http, token: () => s.session.token(), mount: kek.mount, key: kek.key, host: s.host }),
      );
      s.encrypters.set(path, enc);
    }
    const attempt = async (): Promise<{ key: Buffer } | { err: unknown; status: number | undefined; token: string | undefined }> => {
      let token: string | undefined;
      s.lastStatus = undefined;
      try {
        token = await s.session.token();
        return { key: await enc.decrypt(entry.wrappedKey, ctx) };
      } catch (err) {
        if (err instanceof AgentError) throw err; // the login's own refusal
        return { err, status: s.lastStatus ?? statusOf(err), token };
      }
    };
    const fail = (a: { err: unknown; status: number | undefined }) =>
      transitFailure(a.err, { path, identity: s.auth.identity, version: entry.version, status: a.status });
    const first = await attempt();
    if ('key' in first) return first.key;
    if (first.status !== 403 || !first.token || (await s.check.isValid(first.token))) throw fail(first);
    // Vault no longer honours the token (expired, revoked): log in again, once.
    this.opts.log?.info({ vault: s.host, role: kek.agentAuth.role }, 'Vault no longer honours the token; logging in again');
    await s.session.invalidate(first.token);
    const second = await attempt();
    if ('key' in second) return second.key;
    throw fail(second);
  }

  private async unwrapKms(kek: KmsKek, entry: VersionEnvelope, ctx: KeyContext): Promise<Buffer> {
    const endpoint = this.opts.awsEndpoint ?? kek.endpoint;
    if (endpoint) this.checkTransport(this.opts.awsEndpoint ? '--aws-endpoint' : 'AWS endpoint recorded in the envelope', endpoint);
    // The ARN of the key that wrapped it: an alias may point at another key by now.
    const keyId = kek.version || kek.keyId;
    const id = [kek.region, endpoint ?? '', keyId].join('\0');
    let kms = this.kms.get(id);
    if (!kms) {
      kms = badCoordinates(entry, () => this.services.awsKms({ region: kek.region, ...(endpoint ? { endpoint } : {}), keyId }));
      this.kms.set(id, kms);
    }
    try {
      return await kms.decrypt(entry.wrappedKey, ctx);
    } catch (err) {
      throw kmsFailure(err, { keyId, region: kek.region, version: entry.version, context: kmsEncryptionContext(ctx) });
    }
  }
}
