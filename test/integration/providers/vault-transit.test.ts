// The Transit KeyEncrypter against the stack's real OpenBao: data keys minted, unwrapped
// and re-wrapped across a key rotation; the operator's policy (datakey + rewrap + read
// key) cannot decrypt and a decrypt-only token cannot mint; what is missing says what to
// create. Then through the Vault provider: a SecretSource with token auth hands out the
// same KeyEncrypter, counted by onCall, with its session's re-login on a revoked token.
// Data keys are compared with equals() and never printed; no message may carry a token.
import { vaultTransit } from '../../../src/providers/vault/transit.js';
import type { KeyEncrypter } from '../../../src/crypto/key-encrypter.js';
import { InvalidSpecError, InvalidValueError, SourceAuthError, SourceNotFoundError, SourceUnavailableError } from '../../../src/errors.js';
import type { SecretProvider } from '../../../src/providers/provider.js';
import { createVaultHttp } from '../../../src/providers/vault/client.js';
import { failureLog } from '../../helpers/rejection.js';
import { uniqueName } from '../../helpers/stack.js';
import {
  VAULT_ADDR,
  callLog,
  closedPort,
  createNamespace,
  createSecret,
  core,
  deleteNamespace,
  deps,
  ensureTransit,
  root,
  vaultOverHttp,
  vaultSource,
} from './vault-fixtures.js';

const MOUNT = 'transit-kek-tests';
const ctx = { namespace: 'payments', secretsync: 'db' };
const http = createVaultHttp({ address: VAULT_ADDR, timeoutMs: 10_000 });
/** Tokens this file created (revoked in afterAll); never the stack's root token. */
const created: string[] = [];
/** Every token a message must not carry: the created ones and the root token. */
const tokens: string[] = [];
const policies: string[] = [];
const providers: SecretProvider[] = [];
const { messages, failure } = failureLog();
let namespace: string;

/** A fresh aes256-gcm96 Transit key (version 1). */
async function newKey(): Promise<string> {
  const name = uniqueName('kek');
  await root.write(`${MOUNT}/keys/${name}`, {});
  return name;
}

/** A token whose only policy grants `capabilities` per path (plus `default`). */
async function tokenWith(paths: Record<string, string[]>): Promise<string> {
  const name = uniqueName('kek-policy');
  const policy = Object.entries(paths)
    .map(([p, caps]) => `path "${p}" { capabilities = ${JSON.stringify(caps)} }`)
    .join('\n');
  await root.write(`sys/policy/${name}`, { policy });
  policies.push(name);
  const res = (await root.write('auth/token/create', { policies: [name], ttl: '20m' })) as { auth: { client_token: string } };
  created.push(res.auth.client_token);
  tokens.push(res.auth.client_token);
  return res.auth.client_token;
}

/** The operator's policy for `key`: mint, re-wrap, read the key version; never decrypt. */
const operatorPaths = (key: string) => ({
  [`${MOUNT}/datakey/plaintext/${key}`]: ['update'],
  [`${MOUNT}/rewrap/${key}`]: ['update'],
  [`${MOUNT}/keys/${key}`]: ['read'],
});
const decryptPaths = (key: string) => ({ [`${MOUNT}/decrypt/${key}`]: ['update'] });

function transit(key: string, token: string, onCall?: (op: string, r: 'success' | 'error') => void): KeyEncrypter {
  return vaultTransit({ http, token: async () => token, mount: MOUNT, key, onCall, source: 'test', host: new URL(VAULT_ADDR).host });
}

beforeAll(async () => {
  await ensureTransit(MOUNT);
  namespace = await createNamespace('kek-transit');
});

afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  // includes(), not toContain(): a failure must not print the token it found.
  for (const m of messages) for (const t of tokens) expect(m.includes(t)).toBe(false);
  // Only what this file created: revoking the root token would break the shared stack.
  for (const t of created) await root.write('auth/token/revoke', { token: t }).catch(() => undefined);
  for (const p of policies) await root.delete(`sys/policy/${p}`).catch(() => undefined);
  await deleteNamespace(namespace);
});

test('a minted data key decrypts to the same 32 bytes; it is wrapped by version 1 of the key', async () => {
  const key = await newKey();
  const ops: string[] = [];
  const kek = transit(key, await tokenWith({ ...operatorPaths(key), ...decryptPaths(key) }), (op, r) => ops.push(`${op}:${r}`));
  const minted = await kek.generateDataKey(ctx);
  expect(minted.plaintext).toHaveLength(32);
  expect(minted.wrapped.startsWith('vault:v1:')).toBe(true);
  expect(minted.kekVersion).toBe('1');
  expect((await kek.decrypt(minted.wrapped, ctx)).equals(minted.plaintext)).toBe(true);
  expect(await kek.currentVersion()).toBe('1');
  const again = await kek.generateDataKey(ctx);
  expect(again.plaintext.equals(minted.plaintext)).toBe(false);
  expect(ops).toEqual(['transit-datakey:success', 'transit-decrypt:success', 'transit-read-key:success', 'transit-datakey:success']);
});

