// The AWS Secrets Manager SecretProvider: remoteRef.path is the secret's name or ARN,
// remoteRef.version pins a VersionId (a UUID) or a staging label (AWSPREVIOUS, custom),
// and the value is the SecretString as-is, a property of its JSON, or the SecretBinary
// bytes. The version id reported for status is the secret's VersionId. One instance
// serves one source (the registry caches it per uid and generation), which is what lets
// it batch and de-duplicate reads across SecretSyncs. keyEncrypter hands out the KMS key
// of envelope mode with the same credentials; its calls are rare (one data key per
// version, a re-wrap when the key moves), so they skip the batcher and the gate and fail
// fast: the reconcile retries them with its own backoff. rotate (rotate.ts) writes a new
// version through the gate and then forgets the reads of that secret the reader shares
// (in flight or recent, see ReadOptions.notBefore), so the next read sees it.
import type { FindSpec, RemoteRef } from '../../api/types.js';
import type { KeyContext, KeyEncrypter } from '../../crypto/key-encrypter.js';
import { FindLimitError, InvalidSpecError } from '../../errors.js';
import type { ReadOptions, RemoteMap, RemoteValue, RotationResult, RotationWrite, SecretProvider } from '../provider.js';
import type { CallGate } from './call-gate.js';
import type { SecretValue } from './client.js';
import type { Connection } from './connection.js';
import { toAwsError, isRetryable } from './errors.js';
import { AwsRotation } from './rotate.js';
import type { SecretReader } from './secret-reader.js';
import { remoteMap, remoteValue } from './secret-value.js';
import { checkSecretId, versionPin } from './validate.js';

export interface AwsProviderParts {
  /** The source, as sourceKey() names it. */
  source: string;
  connection: Connection;
  gate: CallGate;
  reader: SecretReader;
}

export class AwsProvider implements SecretProvider {
  private closing: Promise<void> | undefined;
  private readonly rotation: AwsRotation;

  constructor(private readonly p: AwsProviderParts) {
    this.rotation = new AwsRotation({ source: p.source, connection: p.connection, gate: p.gate });
  }

  async getSecret(ref: RemoteRef, opts?: ReadOptions): Promise<RemoteValue> {
    const secret = await this.read(ref.path, ref.version, opts?.notBefore);
    return remoteValue(secret, ref, this.what(ref.path, ref.version));
  }

  async getSecretMap(ref: { path: string; version?: string }, opts?: ReadOptions): Promise<RemoteMap> {
    const secret = await this.read(ref.path, ref.version, opts?.notBefore);
    return remoteMap(secret, this.what(ref.path, ref.version));
  }

  /**
   * dataFrom[].find: the names of the secrets whose name starts with find.path and that
   * carry every one of find.tags, from ListSecrets pages (AWS filters by name prefix and tag
   * server side, ignoring case; the exact, case-sensitive match is made here). Their values
   * are then read like remoteRefs, so the batcher serves them 20 a call.
   */
  async listSecrets(find: FindSpec, opts: { maxListed: number }): Promise<string[]> {
    if (this.closing) throw this.p.gate.closedError();
    const tags = Object.entries(find.tags ?? {});
    const filters = [
      ...(find.path !== undefined ? [{ key: 'name' as const, values: [find.path] }] : []),
      ...tags.flatMap(([k, v]) => [
        { key: 'tag-key' as const, values: [k] },
        { key: 'tag-value' as const, values: [v] },
      ]),
    ];
    const names: string[] = [];
    let seen = 0;
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      let page;
      try {
        page = await this.p.gate.run('ListSecrets', () => this.p.connection.use((api) => api.listSecrets(filters, token)), { isRetryable });
      } catch (err) {
        throw toAwsError(err, { source: this.p.source, operation: 'ListSecrets', target: find.path ?? '*', secrets: this.p.connection.redactions() });
      }
      seen += page.secrets.length;
      if (seen > opts.maxListed) {
        throw new FindLimitError(
          `${this.p.source}: find lists more than ${opts.maxListed} secrets (its share of 20 times --find-max-secrets): narrow find.path or find.tags, or split the SecretSync`,
        );
      }
      for (const s of page.secrets) {
        if (find.path !== undefined && !s.name.startsWith(find.path)) continue;
        if (tags.every(([k, v]) => s.tags[k] === v)) names.push(s.name);
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return names;
  }

  /** A crash-safe rotation write (ClientRequestToken = w.id); see rotate.ts. */
  async rotate(w: RotationWrite): Promise<RotationResult> {
    if (this.closing) throw this.p.gate.closedError();
    try {
      const { result, ids } = await this.rotation.rotate(w);
      this.p.reader.forget(ids);
      return result;
    } catch (err) {
      this.p.reader.forget([w.path]); // a failed step may have written
      throw err;
    }
  }

  /** KMS with this source's region, endpoint and credentials; `{mount, key}` (Transit) is not an AWS key. */
  keyEncrypter(kek: { mount: string; key: string } | { keyId: string }): KeyEncrypter {
    if (!('keyId' in kek)) {
      throw new InvalidSpecError(
        `${this.p.source} is an AWS source: it serves kek.awsKms (a keyId), not a Transit mount and key; ` +
          'use kek.awsKms with this source, or kek.vaultTransit with a vault source',
      );
    }
    const keyId = kek.keyId.trim();
    if (!keyId) throw new InvalidSpecError(`${this.p.source}: kek.awsKms.keyId is empty: name a KMS key id, key ARN or alias (alias/secretsync)`);
    const use = <T>(fn: (kms: KeyEncrypter) => Promise<T>): Promise<T> => {
      if (this.closing) return Promise.reject(this.p.gate.closedError());
      return this.p.connection.useKms(keyId, fn);
    };
    return {
      generateDataKey: (ctx: KeyContext) => use((k) => k.generateDataKey(ctx)),
      decrypt: (wrapped: string, ctx: KeyContext) => use((k) => k.decrypt(wrapped, ctx)),
      rewrap: (wrapped: string, ctx: KeyContext) => use((k) => k.rewrap(wrapped, ctx)),
      currentVersion: () => use((k) => k.currentVersion()),
    };
  }

  /** Fails reads not yet sent, stops waits and backoffs, destroys the SDK clients. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.p.reader.close();
      this.p.gate.close();
      await this.p.connection.close();
    })();
    return this.closing;
  }

  private async read(path: string, version: string | undefined, notBefore: number | undefined): Promise<SecretValue> {
    if (this.closing) throw this.p.gate.closedError();
    checkSecretId(path); // spec errors before any call to AWS
    const pin = versionPin(version);
    return pin ? this.p.reader.version(path, pin, notBefore) : this.p.reader.current(path, notBefore);
  }

  private what(path: string, version: string | undefined): string {
    return `${this.p.source}: AWS secret "${path}"${version ? ` version "${version}"` : ''}`;
  }
}
