// The one mapping from node-vault / axios failures to typed errors, and what their messages may not contain.
import {
  InvalidSpecError,
  KeyNotFoundError,
  SourceAuthError,
  SourceNotFoundError,
  SourceUnavailableError,
} from '../../../../src/errors.js';
import { toVaultError, type VaultOperation } from '../../../../src/providers/vault/errors.js';

// Shapes as node-vault 0.12 rejects them: ApiResponseError (message = errors[0]) and axios errors.
function apiError(statusCode: number, message: string): Error {
  return Object.assign(new Error(message), { response: { statusCode, body: { errors: [message] } } });
}
function netError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, config: { headers: { 'X-Vault-Token': 'hvs.CAESIsecrettokenvalue12345' } } });
}
const ctx = (operation: VaultOperation = 'read') => ({ source: 'SecretSource/ns/src', host: 'vault:8200', operation, path: 'app/db' });

test.each([
  [apiError(404, 'Status 404'), SourceNotFoundError],
  [apiError(403, 'permission denied'), SourceAuthError],
  [apiError(401, 'unauthorized'), SourceAuthError],
  [apiError(400, '1 error occurred: * permission denied'), SourceAuthError],
  [apiError(503, 'Vault is sealed'), SourceUnavailableError],
  [apiError(500, 'internal error'), SourceUnavailableError],
  [apiError(429, 'rate limited'), SourceUnavailableError],
  [apiError(400, 'invalid version'), InvalidSpecError],
  [netError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'), SourceUnavailableError],
  [netError('ENOTFOUND', 'getaddrinfo ENOTFOUND vault'), SourceUnavailableError],
  [netError('ECONNABORTED', 'timeout of 15000ms exceeded'), SourceUnavailableError],
  [netError('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), SourceUnavailableError],
])('%s maps to %p', (err, cls) => {
  const mapped = toVaultError(err, ctx());
  expect(mapped).toBeInstanceOf(cls);
  expect(mapped.message.startsWith('SecretSource/ns/src: Vault read of "app/db"')).toBe(true);
  expect(mapped.message).not.toContain('hvs.');
});

test('any 4xx at login is an auth failure (bad role, no such mount)', () => {
  expect(toVaultError(apiError(400, 'invalid role or secret ID'), ctx('login'))).toBeInstanceOf(SourceAuthError);
  expect(toVaultError(apiError(404, 'no handler for route'), ctx('login'))).toBeInstanceOf(SourceAuthError);
});

test('typed errors pass through unchanged', () => {
  const e = new KeyNotFoundError('x');
  expect(toVaultError(e, ctx())).toBe(e);
});

test('detail is sanitised and known credentials are cut out', () => {
  const err = apiError(400, 'bad jwt eyJhbGciOiJSUzI1NiJ9.payload.sig token=hvs.abcdefghijklmnopqrstu request_id=1234-5678');
  const mapped = toVaultError(err, { ...ctx('login'), secrets: ['eyJhbGciOiJSUzI1NiJ9.payload.sig'] });
  expect(mapped.message).not.toContain('eyJhbGci');
  expect(mapped.message).not.toContain('hvs.abcdefghijklmnopqrstu');
  expect(mapped.message).not.toContain('1234-5678');
});

// Before: "failed (HTTP 307): Status 307", which said nothing of what to fix (found by the
// bad-input corpus, hostile-redirect).
test.each([301, 302, 307, 308])('a redirect (HTTP %i) says the operator does not follow it and what to set instead', (status) => {
  const mapped = toVaultError(apiError(status, `Status ${status}`), ctx());
  expect(mapped).toBeInstanceOf(SourceUnavailableError);
  expect(mapped.message).toBe(
    `SecretSource/ns/src: Vault read of "app/db" failed: Vault at vault:8200 answered with a redirect (HTTP ${status}), which the operator does not follow so that its token goes to no other host: set the source's address to the one Vault advertises (its api_addr), not a standby or a proxy that redirects`,
  );
});
