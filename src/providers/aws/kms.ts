// The KeyEncrypter on AWS KMS, and the only file besides src/providers/aws/client.ts
// that imports the AWS SDK (only @aws-sdk/client-kms). KMS mints the data key
// (GenerateDataKey), unwraps it (Decrypt) and re-wraps it under the key the configured
// id names now (ReEncrypt), each bound to the SecretSync by the encryption context, so a
// wrapped key copied to another SecretSync or namespace does not unwrap. The KEK version
// is the ARN of the key that wrapped it: an alias moved to another key is a new version.
// Clients are configured as the provider's (one attempt, no configured endpoints).
import {
  DecryptCommand,
  DescribeKeyCommand,
  GenerateDataKeyCommand,
  KMSClient,
  ReEncryptCommand,
} from '@aws-sdk/client-kms';
import { kmsEncryptionContext, type DataKey, type KekVersion, type KeyContext, type KeyEncrypter, type WrappedKey } from '../../crypto/key-encrypter.js';
import { InvalidSpecError, InvalidValueError, SourceUnavailableError } from '../../errors.js';
import { DEFAULT_CHAIN, boundResponses, sdkClientConfig, type ClientCredentials } from './client-config.js';
import { toAwsError, type KmsOperation } from './errors.js';

export interface KmsOptions {
  region: string;
  /** Endpoint override (tests, VPC endpoints); undefined: the regional AWS endpoint. */
  endpoint?: string;
  /** Always set; DEFAULT_CHAIN: the SDK's default chain (the agent: the pod's own identity). */
  credentials: ClientCredentials;
  /** The KEK as the SecretSync names it: key id, key ARN, alias name or alias ARN. */
  keyId: string;
  /** Total time per call, body included (default 10 s). */
  timeoutMs?: number;
  /** Largest answer accepted, in bytes (default 4 MiB). */
  maxResponseBytes?: number;
  /** One call per request: kms-generate-data-key, kms-decrypt, kms-re-encrypt, kms-describe-key. */
  onCall?: (operation: string, result: 'success' | 'error') => void;
  /** How errors name whose key this is (e.g. the SecretSource); default: no prefix. */
  source?: string;
}

const DATA_KEY_BYTES = 32;
const DEFAULT_TIMEOUT_MS = 10_000;

const OPERATION_NAMES: Record<KmsOperation, string> = {
  GenerateDataKey: 'kms-generate-data-key',
  Decrypt: 'kms-decrypt',
  ReEncrypt: 'kms-re-encrypt',
  DescribeKey: 'kms-describe-key',
};

/**
 * Decrypt passes `keyId` as KeyId, as AWS recommends, so KMS refuses a ciphertext of any
 * other key. A data key wrapped before an alias moved is therefore opened by an adapter
 * whose keyId is the ARN recorded as its KEK version; ReEncrypt reads the source key from
 * the ciphertext, so re-wrapping works across the move.
 */
