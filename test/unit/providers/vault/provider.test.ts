// What the provider does with a 403, with a scripted VaultHttp: a valid token refused one
// path fails that read only (no revocation, no new login), a token Vault no longer honours
// is replaced once, and many concurrent 403s cost one lookup-self. Then which reads share
// one HTTP read (ReadOptions.notBefore). Behaviour against the real OpenBao is in
// test/integration/providers/vault-denied.test.ts.
import { SourceAuthError } from '../../../../src/errors.js';
import type { Authenticator, LoginResult } from '../../../../src/providers/vault/auth.js';
import type { VaultHttp } from '../../../../src/providers/vault/client.js';
import { VaultProvider } from '../../../../src/providers/vault/provider.js';
import { rejection } from '../../../helpers/rejection.js';

const DENIED = 'secret/data/app/denied';

function refused(): Error {
  return Object.assign(new Error('Status 403: permission denied'), { response: { statusCode: 403 } });
}

function unavailable(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8200'), { code: 'ECONNREFUSED' });
}

interface Script {
  login?: Partial<LoginResult>;
  /** Tokens Vault honours (default: every token a login handed out and nobody revoked). */
  valid?: (token: string) => boolean;
  /** What lookup-self does for a token Vault honours: answer, refuse (no `default` policy) or fail. */
  lookup?: 'answer' | 'refuse' | 'fail';
}

function setup(script: Script = {}) {
  let clock = Date.parse('2025-01-01T00:00:00Z');
  const calls: string[] = [];
  const ops: string[] = [];
  const revoked = new Set<string>();
  let n = 0;
  const auth: Authenticator = {
    method: 'appRole',
    identity: 'the AppRole of spec.vault.auth.appRole.roleId (auth/approle)',
    login: async () => ({ token: `tok-${++n}`, ttlSeconds: 600, renewable: false, owned: true, ...script.login }),
  };
  const honoured = (token: string) => !revoked.has(token) && (script.valid ?? (() => true))(token);
  const http: VaultHttp = {
    read: async (path, token) => {
      calls.push(`read ${path} ${token}`);
      if (path === 'auth/token/lookup-self') {
        if (!honoured(token)) throw refused();
        if (script.lookup === 'refuse') throw refused();
        if (script.lookup === 'fail') throw unavailable();
        return { data: { policies: ['default', 'app'] } };
      }
      if (!honoured(token) || path.startsWith(DENIED)) throw refused();
      return { data: { data: { password: 'pw' }, metadata: { version: 1 } } };
    },
    write: async (path, _body, token) => {
      calls.push(`write ${path} ${token}`);
      if (path === 'auth/token/revoke-self' && token) revoked.add(token);
      return {};
    },
  };
  const provider = new VaultProvider({
    source: 'SecretSource/apps/vault',
    host: 'vault:8200',
    kv: { mount: 'secret', version: 2 },
    http,
    auth,
    now: () => new Date(clock),
    onCall: (op, result) => ops.push(`${op}:${result}`),
  });
  return {
    provider,
    calls,
    revoked,
    count: (op: string) => ops.filter((o) => o.startsWith(`${op}:`)).length,
    advance: (ms: number) => {
      clock += ms;
    },
    time: () => clock,
  };
}

test('a path the policy denies fails that read only: no revocation, no new login, other paths keep working', async () => {
  const s = setup();
  expect((await s.provider.getSecret({ path: 'app/allowed', property: 'password' })).value.toString()).toBe('pw');
  const err = await rejection(s.provider.getSecret({ path: 'app/denied', property: 'password' }));
  expect(err).toBeInstanceOf(SourceAuthError);
  expect(err.message).toContain('SecretSource/apps/vault');
  expect(err.message).toContain('"app/denied"');
  expect(err.message).toContain(`path "${DENIED}" { capabilities = ["read"] }`);
  expect(err.message).toContain('the AppRole');
  expect(err.message).not.toContain('tok-');
  expect((await s.provider.getSecretMap({ path: 'app/allowed' })).values.password?.toString()).toBe('pw');
  expect(s.count('login')).toBe(1);
  expect(s.count('lookup')).toBe(1);
  expect(s.revoked.size).toBe(0);
  expect(s.calls.filter((c) => c.includes('revoke'))).toEqual([]);
  await s.provider.close();
});