test('after the key rotates: version "2", rewrap moves a v1 key to v2 with the same plaintext, new keys are minted under v2', async () => {
  const key = await newKey();
  const kek = transit(key, await tokenWith({ ...operatorPaths(key), ...decryptPaths(key) }));
  const v1 = await kek.generateDataKey(ctx);
  await root.write(`${MOUNT}/keys/${key}/rotate`, {});
  expect(await kek.currentVersion()).toBe('2');

  const moved = await kek.rewrap(v1.wrapped, ctx);
  expect(moved.kekVersion).toBe('2');
  expect(moved.wrapped.startsWith('vault:v2:')).toBe(true);
  expect((await kek.decrypt(moved.wrapped, ctx)).equals(v1.plaintext)).toBe(true);
  expect((await kek.decrypt(v1.wrapped, ctx)).equals(v1.plaintext)).toBe(true); // v1 still opens until min_decryption_version moves

  const v2 = await kek.generateDataKey(ctx);
  expect(v2.kekVersion).toBe('2');
  expect(v2.wrapped.startsWith('vault:v2:')).toBe(true);

  // Re-wrapping what is already current keeps the version.
  expect((await kek.rewrap(moved.wrapped, ctx)).kekVersion).toBe('2');

  // Once v1 may no longer be decrypted, a v1 key says so.
  await root.write(`${MOUNT}/keys/${key}/config`, { min_decryption_version: 2 });
  const old = await failure(kek.decrypt(v1.wrapped, ctx));
  expect(old).toBeInstanceOf(InvalidValueError);
  expect(old.message).toContain('does not open');
});

test("the operator's policy (datakey, rewrap, read key) cannot decrypt; a decrypt-only token cannot mint", async () => {
  const key = await newKey();
  const operator = transit(key, await tokenWith(operatorPaths(key)));
  const agent = transit(key, await tokenWith(decryptPaths(key)));

  const minted = await operator.generateDataKey(ctx);
  expect((await operator.rewrap(minted.wrapped, ctx)).kekVersion).toBe('1');
  expect(await operator.currentVersion()).toBe('1');
  const refused = await failure(operator.decrypt(minted.wrapped, ctx));
  expect(refused).toBeInstanceOf(SourceAuthError);
  expect(refused.message).toContain('HTTP 403');
  expect(refused.message).toContain(`path "${MOUNT}/decrypt/${key}" { capabilities = ["update"] }`);
  expect(refused.message.includes(minted.wrapped.slice(9))).toBe(false);

  expect((await agent.decrypt(minted.wrapped, ctx)).equals(minted.plaintext)).toBe(true);
  const cannotMint = await failure(agent.generateDataKey(ctx));
  expect(cannotMint).toBeInstanceOf(SourceAuthError);
  expect(cannotMint.message).toContain(`path "${MOUNT}/datakey/plaintext/${key}" { capabilities = ["update"] }`);
  const cannotRewrap = await failure(agent.rewrap(minted.wrapped, ctx));
  expect(cannotRewrap.message).toContain(`path "${MOUNT}/rewrap/${key}" { capabilities = ["update"] }`);
});

test('what is missing or broken says what to do: no key, no engine, an altered wrapped key, no Vault', async () => {
  const rootToken = process.env.VAULT_TOKEN as string;
  tokens.push(rootToken);
  const missing = transit(uniqueName('nokey'), rootToken);
  const noKey = await failure(missing.generateDataKey(ctx));
  expect(noKey).toBeInstanceOf(SourceNotFoundError);
  expect(noKey.message).toContain(`create it (bao write -f ${MOUNT}/keys/`);
  const noKeyRead = await failure(missing.currentVersion());
  expect(noKeyRead).toBeInstanceOf(SourceNotFoundError);
  expect(noKeyRead.message).toContain('create it');

  const noEngine = await failure(
    vaultTransit({ http, token: async () => rootToken, mount: uniqueName('no-transit'), key: 'k' }).generateDataKey(ctx),
  );
  expect(noEngine).toBeInstanceOf(SourceNotFoundError);
  expect(noEngine.message).toContain('found no Transit engine');

  const key = await newKey();
  const kek = transit(key, rootToken);
  const { wrapped } = await kek.generateDataKey(ctx);
  const body = Buffer.from(wrapped.slice('vault:v1:'.length), 'base64');
  body[body.length - 1] = (body[body.length - 1] as number) ^ 1;
  const altered = await failure(kek.decrypt(`vault:v1:${body.toString('base64')}`, ctx));
  expect(altered).toBeInstanceOf(InvalidValueError);
  expect(altered.message).toContain('the wrapped data key does not open');
  const otherKey = await failure(transit(await newKey(), rootToken).decrypt(wrapped, ctx));
  expect(otherKey).toBeInstanceOf(InvalidValueError);

  const offline = vaultTransit({
    http: createVaultHttp({ address: `http://127.0.0.1:${await closedPort()}`, timeoutMs: 5_000 }),
    token: async () => rootToken,
    mount: MOUNT,
    key,
  });
  const down = await failure(offline.currentVersion());
  expect(down).toBeInstanceOf(SourceUnavailableError);
  expect(down.message).toContain('could not be reached');
});

