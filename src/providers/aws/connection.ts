// One source's AWS clients and their credentials, from exactly one auth method:
// - secretRef: static keys (with a session token for temporary ones), read (through
//   resolveSecretRef, so only the source namespace) when the clients are built;
// - webIdentity: a token of the source namespace's service account (TokenRequest,
//   audience sts.amazonaws.com) exchanged through STS AssumeRoleWithWebIdentity for
//   roleArn, again (with a fresh token) shortly before the role's credentials expire, as
//   the SDK does for IRSA;
// - operatorIdentity (ClusterSecretSource only): the SDK's default chain, the operator's
//   own identity. The only way there: no auth at all is refused, never a fallback.
// With roleArn and secretRef / operatorIdentity, the base credentials only call STS
// AssumeRole (with the spec's externalId and sessionTags), and Secrets Manager is called with the role's temporary credentials, which
// the SDK asks us to renew shortly before they expire. When AWS refuses the credentials themselves, the clients are retired, so the
// next call reads the keys again (a rotated Secret takes effect without a restart).
// KMS key encrypters (envelope mode) are made on first use with the same endpoint and
// credentials, one per key id, and retired and destroyed with the other clients.
import { STS_AUDIENCE, type AnySource, type AwsProviderSpec, type SecretKeySelector } from '../../api/types.js';
import type { KeyEncrypter } from '../../crypto/key-encrypter.js';
import { InvalidSpecError, SecretSyncError, SourceAuthError, SourceUnavailableError, sanitize } from '../../errors.js';
import type { ProviderKube } from '../provider.js';
import { resolveSecretRef, resolveServiceAccountRef } from '../secret-ref.js';
import { DEFAULT_CHAIN, type AwsClientOptions, type AwsCredentials, type ClientCredentials, type SecretsApi, type StsApi } from './client.js';
import { refusesCredentials, toAwsError } from './errors.js';
import type { KmsOptions } from './kms.js';
import { awsAuthMethod } from './validate.js';

/** The shortest lifetime TokenRequest accepts; the token only has to survive one exchange. */
const WEB_IDENTITY_TOKEN_SECONDS = 600;

export interface ConnectionOptions {
  /** How errors name the source. */
  source: string;
  /** Only a ClusterSecretSource may use the operator's identity (auth.operatorIdentity). */
  kind: AnySource['kind'];
  spec: AwsProviderSpec;
  kube: ProviderKube;
  secretNamespace: string;
  timeoutMs: number;
  /** Largest answer accepted per call, in bytes (default 4 MiB). */
  maxResponseBytes?: number;
  sessionName: string;
  roleDurationSeconds: number;
  onCall?: (operation: string, result: 'success' | 'error') => void;
  makeSecretsApi(o: AwsClientOptions): SecretsApi;
  makeStsApi(o: AwsClientOptions): StsApi;
  makeKms(o: KmsOptions): KmsApi;
}

export type KmsApi = KeyEncrypter & { destroy(): void };

interface Clients {
  secrets: SecretsApi;
  sts?: StsApi;
  /** What the Secrets Manager client was made with; KMS clients are made the same way. */
  settings: AwsClientOptions;
  kms: Map<string, KmsApi>;
  /** Credential strings of these clients, cut out of error detail. */
  redact: string[];
  users: number;
  retired: boolean;
}

export class Connection {
  private current: Clients | undefined;
  private pending: Promise<Clients> | undefined;
  private closed = false;

  constructor(private readonly o: ConnectionOptions) {}

  /** Runs `fn` with the Secrets Manager client, built on first use. */
  use<T>(fn: (api: SecretsApi) => Promise<T>): Promise<T> {
    return this.with((c) => fn(c.secrets));
  }

  /** Runs `fn` with the KMS key encrypter of `keyId`, built on first use with these credentials. */
  useKms<T>(keyId: string, fn: (kms: KeyEncrypter) => Promise<T>): Promise<T> {
    return this.with((c) => fn(this.kmsOf(c, keyId)));
  }

  private kmsOf(c: Clients, keyId: string): KmsApi {
    let kms = c.kms.get(keyId);
    if (!kms) {
      kms = this.o.makeKms({ ...c.settings, keyId, onCall: this.o.onCall, source: this.o.source });
      c.kms.set(keyId, kms);
    }
    return kms;
  }