test('a pinned version: the policy path in the message has no query', async () => {
  const s = setup();
  const err = await rejection(s.provider.getSecret({ path: 'app/denied', version: '3' }));
  expect(err.message).toContain(`path "${DENIED}" {`);
  expect(err.message).not.toContain('?version');
  await s.provider.close();
});

test('many concurrent denied reads cost one lookup-self; the verdict is reused briefly, then checked again', async () => {
  const s = setup();
  const errs = await Promise.all(Array.from({ length: 20 }, () => rejection(s.provider.getSecret({ path: 'app/denied' }))));
  for (const e of errs) expect(e).toBeInstanceOf(SourceAuthError);
  expect(s.count('lookup')).toBe(1);
  s.advance(4_000);
  await rejection(s.provider.getSecret({ path: 'app/denied' }));
  expect(s.count('lookup')).toBe(1);
  s.advance(2_000);
  await rejection(s.provider.getSecret({ path: 'app/denied' }));
  expect(s.count('lookup')).toBe(2);
  expect(s.count('login')).toBe(1);
  await s.provider.close();
});

test('a token Vault no longer honours is revoked, replaced by one login, and the read retried once', async () => {
  const s = setup({ valid: (t) => t !== 'tok-1' });
  const reads = await Promise.all(Array.from({ length: 5 }, () => s.provider.getSecret({ path: 'app/allowed', property: 'password' })));
  expect(reads.map((r) => r.value.toString())).toEqual(['pw', 'pw', 'pw', 'pw', 'pw']);
  expect(s.count('login')).toBe(2);
  expect(s.count('lookup')).toBe(1);
  expect(s.calls.filter((c) => c.startsWith('write auth/token/revoke-self'))).toEqual(['write auth/token/revoke-self tok-1']);
  await s.provider.close();
});

test('a denied path after the token was replaced is still reported as a policy denial', async () => {
  const s = setup({ valid: (t) => t !== 'tok-1' });
  const err = await rejection(s.provider.getSecret({ path: 'app/denied' }));
  expect(err.message).toContain('Vault denied reading "app/denied" with a valid token');
  expect(s.count('login')).toBe(2);
  expect(s.count('lookup')).toBe(2); // tok-1 (not valid), tok-2 (valid)
  await s.provider.close();
});

test.each(['refuse', 'fail'] as const)('when lookup-self is not usable (%s), a 403 is treated as a bad token, as before', async (lookup) => {
  const s = setup({ lookup });
  const err = await rejection(s.provider.getSecret({ path: 'app/denied' }));
  expect(err).toBeInstanceOf(SourceAuthError);
  expect(err.message).toContain('was refused (HTTP 403)');
  expect(s.count('login')).toBe(2);
  expect(s.calls).toContain('write auth/token/revoke-self tok-1');
  expect((await s.provider.getSecret({ path: 'app/allowed', property: 'password' })).value.toString()).toBe('pw');
  await s.provider.close();
});

