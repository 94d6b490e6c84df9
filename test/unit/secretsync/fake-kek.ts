// An in-memory KeyEncrypter for unit tests of the envelope pipeline: data keys wrapped
// with AES-256-GCM under a per-version KEK held here, every call counted. It shows what
// the reconciler asks of a key service; the real Transit and KMS are in test/integration/providers (vault-transit, aws-kms).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataKey, KeyContext, KeyEncrypter, WrappedKey } from '../../../src/crypto/key-encrypter.js';

export class FakeKek implements KeyEncrypter {
  readonly calls: string[] = [];
  private readonly keks = new Map<string, Buffer>([['1', randomBytes(32)]]);
  private latest = '1';

  /** A new KEK version, as `transit/keys/<key>/rotate` makes one. */
  rotate(): string {
    this.latest = String(Number(this.latest) + 1);
    this.keks.set(this.latest, randomBytes(32));
    return this.latest;
  }

  private wrap(key: Buffer, ctx: KeyContext): WrappedKey {
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.keks.get(this.latest) as Buffer, nonce);
    c.setAAD(Buffer.from(`${ctx.namespace}/${ctx.secretsync}`));
    const ct = Buffer.concat([c.update(key), c.final(), c.getAuthTag()]);
    return { wrapped: `fake:v${this.latest}:${Buffer.concat([nonce, ct]).toString('base64')}`, kekVersion: this.latest };
  }

  async generateDataKey(ctx: KeyContext): Promise<DataKey> {
    this.calls.push('generateDataKey');
    const plaintext = randomBytes(32);
    return { plaintext: Buffer.from(plaintext), ...this.wrap(plaintext, ctx) };
  }

  async decrypt(wrapped: string, ctx: KeyContext): Promise<Buffer> {
    this.calls.push('decrypt');
    return this.unwrap(wrapped, ctx);
  }

  private unwrap(wrapped: string, ctx: KeyContext): Buffer {
    const [, v, b64] = wrapped.split(':');
    const raw = Buffer.from(b64 ?? '', 'base64');
    const d = createDecipheriv('aes-256-gcm', this.keks.get((v ?? '').slice(1)) as Buffer, raw.subarray(0, 12));
    d.setAAD(Buffer.from(`${ctx.namespace}/${ctx.secretsync}`));
    d.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]);
  }

  async rewrap(wrapped: string, ctx: KeyContext): Promise<WrappedKey> {
    this.calls.push('rewrap');
    return this.wrap(this.unwrap(wrapped, ctx), ctx);
  }

  async currentVersion(): Promise<string> {
    this.calls.push('currentVersion');
    return this.latest;
  }
}
