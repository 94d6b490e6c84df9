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
