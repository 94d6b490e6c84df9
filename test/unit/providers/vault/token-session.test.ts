// The session's own bookkeeping (single-flight login, renewal timing, invalidation races,
// close) with a scripted port; behaviour against Vault itself is in the integration tests.
import { jest } from '@jest/globals';
import { SourceUnavailableError } from '../../../../src/errors.js';
import type { Authenticator, LoginResult } from '../../../../src/providers/vault/auth.js';
import type { VaultHttp } from '../../../../src/providers/vault/client.js';
import { TokenSession } from '../../../../src/providers/vault/token-session.js';

function setup(login: Partial<LoginResult> = {}, renewTtl: number | Error = 30) {
  const calls: string[] = [];
  let n = 0;
  const auth: Authenticator = {
    method: 'appRole',
    identity: 'the AppRole',
    login: async () => ({ token: `t${++n}`, ttlSeconds: 30, renewable: true, owned: true, ...login }),
  };
  const http: VaultHttp = {
    read: async () => ({}),
    write: async (path, _body, token) => {
      calls.push(`${path} ${token}`);
      if (path === 'auth/token/renew-self') {
        if (renewTtl instanceof Error) throw renewTtl;
        return { auth: { lease_duration: renewTtl, renewable: true } };
      }
      return {};
    },
  };
  const ops: string[] = [];
  const session = new TokenSession(http, auth, {
    source: 'SecretSource/ns/s',
    now: () => new Date(),
    onCall: (op, result) => ops.push(`${op}:${result}`),
  });
  return { session, calls, ops };
}

afterEach(() => {
  jest.useRealTimers();
});

test('concurrent first calls share one login', async () => {
  const { session, ops } = setup();
  const tokens = await Promise.all([session.token(), session.token(), session.token()]);
  expect(tokens).toEqual(['t1', 't1', 't1']);
  expect(ops).toEqual(['login:success']);
  await session.close();
});

test('renews at 2/3 of the TTL and keeps renewing while Vault extends the TTL', async () => {
  jest.useFakeTimers();
  const { session, calls } = setup();
  await session.token();
  await jest.advanceTimersByTimeAsync(19_000);
  expect(calls).toEqual([]);
  await jest.advanceTimersByTimeAsync(1_500);
  expect(calls).toEqual(['auth/token/renew-self t1']);
  await jest.advanceTimersByTimeAsync(20_000);
  expect(calls).toHaveLength(2);
  expect(await session.token()).toBe('t1');
  await session.close();
});

test('a TTL capped below the previous one is not renewed again; expiry leads to a new login', async () => {
  jest.useFakeTimers();
  const { session, calls, ops } = setup({}, 5);
  await session.token();
  await jest.advanceTimersByTimeAsync(60_000);
  expect(calls.filter((c) => c.startsWith('auth/token/renew-self'))).toHaveLength(1);
  expect(await session.token()).toBe('t2');
  expect(ops.filter((o) => o.startsWith('login'))).toHaveLength(2);
  await session.close();
});

test('a failed renewal drops the token so the next call logs in again', async () => {
  jest.useFakeTimers();
  const { session, ops } = setup({}, new Error('boom'));
  await session.token();
  await jest.advanceTimersByTimeAsync(21_000);
  expect(ops).toContain('renew:error');
  expect(await session.token()).toBe('t2');
  await session.close();
});

test('invalidate replaces the refused token once; a stale invalidate is a no-op', async () => {
  const { session, calls } = setup();
  const t1 = await session.token();
  await session.invalidate(t1);
  expect(calls).toEqual(['auth/token/revoke-self t1']);
  const t2 = await session.token();
  await session.invalidate(t1);
  expect(await session.token()).toBe(t2);
  await session.close();
});

test('tokens we were given are neither renewed nor revoked', async () => {
  jest.useFakeTimers();
  const { session, calls } = setup({ owned: false, ttlSeconds: 0, renewable: false });
  await session.token();
  await jest.advanceTimersByTimeAsync(3_600_000);
  await session.close();
  expect(calls).toEqual([]);
});

test('close revokes once, is idempotent, and later calls fail without logging in', async () => {
  const { session, calls, ops } = setup();
  await session.token();
  await Promise.all([session.close(), session.close()]);
  await session.close();
  expect(calls).toEqual(['auth/token/revoke-self t1']);
  await expect(session.token()).rejects.toBeInstanceOf(SourceUnavailableError);
  expect(ops.filter((o) => o.startsWith('login'))).toHaveLength(1);
});
