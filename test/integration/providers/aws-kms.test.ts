// The KMS KeyEncrypter against the stack's moto: data keys minted and unwrapped under the
// SecretSync's encryption context, refused for another namespace; an alias moved to
// another key (UpdateAlias) is a new KEK version, and rewrap moves a wrapped key to it;
// a missing key says what to create. Then through an AWS SecretSource with static keys
// from a Kubernetes Secret: the same calls with the source's credentials, counted by
// onCall. Data keys are compared with equals() and never printed; no message may carry a
// wrapped key or the access keys.
import { CreateAliasCommand, CreateKeyCommand, DeleteAliasCommand, KMSClient, ScheduleKeyDeletionCommand, UpdateAliasCommand } from '@aws-sdk/client-kms';
import { randomUUID } from 'node:crypto';
import { awsKms } from '../../../src/providers/aws/kms.js';
import type { KeyContext } from '../../../src/crypto/key-encrypter.js';
import { InvalidSpecError, InvalidValueError, SecretSyncError, SourceNotFoundError, SourceUnavailableError } from '../../../src/errors.js';
import type { SecretProvider } from '../../../src/providers/provider.js';
import { awsCallLog, awsOverHttp, awsSource, keysData, keysRef } from '../../helpers/aws.js';
import { failureLog } from '../../helpers/rejection.js';
import { awsConfig, uniqueName } from '../../helpers/stack.js';
import { createNamespace, createSecret, deleteNamespace, deps } from './vault-fixtures.js';

const ctx: KeyContext = { namespace: 'payments', secretsync: 'db' };
const admin = new KMSClient(awsConfig());
const keyArns: string[] = [];
const aliases: string[] = [];
/** Everything a message must not carry: wrapped keys and the access keys. */
const secrets: string[] = [awsConfig().credentials.accessKeyId, awsConfig().credentials.secretAccessKey];
const adapters: { destroy(): void }[] = [];
const providers: SecretProvider[] = [];
const { messages, failure } = failureLog();
let namespace: string;

/** A fresh symmetric ENCRYPT_DECRYPT key; its ARN. */
async function newKey(): Promise<string> {
  const out = await admin.send(new CreateKeyCommand({ Description: 'secretsync integration test KEK' }));
  const arn = out.KeyMetadata?.Arn;
  if (!arn) throw new Error('CreateKey returned no ARN');
  keyArns.push(arn);
  return arn;
}

async function newAlias(targetArn: string): Promise<string> {
  const name = `alias/${uniqueName('secretsync-kek')}`;
  await admin.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: targetArn }));
  aliases.push(name);
  return name;
}

/** The adapter on the stack's moto, as a provider would build it. */
function kms(keyId: string, onCall?: (op: string, r: 'success' | 'error') => void) {
  const adapter = awsKms({ ...awsConfig(), keyId, onCall, source: 'test' });
  adapters.push(adapter);
  return adapter;
}

/** Notes a wrapped key so afterAll can check no message carries it. */
function noted<T extends { wrapped: string }>(k: T): T {
  secrets.push(k.wrapped);
  return k;
}

beforeAll(async () => {
  namespace = await createNamespace('kek-kms');
  await createSecret(namespace, 'aws-keys', keysData(awsConfig().credentials));
});

