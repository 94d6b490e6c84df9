// The KMS adapter's own logic with the SDK client's send() stubbed: what each command
// carries (encryption context, key spec, destination key), how answers are parsed, and
// how KMS exceptions (the SDK's real classes) become typed errors that say what to fix.
// Behaviour against moto is in test/integration/providers/aws-kms.test.ts.
import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import {
  DecryptCommand,
  DescribeKeyCommand,
  DisabledException,
  GenerateDataKeyCommand,
  IncorrectKeyException,
  InvalidCiphertextException,
  KMSClient,
  KMSServiceException,
  NotFoundException,
  ReEncryptCommand,
} from '@aws-sdk/client-kms';
import { awsKms } from '../../../../src/providers/aws/kms.js';
import { DEFAULT_CHAIN } from '../../../../src/providers/aws/client-config.js';
import {
  InvalidSpecError,
  InvalidValueError,
  SourceAuthError,
  SourceNotFoundError,
  SourceUnavailableError,
} from '../../../../src/errors.js';
import { refusesCredentials } from '../../../../src/providers/aws/errors.js';
import { rejection } from '../../../helpers/rejection.js';

const ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const ARN2 = 'arn:aws:kms:eu-west-1:123456789012:key/9999abcd-12ab-34cd-56ef-1234567890ab';
const ctx = { namespace: 'payments', secretsync: 'db' };
const CONTEXT = { 'secretsync.io/namespace': 'payments', 'secretsync.io/secretsync': 'db' };
const KEYS = { accessKeyId: 'AKIDUNITTESTKEY0001', secretAccessKey: 'unit-test-secret-access-key-0001' };
const meta = { httpStatusCode: 400, requestId: 'b7a3c1d2-0f1e-4e5d-9c8b-7a6f5e4d3c2b', attempts: 1, totalRetryDelay: 0 };

/** AccessDeniedException is not modelled by the KMS client: the SDK builds it from the answer's __type. */
const accessDenied = (message: string) => new KMSServiceException({ name: 'AccessDeniedException', $fault: 'client', message, $metadata: meta });

type Send = (command: unknown) => Promise<unknown>;
const send = jest.spyOn(KMSClient.prototype, 'send') as unknown as jest.Mock<Send>;
afterEach(() => send.mockReset());
afterAll(() => send.mockRestore());

function setup(answer: Send) {
  send.mockImplementation(answer);
  const ops: string[] = [];
  const kek = awsKms({
    region: 'eu-west-1',
    endpoint: 'http://127.0.0.1:1',
    credentials: KEYS,
    keyId: 'alias/secretsync',
    onCall: (op, result) => ops.push(`${op}:${result}`),
    source: 'SecretSource/apps/aws',
  });
  return { kek, ops, inputs: () => send.mock.calls.map(([c]) => [(c as object).constructor.name, (c as { input: unknown }).input]) };
}

test('each command carries the key, the encryption context and the key spec; answers become DataKey / WrappedKey / ARN', async () => {
  const key = randomBytes(32);
  const sdkPlaintext = new Uint8Array(key);
  const blob = randomBytes(80);
  const blob2 = randomBytes(80);
  const s = setup(async (c) => {
    if (c instanceof GenerateDataKeyCommand) return { Plaintext: sdkPlaintext, CiphertextBlob: new Uint8Array(blob), KeyId: ARN };
    if (c instanceof DecryptCommand) return { Plaintext: new Uint8Array(key), KeyId: ARN };
    if (c instanceof ReEncryptCommand) return { CiphertextBlob: new Uint8Array(blob2), KeyId: ARN2, SourceKeyId: ARN };
    if (c instanceof DescribeKeyCommand) return { KeyMetadata: { KeyId: 'x', Arn: ARN2 } };
    throw new Error('unexpected command');
  });
  const minted = await s.kek.generateDataKey(ctx);
  expect(minted.plaintext.equals(key)).toBe(true);
  expect(sdkPlaintext.every((x) => x === 0)).toBe(true); // the SDK's copy is zeroed
  expect(minted.wrapped).toBe(blob.toString('base64'));
  expect(minted.kekVersion).toBe(ARN);
  expect((await s.kek.decrypt(minted.wrapped, ctx)).equals(key)).toBe(true);
  expect(await s.kek.rewrap(minted.wrapped, ctx)).toEqual({ wrapped: blob2.toString('base64'), kekVersion: ARN2 });
  expect(await s.kek.currentVersion()).toBe(ARN2);
  const sent = s.inputs();
  expect(sent.map(([name]) => name)).toEqual(['GenerateDataKeyCommand', 'DecryptCommand', 'ReEncryptCommand', 'DescribeKeyCommand']);
  expect(sent[0]?.[1]).toEqual({ KeyId: 'alias/secretsync', KeySpec: 'AES_256', EncryptionContext: CONTEXT });
  const dec = sent[1]?.[1] as { CiphertextBlob: Uint8Array; KeyId: string; EncryptionContext: unknown };
  expect(Buffer.from(dec.CiphertextBlob).equals(blob)).toBe(true);
  expect([dec.KeyId, dec.EncryptionContext]).toEqual(['alias/secretsync', CONTEXT]);
  const re = sent[2]?.[1] as Record<string, unknown>;
  // No SourceKeyId: KMS reads it from the ciphertext, so a key wrapped before an alias moved re-wraps.
  expect(Object.keys(re).sort()).toEqual(['CiphertextBlob', 'DestinationEncryptionContext', 'DestinationKeyId', 'SourceEncryptionContext']);
  expect([re.DestinationKeyId, re.SourceEncryptionContext, re.DestinationEncryptionContext]).toEqual(['alias/secretsync', CONTEXT, CONTEXT]);
  expect(sent[3]?.[1]).toEqual({ KeyId: 'alias/secretsync' });
  expect(s.ops).toEqual(['kms-generate-data-key:success', 'kms-decrypt:success', 'kms-re-encrypt:success', 'kms-describe-key:success']);
  s.kek.destroy();
});

