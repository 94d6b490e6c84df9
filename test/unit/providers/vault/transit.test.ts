// The Transit adapter's own logic with a scripted VaultHttp: which path and body each call
// sends, how answers are parsed, and how Vault's refusals become typed errors that say
// what to fix without a token or a ciphertext. Behaviour against the real OpenBao is in
// test/integration/providers/vault-transit.test.ts.
import { randomBytes } from 'node:crypto';
import { vaultTransit } from '../../../../src/providers/vault/transit.js';
import {
  InvalidSpecError,
  InvalidValueError,
  SourceAuthError,
  SourceNotFoundError,
  SourceUnavailableError,
} from '../../../../src/errors.js';
import type { VaultHttp } from '../../../../src/providers/vault/client.js';
import { rejection } from '../../../helpers/rejection.js';

const TOKEN = 'hvs.CAESIunit-test-token-0123456789abcdef';
const ctx = { namespace: 'payments', secretsync: 'db' };

function apiError(statusCode: number, message: string): Error {
  return Object.assign(new Error(message), { response: { statusCode, body: { errors: [message] } } });
}

function setup(answer: (method: 'read' | 'write', path: string, body?: Record<string, unknown>) => unknown) {
  const sent: { method: string; path: string; body?: Record<string, unknown>; token?: string }[] = [];
  const ops: string[] = [];
  let denied = 0;
  const http: VaultHttp = {
    read: async (path, token) => {
      sent.push({ method: 'read', path, token });
      return answer('read', path);
    },
    write: async (path, body, token) => {
      sent.push({ method: 'write', path, body, token });
      return answer('write', path, body);
    },
  };
  const kek = vaultTransit({
    http,
    token: async () => TOKEN,
    mount: 'transit',
    key: 'secretsync',
    onCall: (op, result) => ops.push(`${op}:${result}`),
    onDenied: () => denied++,
    source: 'SecretSource/apps/vault',
    host: 'vault:8200',
  });
  return { kek, sent, ops, denied: () => denied };
}

const WRAPPED = `vault:v3:${randomBytes(60).toString('base64')}`;

test('each call sends its path and body with the token, and is counted by operation', async () => {
  const key = randomBytes(32);
  const s = setup((method, path) => {
    if (path.endsWith('datakey/plaintext/secretsync')) return { data: { plaintext: key.toString('base64'), ciphertext: WRAPPED, key_version: 3 } };
    if (path.endsWith('decrypt/secretsync')) return { data: { plaintext: key.toString('base64') } };
    if (path.endsWith('rewrap/secretsync')) return { data: { ciphertext: WRAPPED.replace('v3', 'v4'), key_version: 4 } };
    if (method === 'read') return { data: { latest_version: 4, name: 'secretsync' } };
    throw new Error(`unexpected ${path}`);
  });
  const minted = await s.kek.generateDataKey(ctx);
  expect(minted.plaintext.equals(key)).toBe(true);
  expect(minted.wrapped).toBe(WRAPPED);
  expect(minted.kekVersion).toBe('3');
  expect((await s.kek.decrypt(WRAPPED, ctx)).equals(key)).toBe(true);
  expect(await s.kek.rewrap(WRAPPED, ctx)).toEqual({ wrapped: WRAPPED.replace('v3', 'v4'), kekVersion: '4' });
  expect(await s.kek.currentVersion()).toBe('4');
  expect(s.sent.map(({ method, path, body, token }) => [method, path, body, token === TOKEN])).toEqual([
    ['write', 'transit/datakey/plaintext/secretsync', { bits: 256 }, true],
    ['write', 'transit/decrypt/secretsync', { ciphertext: WRAPPED }, true],
    ['write', 'transit/rewrap/secretsync', { ciphertext: WRAPPED }, true],
    ['read', 'transit/keys/secretsync', undefined, true],
  ]);
  expect(s.ops).toEqual(['transit-datakey:success', 'transit-decrypt:success', 'transit-rewrap:success', 'transit-read-key:success']);
});

test('without key_version in the answer, the version is the one the ciphertext prefix names', async () => {
  const s = setup(() => ({ data: { ciphertext: WRAPPED } }));
  expect((await s.kek.rewrap(WRAPPED, ctx)).kekVersion).toBe('3');
});

test('mount and key are URL-encoded in the request, and shown as written in messages', async () => {
  const sent: string[] = [];
  const kek = vaultTransit({
    http: { read: async (p) => (sent.push(p), Promise.reject(apiError(403, 'permission denied'))), write: async () => ({}) },
    token: async () => TOKEN,
    mount: '/team a/transit/',
    key: 'key #1',
  });
  const err = await rejection(kek.currentVersion());
  expect(sent).toEqual(['team%20a/transit/keys/key%20%231']);
  expect(err.message).toContain('path "team a/transit/keys/key #1" { capabilities = ["read"] }');
});

test('a key name that is not one name is a spec error, before any call', () => {
  for (const key of ['', 'a/b', '..']) {
    expect(() => vaultTransit({ http: {} as VaultHttp, token: async () => TOKEN, mount: 'transit', key })).toThrow(InvalidSpecError);
  }
  expect(() => vaultTransit({ http: {} as VaultHttp, token: async () => TOKEN, mount: 'a/../b', key: 'k' })).toThrow(InvalidSpecError);
});