export function awsKms(o: KmsOptions): KeyEncrypter & { destroy(): void } {
  if (!o.keyId.trim()) throw new InvalidSpecError('kek.awsKms.keyId is empty: name a KMS key id, key ARN or alias (alias/secretsync)');
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = boundResponses(
    new KMSClient(sdkClientConfig({ region: o.region, endpoint: o.endpoint, credentials: o.credentials, timeoutMs })),
    { timeoutMs, maxResponseBytes: o.maxResponseBytes },
  );
  const redact = typeof o.credentials === 'object' ? [o.credentials.accessKeyId, o.credentials.secretAccessKey] : [];
  const describe = (op: KmsOperation) => `${o.source ? `${o.source}: ` : ''}AWS KMS ${op} with key "${o.keyId}"`;

  /** One request, counted; SDK failures become typed errors (`secrets` cut out of their text). */
  async function send<T>(op: KmsOperation, request: () => Promise<T>, ctx?: KeyContext, secrets: string[] = []): Promise<T> {
    try {
      const out = await request();
      o.onCall?.(OPERATION_NAMES[op], 'success');
      return out;
    } catch (err) {
      o.onCall?.(OPERATION_NAMES[op], 'error');
      throw toAwsError(err, {
        source: o.source ?? '',
        operation: op,
        target: o.keyId,
        owner: ctx ? `SecretSync ${ctx.namespace}/${ctx.secretsync}` : undefined,
        secrets: [...redact, ...secrets],
      });
    }
  }

  function blobOf(op: KmsOperation, wrapped: string): Uint8Array {
    const blob = Buffer.from(wrapped, 'base64');
    if (blob.length === 0 || blob.toString('base64') !== wrapped) {
      throw new InvalidValueError(`${describe(op)}: the wrapped data key is not a base64 KMS ciphertext`);
    }
    return blob;
  }

  function textOf(op: KmsOperation, blob: Uint8Array | undefined): string {
    if (!blob || blob.length === 0) throw new SourceUnavailableError(`${describe(op)}: the answer has no CiphertextBlob`);
    return Buffer.from(blob).toString('base64');
  }

  function arnOf(op: KmsOperation, keyId: string | undefined): string {
    if (!keyId) throw new SourceUnavailableError(`${describe(op)}: the answer does not name the key`);
    return keyId;
  }

  /** A copy of the plaintext data key; the SDK's buffer is zeroed. */
  function dataKeyOf(op: KmsOperation, plaintext: Uint8Array | undefined): Buffer {
    const key = Buffer.from(plaintext ?? []);
    plaintext?.fill(0);
    if (key.length !== DATA_KEY_BYTES) {
      key.fill(0);
      throw new InvalidValueError(`${describe(op)}: the data key is not ${DATA_KEY_BYTES} bytes (was it wrapped by something else than secretsync?)`);
    }
    return key;
  }

  return {
    async generateDataKey(ctx: KeyContext): Promise<DataKey> {
      const out = await send(
        'GenerateDataKey',
        () => client.send(new GenerateDataKeyCommand({ KeyId: o.keyId, KeySpec: 'AES_256', EncryptionContext: kmsEncryptionContext(ctx) })),
        ctx,
      );
      const plaintext = dataKeyOf('GenerateDataKey', out.Plaintext);
      try {
        return { plaintext, wrapped: textOf('GenerateDataKey', out.CiphertextBlob), kekVersion: arnOf('GenerateDataKey', out.KeyId) };
      } catch (err) {
        plaintext.fill(0);
        throw err;
      }
    },

    async decrypt(wrapped: string, ctx: KeyContext): Promise<Buffer> {
      const blob = blobOf('Decrypt', wrapped);
      const out = await send(
        'Decrypt',
        () => client.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: o.keyId, EncryptionContext: kmsEncryptionContext(ctx) })),
        ctx,
        [wrapped],
      );
      return dataKeyOf('Decrypt', out.Plaintext);
    },

    async rewrap(wrapped: string, ctx: KeyContext): Promise<WrappedKey> {
      const blob = blobOf('ReEncrypt', wrapped);
      const context = kmsEncryptionContext(ctx);
      const out = await send(
        'ReEncrypt',
        () =>
          client.send(
            new ReEncryptCommand({
              CiphertextBlob: blob,
              SourceEncryptionContext: context,
              DestinationKeyId: o.keyId,
              DestinationEncryptionContext: context,
            }),
          ),
        ctx,
        [wrapped],
      );
      return { wrapped: textOf('ReEncrypt', out.CiphertextBlob), kekVersion: arnOf('ReEncrypt', out.KeyId) };
    },

    async currentVersion(): Promise<KekVersion> {
      const out = await send('DescribeKey', () => client.send(new DescribeKeyCommand({ KeyId: o.keyId })));
      return arnOf('DescribeKey', out.KeyMetadata?.Arn);
    },

    destroy: () => client.destroy(),
  };
}

/** The adapter on the SDK's default credential chain, said explicitly: in the agent, the pod's own AWS identity. */
export function kmsWithDefaultChain(o: Omit<KmsOptions, 'credentials'>): KeyEncrypter & { destroy(): void } {
  return awsKms({ ...o, credentials: DEFAULT_CHAIN });
}
