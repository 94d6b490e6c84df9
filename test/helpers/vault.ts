// OpenBao fixtures for integration tests (root token from the stack's environment).
import nodeVault from 'node-vault';
import { requireEnv } from './stack.js';

export function vaultRoot() {
  return nodeVault({ apiVersion: 'v1', endpoint: requireEnv('VAULT_ADDR'), token: requireEnv('VAULT_TOKEN') });
}

export async function kvPut(path: string, data: Record<string, unknown>, mount = 'secret'): Promise<number> {
  const r = await vaultRoot().write(`${mount}/data/${path}`, { data });
  return r.data.version as number;
}

/**
 * A Transit mount `transit` with key `secretsync`, and a token for the operator with the policy
 * docs/envelope.md gives it: read KV under secret/data/<kvPrefix>/, mint and re-wrap data
 * keys, read the key's version; no decrypt.
 */
export async function transitOperatorToken(transit: string, kvPrefix: string, ttl = '2h'): Promise<string> {
  const root = vaultRoot();
  await root.write(`sys/mounts/${transit}`, { type: 'transit' });
  await root.write(`${transit}/keys/secretsync`, { type: 'aes256-gcm96' });
  await root.write(`sys/policy/${kvPrefix}-operator`, {
    policy: [
      `path "secret/data/${kvPrefix}/*" { capabilities = ["read"] }`,
      `path "${transit}/datakey/plaintext/secretsync" { capabilities = ["update"] }`,
      `path "${transit}/rewrap/secretsync" { capabilities = ["update"] }`,
      `path "${transit}/keys/secretsync" { capabilities = ["read"] }`,
    ].join('\n'),
  });
  const created = (await root.write('auth/token/create', { policies: [`${kvPrefix}-operator`], ttl })) as { auth: { client_token: string } };
  return created.auth.client_token;
}