  private async with<T>(fn: (c: Clients) => Promise<T>): Promise<T> {
    const c = await this.clients();
    c.users++;
    try {
      return await fn(c);
    } catch (err) {
      if (refusesCredentials(err)) this.retire(c);
      throw err;
    } finally {
      c.users--;
      if (c.retired && c.users === 0) this.destroy(c);
    }
  }

  /** Credentials in use, to cut out of error text. */
  redactions(): string[] {
    return this.current?.redact ?? [];
  }

  /** Destroys the clients. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const pending = this.pending;
    if (this.current) this.retire(this.current);
    const late = await pending?.catch(() => undefined);
    if (late) this.retire(late);
  }

  private clients(): Promise<Clients> {
    if (this.closed) throw new SourceUnavailableError(`${this.o.source}: this AWS client was closed; the next sync uses a new one`);
    if (this.current) return Promise.resolve(this.current);
    this.pending ??= this.build().then(
      (c) => {
        this.pending = undefined;
        if (this.closed) this.retire(c);
        else this.current = c;
        return c;
      },
      (err: unknown) => {
        this.pending = undefined; // not cached: the next call reads the Secret again
        throw err;
      },
    );
    return this.pending;
  }

  private retire(c: Clients): void {
    if (this.current === c) this.current = undefined;
    c.retired = true;
    if (c.users === 0) this.destroy(c);
  }

  private destroy(c: Clients): void {
    c.secrets.destroy();
    c.sts?.destroy();
    for (const kms of c.kms.values()) kms.destroy();
    c.kms.clear();
    c.users = -1; // never destroyed twice
  }

  private async build(): Promise<Clients> {
    const { spec } = this.o;
    const common = { region: spec.region, endpoint: spec.endpoint || undefined, timeoutMs: this.o.timeoutMs, maxResponseBytes: this.o.maxResponseBytes };
    const redact: string[] = [];
    const method = awsAuthMethod(spec.auth, this.o.kind); // throws for no auth, or operatorIdentity on a SecretSource
    if (method === 'webIdentity') {
      const roleArn = spec.roleArn;
      if (!roleArn) throw new InvalidSpecError(`${this.o.source}: spec.aws.auth.webIdentity needs spec.aws.roleArn`);
      // AssumeRoleWithWebIdentity is unsigned; should the SDK ever want to sign it, it fails here instead of borrowing.
      const sts = this.o.makeStsApi({ ...common, credentials: noCredentials(this.o.source) });
      const settings = { ...common, credentials: () => this.assumeRoleWithWebIdentity(sts, roleArn, redact) };
      return { secrets: this.o.makeSecretsApi(settings), sts, settings, kms: new Map(), redact, users: 0, retired: false };
    }
    let base: ClientCredentials = DEFAULT_CHAIN; // operatorIdentity: a ClusterSecretSource that said so
    if (method === 'secretRef') {
      const keys = await this.staticKeys();
      redact.push(keys.accessKeyId, keys.secretAccessKey, keys.sessionToken ?? '');
      base = keys;
    }
    if (!spec.roleArn) {
      const settings = { ...common, credentials: base };
      return { secrets: this.o.makeSecretsApi(settings), settings, kms: new Map(), redact, users: 0, retired: false };
    }
    const roleArn = spec.roleArn;
    const sts = this.o.makeStsApi({ ...common, credentials: base });
    const retire = () => {
      if (this.current?.sts === sts) this.retire(this.current);
    };
    const settings = { ...common, credentials: () => this.assumeRole(sts, roleArn, redact, retire) };
    return { secrets: this.o.makeSecretsApi(settings), sts, settings, kms: new Map(), redact, users: 0, retired: false };
  }

  /** The role's temporary credentials; the SDK calls this again shortly before they expire. */
  private async assumeRole(sts: StsApi, roleArn: string, redact: string[], retire: () => void): Promise<AwsCredentials> {
    try {
      const { externalId, sessionTags } = this.o.spec;
      const creds = await sts.assumeRole(roleArn, this.o.sessionName, this.o.roleDurationSeconds, { externalId, tags: sessionTags });
      this.o.onCall?.('AssumeRole', 'success');
      redact.push(creds.accessKeyId, creds.secretAccessKey, creds.sessionToken ?? '');
      return creds;
    } catch (err) {
      this.o.onCall?.('AssumeRole', 'error');
      if (refusesCredentials(err)) retire(); // the base keys: read them again next time
      throw toAwsError(err, { source: this.o.source, operation: 'AssumeRole', target: roleArn, secrets: redact });
    }
  }

