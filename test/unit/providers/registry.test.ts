// Factory selection by provider block and the per-source client cache, with scripted factories.
import type { AnySource, SecretSource } from '../../../src/api/types.js';
import { InvalidSpecError } from '../../../src/errors.js';
import type { ProviderDeps, ProviderFactory, SecretProvider } from '../../../src/providers/provider.js';
import { awsProvider } from '../../../src/providers/aws/index.js';
import { ProviderRegistry } from '../../../src/providers/registry.js';
import { vaultProvider } from '../../../src/providers/vault/index.js';

interface Made {
  provider: SecretProvider;
  closed: number;
}

function fakeFactory(name: string, alignRefreshes = false): ProviderFactory & { made: Made[]; validated: number } {
  const made: Made[] = [];
  const f = {
    name,
    alignRefreshes,
    made,
    validated: 0,
    validate(source: AnySource) {
      f.validated++;
      if ((source.metadata.annotations ?? {}).invalid) throw new InvalidSpecError('invalid');
    },
    create(): SecretProvider {
      const m: Made = {
        closed: 0,
        provider: {
          getSecret: async () => ({ value: Buffer.alloc(0), version: '1' }),
          getSecretMap: async () => ({ values: {}, version: '1' }),
          close: async () => {
            m.closed++;
          },
        },
      };
      made.push(m);
      return m.provider;
    },
  };
  return f;
}

function src(spec: Record<string, unknown>, meta: Partial<SecretSource['metadata']> = {}): AnySource {
  return {
    apiVersion: 'secretsync.io/v1alpha1',
    kind: 'SecretSource',
    metadata: { name: 's', namespace: 'ns', uid: 'u1', generation: 1, ...meta },
    spec: spec as SecretSource['spec'],
  };
}

const deps = {} as ProviderDeps;
const vaultBlock = { vault: { address: 'http://v', auth: {} } };

test('picks the factory by the one provider block the spec sets', () => {
  const vault = fakeFactory('vault');
  const aws = fakeFactory('aws');
  const r = new ProviderRegistry().register(vault).register(aws);
  expect(r.factoryFor(src(vaultBlock))).toBe(vault);
  expect(r.factoryFor(src({ aws: {}, allowedNamespaces: ['a'] }))).toBe(aws);
  expect(r.names()).toEqual(['vault', 'aws']);
});

test('none, several or an unknown provider block is InvalidSpec', () => {
  const r = new ProviderRegistry().register(fakeFactory('vault')).register(fakeFactory('aws'));
  expect(() => r.factoryFor(src({}))).toThrow(/sets no provider block: set exactly one of vault, aws/);
  expect(() => r.factoryFor(src({ vault: {}, aws: {} }))).toThrow(/spec.vault and spec.aws/);
  expect(() => r.factoryFor(src({ gcp: {} }))).toThrow(InvalidSpecError);
  expect(() => r.factoryFor(src({ vault: null }))).toThrow(InvalidSpecError);
});

test('alignment of refreshes is the property of the source\'s provider; an unusable source aligns nothing', () => {
  const r = new ProviderRegistry().register(fakeFactory('vault', false)).register(fakeFactory('aws', true));
  expect(r.alignsRefreshes(src(vaultBlock))).toBe(false);
  expect(r.alignsRefreshes(src({ aws: { region: 'eu-west-1' } }))).toBe(true);
  expect(r.alignsRefreshes(src({}))).toBe(false);
  expect(r.alignsRefreshes(src({ vault: {}, aws: {} }))).toBe(false);
  expect(r.alignsRefreshes(src({ gcp: {} }))).toBe(false);
});

test('the real factories: AWS batches and aligns, Vault spreads', () => {
  const r = new ProviderRegistry().register(vaultProvider).register(awsProvider);
  expect(vaultProvider.alignRefreshes).toBe(false);
  expect(awsProvider.alignRefreshes).toBe(true);
  expect(r.alignsRefreshes(src({ aws: { region: 'eu-west-1' } }))).toBe(true);
  expect(r.alignsRefreshes(src({ vault: { address: 'https://vault:8200', auth: { token: { secretRef: { name: 't', key: 'k' } } } } }))).toBe(false);
});

test('registering a name twice is a wiring error', () => {
  const r = new ProviderRegistry().register(fakeFactory('vault'));
  expect(() => r.register(fakeFactory('vault'))).toThrow(/twice/);
});

test('caches one client per source until uid or generation changes, closing the old one', async () => {
  const f = fakeFactory('vault');
  const r = new ProviderRegistry().register(f);
  const a = r.client(src(vaultBlock), deps);
  expect(r.client(src(vaultBlock), deps)).toBe(a);
  expect(f.made).toHaveLength(1);

  const b = r.client(src(vaultBlock, { generation: 2 }), deps);
  expect(b).not.toBe(a);
  const c = r.client(src(vaultBlock, { uid: 'u2', generation: 2 }), deps);
  expect(c).not.toBe(b);
  // other sources have their own entries
  const other = r.client(src(vaultBlock, { name: 'other' }), deps);
  const cluster = r.client({ ...src(vaultBlock), kind: 'ClusterSecretSource', metadata: { name: 's', uid: 'u1', generation: 1 } }, deps);
  expect(new Set([other, cluster, c]).size).toBe(3);
  expect(r.size()).toBe(3);

  await r.closeAll();
  expect(f.made.map((m) => m.closed)).toEqual([1, 1, 1, 1, 1]);
  expect(r.size()).toBe(0);
});

test('validates before creating; an invalid new generation retires the old client and caches nothing', async () => {
  const f = fakeFactory('vault');
  const r = new ProviderRegistry().register(f);
  r.client(src(vaultBlock), deps);
  expect(() => r.client(src(vaultBlock, { generation: 2, annotations: { invalid: 'y' } }), deps)).toThrow(InvalidSpecError);
  expect(r.size()).toBe(0);
  await r.closeAll();
  expect(f.made[0]?.closed).toBe(1);
});

test('evict closes and forgets one source', async () => {
  const f = fakeFactory('vault');
  const r = new ProviderRegistry().register(f);
  const s = src(vaultBlock);
  r.client(s, deps);
  await r.evict(s);
  await r.evict(s);
  expect(f.made[0]?.closed).toBe(1);
  expect(r.client(s, deps)).not.toBe(f.made[0]?.provider);
});
