// The AWS Secrets Manager SecretProvider: remoteRef.path is the secret's name or ARN,
// remoteRef.version pins a VersionId (a UUID) or a staging label (AWSPREVIOUS, custom),
// and the value is the SecretString as-is, a property of its JSON, or the SecretBinary
// bytes. The version id reported for status is the secret's VersionId. One instance
// serves one source (the registry caches it per uid and generation), which is what lets
// it batch and de-duplicate reads across SecretSyncs.
import type { RemoteRef } from '../../api/types.js';
import type { RemoteMap, RemoteValue, SecretProvider } from '../provider.js';
import type { CallGate } from './call-gate.js';
import type { SecretValue } from './client.js';
import type { Connection } from './connection.js';
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

  constructor(private readonly p: AwsProviderParts) {}

  async getSecret(ref: RemoteRef): Promise<RemoteValue> {
    const secret = await this.read(ref.path, ref.version);
    return remoteValue(secret, ref, this.what(ref.path, ref.version));
  }

  async getSecretMap(ref: { path: string; version?: string }): Promise<RemoteMap> {
    const secret = await this.read(ref.path, ref.version);
    return remoteMap(secret, this.what(ref.path, ref.version));
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

  private async read(path: string, version: string | undefined): Promise<SecretValue> {
    if (this.closing) throw this.p.gate.closedError();
    checkSecretId(path); // spec errors before any call to AWS
    const pin = versionPin(version);
    return pin ? this.p.reader.version(path, pin) : this.p.reader.current(path);
  }

  private what(path: string, version: string | undefined): string {
    return `${this.p.source}: AWS secret "${path}"${version ? ` version "${version}"` : ''}`;
  }
}