  /**
   * The role's temporary credentials for a fresh token of the service account; the SDK
   * calls this again shortly before they expire, so each renewal presents a new token.
   */
  private async assumeRoleWithWebIdentity(sts: StsApi, roleArn: string, redact: string[]): Promise<AwsCredentials> {
    const sa = resolveServiceAccountRef(this.o.spec.auth?.webIdentity?.serviceAccountRef ?? { name: '' }, this.o.secretNamespace);
    let token: string;
    try {
      token = (await this.o.kube.requestServiceAccountToken(sa.namespace, sa.name, { audiences: [STS_AUDIENCE], expirationSeconds: WEB_IDENTITY_TOKEN_SECONDS })).token;
    } catch (err) {
      if (err instanceof SecretSyncError) throw err;
      const detail = sanitize(err instanceof Error ? err.message : String(err));
      throw new SourceAuthError(`${this.o.source}: requesting a token for service account ${sa.namespace}/${sa.name} failed: ${detail}`);
    }
    try {
      const creds = await sts.assumeRoleWithWebIdentity(roleArn, this.o.sessionName, token, this.o.roleDurationSeconds);
      this.o.onCall?.('AssumeRoleWithWebIdentity', 'success');
      redact.push(creds.accessKeyId, creds.secretAccessKey, creds.sessionToken ?? '');
      return creds;
    } catch (err) {
      this.o.onCall?.('AssumeRoleWithWebIdentity', 'error');
      throw toAwsError(err, { source: this.o.source, operation: 'AssumeRoleWithWebIdentity', target: roleArn, secrets: [...redact, token] });
    }
  }

  private async staticKeys(): Promise<AwsCredentials> {
    const ref = this.o.spec.auth?.secretRef;
    if (!ref) throw new InvalidSpecError(`${this.o.source}: spec.aws.auth.secretRef is not set`);
    const accessKeyId = await this.readKey(ref.accessKeyIdRef, 'access key id');
    const secretAccessKey = await this.readKey(ref.secretAccessKeyRef, 'secret access key');
    if (!ref.sessionTokenSecretRef) return { accessKeyId, secretAccessKey };
    const sessionToken = await this.readKey(ref.sessionTokenSecretRef, 'session token');
    return { accessKeyId, secretAccessKey, sessionToken };
  }

  private async readKey(sel: SecretKeySelector, what: string): Promise<string> {
    const ref = resolveSecretRef(sel, this.o.secretNamespace);
    const where = `Secret ${ref.namespace}/${ref.name} key "${ref.key}"`;
    let bytes: Buffer;
    try {
      bytes = await this.o.kube.readSecretKey(ref.namespace, ref.name, ref.key);
    } catch (err) {
      if (err instanceof SecretSyncError) throw err;
      const detail = sanitize(err instanceof Error ? err.message : String(err));
      throw new SourceAuthError(`${this.o.source}: reading the AWS ${what} from ${where} failed: ${detail}`);
    }
    const value = bytes.toString('utf8').trim();
    if (!value) throw new SourceAuthError(`${this.o.source}: the AWS ${what} in ${where} is empty`);
    if (!/^[\x21-\x7e]+$/.test(value)) {
      throw new SourceAuthError(`${this.o.source}: the AWS ${what} in ${where} contains whitespace or non-ASCII characters`);
    }
    return value;
  }
}

/** Credentials for a client that must never sign: asking for them fails loudly. */
function noCredentials(source: string): () => Promise<AwsCredentials> {
  return () => Promise.reject(new SourceAuthError(`${source}: STS AssumeRoleWithWebIdentity is unsigned; no other credentials are used for it`));
}