test('a 403 names the policy line to add, tells the token owner, and carries neither token nor ciphertext', async () => {
  const s = setup(() => Promise.reject(apiError(403, `1 error occurred: * permission denied for ${TOKEN}`)));
  const mint = await rejection(s.kek.generateDataKey(ctx));
  expect(mint).toBeInstanceOf(SourceAuthError);
  expect(mint.message).toContain('SecretSource/apps/vault: Vault Transit minting a data key with key "secretsync" at mount "transit" was refused (HTTP 403)');
  expect(mint.message).toContain('path "transit/datakey/plaintext/secretsync" { capabilities = ["update"] }');
  const dec = await rejection(s.kek.decrypt(WRAPPED, ctx));
  expect(dec.message).toContain('path "transit/decrypt/secretsync" { capabilities = ["update"] }');
  const re = await rejection(s.kek.rewrap(WRAPPED, ctx));
  expect(re.message).toContain('path "transit/rewrap/secretsync" { capabilities = ["update"] }');
  const ver = await rejection(s.kek.currentVersion());
  expect(ver.message).toContain('path "transit/keys/secretsync" { capabilities = ["read"] }');
  for (const e of [mint, dec, re, ver]) {
    expect(e.message).not.toContain(TOKEN);
    expect(e.message).not.toContain(WRAPPED.slice(9, 40));
  }
  expect(s.denied()).toBe(4);
  expect(s.ops).toEqual(['transit-datakey:error', 'transit-decrypt:error', 'transit-rewrap:error', 'transit-read-key:error']);
});

test.each<[string, Error, new (m: string) => Error, string]>([
  ['a missing key (datakey: 400)', apiError(400, 'encryption key not found'), SourceNotFoundError, 'bao write -f transit/keys/secretsync'],
  ['a missing key (404)', apiError(404, 'Status 404'), SourceNotFoundError, 'create it (bao write -f transit/keys/secretsync)'],
  ['no engine at the mount', apiError(404, "no handler for route 'transit/keys/secretsync'"), SourceNotFoundError, 'bao secrets enable -path=transit transit'],
  ['a key type without datakey', apiError(400, 'key type ed25519 does not support encryption'), InvalidSpecError, 'aes256-gcm96'],
  ['a sealed Vault', apiError(503, 'Vault is sealed'), SourceUnavailableError, 'vault:8200 is sealed'],
  ['no Vault at all', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8200'), { code: 'ECONNREFUSED' }), SourceUnavailableError, 'could not be reached'],
])('%s: the typed error says what to do', async (_name, failure, cls, fix) => {
  const s = setup(() => Promise.reject(failure));
  const err = await rejection(s.kek.generateDataKey(ctx));
  expect(err).toBeInstanceOf(cls);
  expect(err.message).toContain(fix);
  expect(s.denied()).toBe(0);
});

test.each([
  ['cipher: message authentication failed', 'it was altered, or wrapped by another Transit key'],
  ['ciphertext or signature version is disallowed by policy (too old)', "older than the key's min_decryption_version"],
])('a wrapped key Transit cannot open (%s) is an InvalidValueError saying why', async (vaultSays, why) => {
  const s = setup(() => Promise.reject(apiError(400, vaultSays)));
  for (const call of [s.kek.decrypt(WRAPPED, ctx), s.kek.rewrap(WRAPPED, ctx)]) {
    const err = await rejection(call);
    expect(err).toBeInstanceOf(InvalidValueError);
    expect(err.message).toContain('the wrapped data key does not open');
    expect(err.message).toContain(why);
    expect(err.message).not.toContain(WRAPPED.slice(9, 40));
  }
});

test('a wrapped key that is not a Transit ciphertext is refused before any call, without quoting it', async () => {
  const s = setup(() => ({}));
  for (const wrapped of ['', 'AQIDBA==', 'vault:v0:abc', 'vault:v1:', 'vault:v1:abc def']) {
    const err = await rejection(s.kek.decrypt(wrapped, ctx));
    expect(err).toBeInstanceOf(InvalidValueError);
    expect(err.message).toContain('is not a Transit ciphertext');
    await expect(s.kek.rewrap(wrapped, ctx)).rejects.toBeInstanceOf(InvalidValueError);
  }
  expect(s.sent).toEqual([]);
});

test('answers without what the call returns are typed errors; a data key that is not 32 bytes is refused', async () => {
  const short = setup(() => ({ data: { plaintext: randomBytes(16).toString('base64'), ciphertext: WRAPPED, key_version: 3 } }));
  const err = await rejection(short.kek.generateDataKey(ctx));
  expect(err).toBeInstanceOf(InvalidValueError);
  expect(err.message).toContain('not 32 bytes');
  await expect(setup(() => ({})).kek.currentVersion()).rejects.toBeInstanceOf(SourceUnavailableError);
  await expect(setup(() => ({ data: { latest_version: '2' } })).kek.currentVersion()).rejects.toBeInstanceOf(SourceUnavailableError);
  await expect(setup(() => ({ data: { plaintext: 'AA==', ciphertext: 'nope' } })).kek.generateDataKey(ctx)).rejects.toBeInstanceOf(
    SourceUnavailableError,
  );
});

test('a login failure reaches the caller as the session threw it, and no call is counted', async () => {
  const ops: string[] = [];
  const kek = vaultTransit({
    http: {} as VaultHttp,
    token: () => Promise.reject(new SourceAuthError('login refused')),
    mount: 'transit',
    key: 'k',
    onCall: (op, r) => ops.push(`${op}:${r}`),
  });
  await expect(kek.currentVersion()).rejects.toThrow('login refused');
  expect(ops).toEqual([]);
});
