// dataFrom find on Vault with a scripted VaultHttp (OpenBao itself is in
// test/integration/operator/find.test.ts): the folders listed, a plain 404 as an empty
// folder and a 404 with a reason as a failure, a policy without list naming the line to
// add, and tags refused.
import { InvalidSpecError, SourceAuthError, SourceNotFoundError } from '../../../../src/errors.js';
import type { Authenticator } from '../../../../src/providers/vault/auth.js';
import type { VaultHttp } from '../../../../src/providers/vault/client.js';
import { VaultProvider } from '../../../../src/providers/vault/provider.js';

const status = (code: number, errors: string[] = []) => Object.assign(new Error(`Status ${code}`), { response: { statusCode: code, body: { errors } } });

function setup(tree: Record<string, string[] | Error>) {
  const listed: string[] = [];
  const auth: Authenticator = {
    method: 'token',
    identity: 'the token of spec.vault.auth.token',
    login: async () => ({ token: 'tok', ttlSeconds: 600, renewable: false, owned: false }),
  };
  const http: VaultHttp = {
    read: async (path) => {
      if (path === 'auth/token/lookup-self') return { data: { policies: ['default'] } };
      listed.push(path);
      const folder = path.replace(/^secret\/metadata\/?/, '').replace(/\/?\?list=true$/, '');
      const keys = tree[folder];
      if (keys instanceof Error) throw keys;
      if (!keys) throw status(404);
      return { data: { keys } };
    },
    write: async () => ({}),
  };
  const provider = new VaultProvider({ source: 'SecretSource/apps/vault', host: 'vault:8200', kv: { mount: 'secret', version: 2 }, http, auth });
  return { provider, listed };
}

test('lists each folder under find.path once, recursively; an absent folder is empty', async () => {
  const { provider, listed } = setup({ 'app': ['db', 'nested/', 'gone/'], 'app/nested': ['cache'] });
  expect((await provider.listSecrets({ path: 'app' }, { maxListed: 100 })).sort()).toEqual(['app/db', 'app/nested/cache']);
  expect(listed).toEqual(['secret/metadata/app/?list=true', 'secret/metadata/app/nested/?list=true', 'secret/metadata/app/gone/?list=true']);
  expect(await provider.listSecrets({ path: 'none' }, { maxListed: 100 })).toEqual([]);
  await provider.close();
});

test('a 404 with a reason (no mount there) is a failure, not an empty folder', async () => {
  const { provider } = setup({ app: status(404, ['no handler for route "secret/metadata/app"']) });
  await expect(provider.listSecrets({ path: 'app' }, { maxListed: 100 })).rejects.toThrow(SourceNotFoundError);
  await provider.close();
});

test('a policy without list: the policy line to add', async () => {
  const { provider } = setup({ app: status(403, ['permission denied']) });
  const err = await provider.listSecrets({ path: 'app' }, { maxListed: 100 }).catch((e: Error) => e);
  expect(err).toBeInstanceOf(SourceAuthError);
  expect((err as Error).message).toContain('path "secret/metadata/app/*" { capabilities = ["list"] }');
  await provider.close();
});

test('tags are refused', async () => {
  const { provider } = setup({});
  await expect(provider.listSecrets({ tags: { a: 'b' } }, { maxListed: 10 })).rejects.toThrow(InvalidSpecError);
  await provider.close();
});