describe('through the Vault provider (a SecretSource with token auth)', () => {
  async function source(token: string) {
    const secret = uniqueName('vault-token');
    await createSecret(namespace, secret, { token });
    const log = callLog();
    const provider = vaultOverHttp.create(vaultSource(namespace, { auth: { token: { secretRef: { name: secret, key: 'token' } } } }), deps(namespace, log));
    providers.push(provider);
    return { provider, log, secret };
  }

  test('keyEncrypter() mints and re-wraps with the source token, counted by operation; decrypt is refused by policy', async () => {
    const key = await newKey();
    const { provider, log } = await source(await tokenWith(operatorPaths(key)));
    const kek = (provider.keyEncrypter as NonNullable<SecretProvider['keyEncrypter']>)({ mount: MOUNT, key });
    const minted = await kek.generateDataKey(ctx);
    expect(minted.wrapped.startsWith('vault:v1:')).toBe(true);
    await root.write(`${MOUNT}/keys/${key}/rotate`, {});
    expect(await kek.currentVersion()).toBe('2');
    expect((await kek.rewrap(minted.wrapped, ctx)).wrapped.startsWith('vault:v2:')).toBe(true);
    const refused = await failure(kek.decrypt(minted.wrapped, ctx));
    expect(refused).toBeInstanceOf(SourceAuthError);
    expect(refused.message).toContain('SecretSource/');
    expect(refused.message).toContain(`path "${MOUNT}/decrypt/${key}"`);

    expect(log.count('login')).toBe(1); // one session for everything
    expect(log.count('transit-datakey', 'success')).toBe(1);
    expect(log.count('transit-read-key', 'success')).toBe(1);
    expect(log.count('transit-rewrap', 'success')).toBe(1);
    expect(log.count('transit-decrypt', 'error')).toBe(1);
    expect(log.count('lookup', 'success')).toBe(1); // the 403 was checked: a valid token, so no re-login
  });

  test('a KMS key id on a Vault source is a spec error saying which block to use', async () => {
    const { provider } = await source(await tokenWith(operatorPaths(await newKey())));
    // Called on the provider: a method detached from it has no `this`.
    const keyEncrypter = () => provider.keyEncrypter?.({ keyId: 'alias/secretsync' });
    expect(keyEncrypter).toThrow(InvalidSpecError);
    expect(keyEncrypter).toThrow('use kek.vaultTransit with this source, or kek.awsKms with an aws source');
  });

  test('a revoked token is replaced by the one the Secret holds now, and the Transit call retried once', async () => {
    const key = await newKey();
    const first = await tokenWith(operatorPaths(key));
    const { provider, log, secret } = await source(first);
    const kek = (provider.keyEncrypter as NonNullable<SecretProvider['keyEncrypter']>)({ mount: MOUNT, key });
    expect(await kek.currentVersion()).toBe('1');

    await root.write('auth/token/revoke', { token: first });
    await core.replaceNamespacedSecret({
      name: secret,
      namespace,
      body: { metadata: { name: secret }, stringData: { token: await tokenWith(operatorPaths(key)) } },
    });
    const minted = await kek.generateDataKey(ctx);
    expect(minted.kekVersion).toBe('1');
    expect(log.count('lookup', 'error')).toBe(1); // the revoked token
    expect(log.count('login')).toBe(2); // the Secret read again
    expect(log.count('transit-datakey', 'success')).toBe(1);
  });

  test('after close(), Transit calls fail as unavailable', async () => {
    const key = await newKey();
    const { provider } = await source(await tokenWith(operatorPaths(key)));
    const kek = (provider.keyEncrypter as NonNullable<SecretProvider['keyEncrypter']>)({ mount: MOUNT, key });
    await provider.close();
    expect(await failure(kek.currentVersion())).toBeInstanceOf(SourceUnavailableError);
  });
});
