// The only file that imports node-vault. It exposes just the two calls the provider uses
// (read, write) with the token passed per request, so a client never holds a token of
// its own and one client serves login, reads, renewal and revocation alike.
// node-vault falls back to VAULT_ADDR / VAULT_TOKEN / VAULT_NAMESPACE / VAULT_SKIP_VERIFY
// from the environment and logs request bodies through `debug`; every one of those is
// pinned here so only the SecretSource decides where we connect and what we send.
import nodeVault from 'node-vault';

export interface VaultHttp {
  /** GET /v1/<path>; resolves to the JSON body, rejects with node-vault / axios errors. */
  read(path: string, token: string): Promise<unknown>;
  /** POST /v1/<path> with a JSON body; `token` may be omitted (login). */
  write(path: string, body: Record<string, unknown>, token?: string): Promise<unknown>;
}

export interface VaultHttpOptions {
  address: string;
  /** Vault Enterprise / OpenBao namespace, sent as X-Vault-Namespace. */
  namespace?: string;
  /** PEM bundle to trust for https addresses (default: the system CAs). */
  caBundle?: string;
  /** Per-request timeout. */
  timeoutMs: number;
}

const noop = () => undefined;

export function createVaultHttp(opts: VaultHttpOptions): VaultHttp {
  const client = nodeVault({
    apiVersion: 'v1',
    endpoint: opts.address,
    debug: noop,
    requestOptions: {
      timeout: opts.timeoutMs,
      strictSSL: true,
      ...(opts.caBundle ? { ca: opts.caBundle } : {}),
    },
  });
  // Undo node-vault's environment fallbacks (it reads them when an option is empty).
  Object.assign(client as unknown as Record<string, unknown>, {
    token: '',
    namespace: opts.namespace ?? '',
    pathPrefix: '',
  });
  // A fresh headers object per request: node-vault mutates the one it is given.
  const headers = (token?: string) => (token ? { 'X-Vault-Token': token } : {});
  return {
    read: (path, token) => client.read(path, { headers: headers(token) }) as Promise<unknown>,
    write: (path, body, token) => client.write(path, body, { headers: headers(token) }) as Promise<unknown>,
  };
}
