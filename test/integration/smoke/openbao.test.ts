// OpenBao (bao server -dev) is real and reachable through node-vault: KV v2 and Transit.
import nodeVault from 'node-vault';
import { requireEnv, uniqueName } from '../../helpers/stack.js';

const vault = nodeVault({ apiVersion: 'v1', endpoint: requireEnv('VAULT_ADDR'), token: requireEnv('VAULT_TOKEN') });

test('the server is initialised, unsealed and reports itself as OpenBao', async () => {
  const health = (await vault.health()) as { initialized: boolean; sealed: boolean; version: string };
  expect(health).toMatchObject({ initialized: true, sealed: false });
  expect(health.version).toMatch(/^\d+\.\d+\.\d+/);
});

test('a KV v2 secret is written, versioned and read back', async () => {
  const path = `secret/data/${uniqueName('smoke')}`;
  const first = await vault.write(path, { data: { username: 'app', password: 'v1' } });
  const second = await vault.write(path, { data: { username: 'app', password: 'v2' } });
  expect(second.data.version).toBe(first.data.version + 1);

  const latest = await vault.read(path);
  expect(latest.data.data).toEqual({ username: 'app', password: 'v2' });
  const pinned = await vault.read(`${path}?version=${first.data.version}`);
  expect(pinned.data.data.password).toBe('v1');
});

test('Transit encrypts and decrypts with a named key', async () => {
  const mounts = (await vault.mounts()) as Record<string, unknown>;
  if (!('transit/' in mounts)) await vault.mount({ mount_point: 'transit', type: 'transit' });
  const key = uniqueName('kek');
  await vault.write(`transit/keys/${key}`, {});

  const plaintext = Buffer.from('data key material').toString('base64');
  const enc = await vault.write(`transit/encrypt/${key}`, { plaintext });
  expect(enc.data.ciphertext).toMatch(/^vault:v1:/);
  const dec = await vault.write(`transit/decrypt/${key}`, { ciphertext: enc.data.ciphertext });
  expect(dec.data.plaintext).toBe(plaintext);
});

test('a missing secret is a 404, not an empty answer', async () => {
  await expect(vault.read(`secret/data/${uniqueName('missing')}`)).rejects.toMatchObject({
    response: { statusCode: 404 },
  });
});