const WRAPPED = randomBytes(80).toString('base64');

test.each<[string, Error, new (m: string) => Error, string]>([
  [
    'AccessDenied',
    accessDenied('User: arn:aws:iam::123456789012:user/op is not authorized to perform: kms:Decrypt'),
    SourceAuthError,
    'allow kms:Decrypt on key "alias/secretsync"',
  ],
  ['NotFound', new NotFoundException({ message: "Alias 'alias/secretsync' is not found.", $metadata: meta }), SourceNotFoundError, 'no such KMS key or alias'],
  [
    'InvalidCiphertext (another context, or altered)',
    new InvalidCiphertextException({ message: '', $metadata: meta }),
    InvalidValueError,
    'the wrapped data key does not belong to SecretSync payments/db',
  ],
  ['IncorrectKey (an alias moved)', new IncorrectKeyException({ message: '', $metadata: meta }), InvalidValueError, 'wrapped by another KMS key'],
  ['Disabled', new DisabledException({ message: 'key is disabled', $metadata: meta }), SourceAuthError, 'enable it'],
  [
    'no endpoint',
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    SourceUnavailableError,
    'could not be reached',
  ],
])('%s maps to a typed error that says what to fix, without ids, keys or ciphertexts', async (_name, failure, cls, fix) => {
  const s = setup(() => Promise.reject(failure));
  const err = await rejection(s.kek.decrypt(WRAPPED, ctx));
  expect(err).toBeInstanceOf(cls);
  expect(err.message.startsWith('SecretSource/apps/aws: AWS KMS Decrypt with key "alias/secretsync"')).toBe(true);
  expect(err.message).toContain(fix);
  for (const secret of [meta.requestId, KEYS.accessKeyId, KEYS.secretAccessKey, WRAPPED.slice(0, 24)]) expect(err.message).not.toContain(secret);
  expect(s.ops).toEqual(['kms-decrypt:error']);
});

test('the IAM action named follows the call', async () => {
  const s = setup(() => Promise.reject(accessDenied('denied')));
  expect((await rejection(s.kek.generateDataKey(ctx))).message).toContain('allow kms:GenerateDataKey on key');
  expect((await rejection(s.kek.rewrap(WRAPPED, ctx))).message).toContain('allow kms:ReEncryptFrom (on the key that wrapped it) and kms:ReEncryptTo');
  expect((await rejection(s.kek.currentVersion())).message).toContain('allow kms:DescribeKey on key');
});

test('refused credentials stay recognisable after mapping, so the provider rebuilds its clients', async () => {
  const refused = Object.assign(new Error('The security token included in the request is invalid.'), {
    name: 'UnrecognizedClientException',
    $metadata: meta,
  });
  const s = setup(() => Promise.reject(refused));
  const err = await rejection(s.kek.currentVersion());
  expect(err).toBeInstanceOf(SourceAuthError);
  expect(refusesCredentials(err)).toBe(true);
  const denied = await rejection(setup(() => Promise.reject(accessDenied('no'))).kek.currentVersion());
  expect(refusesCredentials(denied)).toBe(false);
});

test('a wrapped key that is not base64 is refused before any call; an empty key id is a spec error', async () => {
  const s = setup(async () => ({}));
  for (const wrapped of ['', 'vault:v1:abc', 'not base64!']) {
    const err = await rejection(s.kek.decrypt(wrapped, ctx));
    expect(err).toBeInstanceOf(InvalidValueError);
    expect(err.message).toContain('is not a base64 KMS ciphertext');
  }
  expect(send).not.toHaveBeenCalled();
  expect(() => awsKms({ region: 'eu-west-1', keyId: ' ', credentials: DEFAULT_CHAIN })).toThrow(InvalidSpecError);
});

test('answers without what the call returns are typed errors; a data key that is not 32 bytes is refused and zeroed', async () => {
  const short = new Uint8Array(randomBytes(16));
  const s = setup(async () => ({ Plaintext: short, CiphertextBlob: new Uint8Array(8), KeyId: ARN }));
  const err = await rejection(s.kek.generateDataKey(ctx));
  expect(err).toBeInstanceOf(InvalidValueError);
  expect(err.message).toContain('not 32 bytes');
  expect(short.every((x) => x === 0)).toBe(true);
  send.mockImplementation(async () => ({ Plaintext: new Uint8Array(32) }));
  await expect(s.kek.generateDataKey(ctx)).rejects.toBeInstanceOf(SourceUnavailableError);
  send.mockImplementation(async () => ({ KeyMetadata: {} }));
  await expect(s.kek.currentVersion()).rejects.toBeInstanceOf(SourceUnavailableError);
});