describe('a static token (one we were given, not created)', () => {
  const given = { token: 'given', owned: false, ttlSeconds: 0, renewable: false };

  test('a denied path neither re-reads the token nor revokes it', async () => {
    const s = setup({ login: given });
    const err = await rejection(s.provider.getSecret({ path: 'app/denied' }));
    expect(err.message).toContain('Vault denied reading "app/denied"');
    expect(s.count('login')).toBe(1);
    expect(s.calls.filter((c) => c.startsWith('write'))).toEqual([]);
    await s.provider.close();
  });

  test('a token Vault does not know is re-read once and reported, with one lookup-self', async () => {
    const s = setup({ login: given, valid: () => false });
    const err = await rejection(s.provider.getSecret({ path: 'app/allowed' }));
    expect(err).toBeInstanceOf(SourceAuthError);
    expect(err.message).toContain('was refused (HTTP 403)');
    expect(s.count('login')).toBe(2);
    expect(s.count('lookup')).toBe(1);
    expect(s.calls.filter((c) => c.startsWith('write'))).toEqual([]);
    await s.provider.close();
  });
});

describe('shared reads (notBefore)', () => {
  const reads = (s: ReturnType<typeof setup>) => s.calls.filter((c) => c.startsWith('read secret/')).length;

  test('reads whose notBefore is at or before the first read started share one HTTP read, across properties and dataFrom', async () => {
    const s = setup();
    const t = s.time();
    await s.provider.getSecret({ path: 'app/allowed', property: 'password' }, { notBefore: t });
    s.advance(3_000);
    const [a, b, m] = await Promise.all([
      s.provider.getSecret({ path: 'app/allowed', property: 'password' }, { notBefore: t }),
      s.provider.getSecret({ path: 'app/allowed' }, { notBefore: t - 1_000 }),
      s.provider.getSecretMap({ path: 'app/allowed' }, { notBefore: t }),
    ]);
    expect(a.value.toString()).toBe('pw');
    expect(JSON.parse(b.value.toString())).toEqual({ password: 'pw' });
    expect(m.values.password?.toString()).toBe('pw');
    expect(reads(s)).toBe(1);
    expect(s.count('read')).toBe(1);
    await s.provider.close();
  });

  test('a notBefore after the first read started reads again; without notBefore only a read of the same moment is shared', async () => {
    const s = setup();
    await s.provider.getSecret({ path: 'app/allowed', property: 'password' });
    await s.provider.getSecret({ path: 'app/allowed', property: 'password' }); // same ms on this clock
    expect(reads(s)).toBe(1);
    s.advance(1);
    await s.provider.getSecret({ path: 'app/allowed', property: 'password' }, { notBefore: s.time() });
    expect(reads(s)).toBe(2);
    s.advance(1);
    await s.provider.getSecret({ path: 'app/allowed', property: 'password' });
    expect(reads(s)).toBe(3);
    await s.provider.close();
  });

  test('a pinned version is its own read', async () => {
    const s = setup();
    const t = s.time();
    await s.provider.getSecret({ path: 'app/allowed', property: 'password' }, { notBefore: t });
    await s.provider.getSecret({ path: 'app/allowed', property: 'password', version: '1' }, { notBefore: t });
    await s.provider.getSecret({ path: 'app/allowed', property: 'password', version: '1' }, { notBefore: t });
    expect(s.calls.filter((c) => c.startsWith('read secret/'))).toEqual([
      'read secret/data/app/allowed tok-1',
      'read secret/data/app/allowed?version=1 tok-1',
    ]);
    await s.provider.close();
  });

  test('a failed read is not shared with a later caller', async () => {
    const s = setup();
    const t = s.time();
    await rejection(s.provider.getSecret({ path: 'app/denied' }, { notBefore: t }));
    await rejection(s.provider.getSecret({ path: 'app/denied' }, { notBefore: t }));
    expect(s.calls.filter((c) => c.startsWith(`read ${DENIED}`))).toHaveLength(2);
    await s.provider.close();
  });

  test('after close() nothing is served from the shared reads: a read fails as closed', async () => {
    const s = setup();
    const t = s.time();
    await s.provider.getSecret({ path: 'app/allowed' }, { notBefore: t });
    await s.provider.close();
    expect((await rejection(s.provider.getSecret({ path: 'app/allowed' }, { notBefore: t }))).message).toContain('was closed');
    expect(reads(s)).toBe(1);
  });
});