afterEach(async () => {
  for (const a of adapters.splice(0)) a.destroy();
  await Promise.all(providers.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  // includes(), not toContain(): a failure must not print what it found.
  for (const m of messages) for (const s of secrets) expect(m.includes(s)).toBe(false);
  for (const a of aliases) await admin.send(new DeleteAliasCommand({ AliasName: a })).catch(() => undefined);
  for (const k of keyArns) await admin.send(new ScheduleKeyDeletionCommand({ KeyId: k, PendingWindowInDays: 7 })).catch(() => undefined);
  admin.destroy();
  await deleteNamespace(namespace);
});

test('a minted data key decrypts to the same 32 bytes; its KEK version is the ARN of the key the alias names', async () => {
  const arn = await newKey();
  const ops: string[] = [];
  const kek = kms(await newAlias(arn), (op, r) => ops.push(`${op}:${r}`));
  const minted = noted(await kek.generateDataKey(ctx));
  expect(minted.plaintext).toHaveLength(32);
  expect(minted.kekVersion).toBe(arn);
  expect((await kek.decrypt(minted.wrapped, ctx)).equals(minted.plaintext)).toBe(true);
  expect(await kek.currentVersion()).toBe(arn);
  const again = noted(await kek.generateDataKey(ctx));
  expect(again.plaintext.equals(minted.plaintext)).toBe(false);
  expect(ops).toEqual(['kms-generate-data-key:success', 'kms-decrypt:success', 'kms-describe-key:success', 'kms-generate-data-key:success']);
});

test('a data key bound to one SecretSync does not open, or re-wrap, for another namespace or SecretSync', async () => {
  const kek = kms(await newKey());
  const minted = noted(await kek.generateDataKey(ctx));

  const otherNamespace = await failure(kek.decrypt(minted.wrapped, { namespace: 'billing', secretsync: 'db' }));
  expect(otherNamespace).toBeInstanceOf(InvalidValueError);
  expect(otherNamespace.message).toContain('(InvalidCiphertextException)');
  expect(otherNamespace.message).toContain('does not belong to SecretSync billing/db');
  expect(otherNamespace.message).toContain('wrapped for another SecretSync or namespace, or altered');

  const otherSync = await failure(kek.decrypt(minted.wrapped, { namespace: 'payments', secretsync: 'cache' }));
  expect(otherSync).toBeInstanceOf(InvalidValueError);
  const rewrapped = await failure(kek.rewrap(minted.wrapped, { namespace: 'billing', secretsync: 'db' }));
  expect(rewrapped).toBeInstanceOf(InvalidValueError);
  expect(rewrapped.message).toContain('AWS KMS ReEncrypt');

  // Its own SecretSync still opens it.
  expect((await kek.decrypt(minted.wrapped, ctx)).equals(minted.plaintext)).toBe(true);
});

test('an alias moved to another key: the ARN changes, rewrap moves the wrapped key there, and both open with their own ARN', async () => {
  const [first, second] = [await newKey(), await newKey()];
  const alias = await newAlias(first);
  const kek = kms(alias);
  const before = noted(await kek.generateDataKey(ctx));
  expect(before.kekVersion).toBe(first);

  await admin.send(new UpdateAliasCommand({ AliasName: alias, TargetKeyId: second }));
  expect(await kek.currentVersion()).toBe(second);

  const moved = noted(await kek.rewrap(before.wrapped, ctx));
  expect(moved.kekVersion).toBe(second);
  expect(moved.wrapped).not.toBe(before.wrapped);
  // Decrypt names the key (KeyId): the ARN recorded as each wrapped key's KEK version.
  expect((await kms(second).decrypt(moved.wrapped, ctx)).equals(before.plaintext)).toBe(true);
  expect((await kek.decrypt(moved.wrapped, ctx)).equals(before.plaintext)).toBe(true); // the alias names it now
  expect((await kms(first).decrypt(before.wrapped, ctx)).equals(before.plaintext)).toBe(true);

  // Through the moved alias, KMS refuses the old ciphertext: it belongs to another key.
  // (AWS answers IncorrectKeyException, moto AccessDeniedException; both are typed.)
  const stale = await failure(kek.decrypt(before.wrapped, ctx));
  expect(stale).toBeInstanceOf(SecretSyncError);
  expect(stale.message).toContain(`AWS KMS Decrypt with key "${alias}"`);

  const after = noted(await kek.generateDataKey(ctx));
  expect(after.kekVersion).toBe(second);
  // Re-wrapping what is already current keeps the version.
  expect(noted(await kek.rewrap(after.wrapped, ctx)).kekVersion).toBe(second);
});

test('a key or alias that does not exist is SourceNotFound, saying what to create or fix', async () => {
  const { region } = awsConfig();
  const missingArn = `arn:aws:kms:${region}:123456789012:key/${randomUUID()}`;
  for (const keyId of [missingArn, randomUUID(), `alias/${uniqueName('no-such-kek')}`]) {
    const err = await failure(kms(keyId).currentVersion());
    expect(err).toBeInstanceOf(SourceNotFoundError);
    expect(err.message).toContain(`test: AWS KMS DescribeKey with key "${keyId}" found nothing (NotFoundException)`);
    expect(err.message).toContain('create it, or fix kek.awsKms.keyId');
  }
  const mint = await failure(kms(`alias/${uniqueName('no-such-kek')}`).generateDataKey(ctx));
  expect(mint).toBeInstanceOf(SourceNotFoundError);
});

describe('through an AWS SecretSource with static keys', () => {
  /** The provider's KEK (called on the provider: keyEncrypter is a method). */
  function kekOf(provider: SecretProvider, kek: { keyId: string } | { mount: string; key: string }) {
    if (!provider.keyEncrypter) throw new Error('the AWS provider serves no keyEncrypter');
    return provider.keyEncrypter(kek);
  }

  function source() {
    const log = awsCallLog();
    const provider = awsOverHttp.create(awsSource(namespace, { auth: keysRef('aws-keys') }), deps(namespace, log));
    providers.push(provider);
    return { provider, log };
  }

  test("keyEncrypter() mints and decrypts with the source's credentials, counted by operation", async () => {
    const arn = await newKey();
    const alias = await newAlias(arn);
    const { provider, log } = source();
    const kek = kekOf(provider, { keyId: alias });

    const minted = noted(await kek.generateDataKey(ctx));
    expect(minted.plaintext).toHaveLength(32);
    expect(minted.kekVersion).toBe(arn);
    expect((await kek.decrypt(minted.wrapped, ctx)).equals(minted.plaintext)).toBe(true);
    expect(await kek.currentVersion()).toBe(arn);
    const refused = await failure(kek.decrypt(minted.wrapped, { namespace: 'billing', secretsync: 'db' }));
    expect(refused).toBeInstanceOf(InvalidValueError);
    expect(refused.message).toContain(`SecretSource/${namespace}/`);

    expect(log.count('kms-generate-data-key', 'success')).toBe(1);
    expect(log.count('kms-decrypt', 'success')).toBe(1);
    expect(log.count('kms-decrypt', 'error')).toBe(1);
    expect(log.count('kms-describe-key', 'success')).toBe(1);

    // The same key through its ARN: what an agent holding the recorded KEK version builds.
    const byArn = kekOf(provider, { keyId: minted.kekVersion });
    expect((await byArn.decrypt(minted.wrapped, ctx)).equals(minted.plaintext)).toBe(true);
  });

  test('a Transit mount and key on an AWS source is a spec error saying which block to use', () => {
    const { provider } = source();
    const keyEncrypter = () => kekOf(provider, { mount: 'transit', key: 'secretsync' });
    expect(keyEncrypter).toThrow(InvalidSpecError);
    expect(keyEncrypter).toThrow('use kek.awsKms with this source, or kek.vaultTransit with a vault source');
  });

  test('after close(), KMS calls fail as unavailable', async () => {
    const { provider } = source();
    const kek = kekOf(provider, { keyId: await newKey() });
    await provider.close();
    expect(await failure(kek.currentVersion())).toBeInstanceOf(SourceUnavailableError);
  });
});
