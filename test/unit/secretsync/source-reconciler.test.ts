// Source status after an upgrade: an aws source without auth (stored before auth was
// required) is Ready=False IdentityNotAllowed with what to write instead, never Ready.
// Then the SourceReconciler itself, on fake ports: the status it writes, and when it writes.
import type { AnySource, AwsProviderSpec } from '../../../src/api/types.js';
import { createAwsProviderFactory } from '../../../src/providers/aws/index.js';
import { ProviderRegistry } from '../../../src/providers/registry.js';
import { sourceKey } from '../../../src/api/source-ref.js';
import { InvalidSpecError } from '../../../src/errors.js';
import { SourceReconciler, sourceNeedsReconcile, sourceStatus } from '../../../src/secretsync/source-reconciler.js';

const registry = new ProviderRegistry().register(createAwsProviderFactory());
const NOW = new Date('2026-01-01T00:00:00Z');

function source(kind: AnySource['kind'], aws: AwsProviderSpec): AnySource {
  const metadata = { name: 'aws', generation: 3, ...(kind === 'SecretSource' ? { namespace: 'tenant' } : {}) };
  return { apiVersion: 'secretsync.io/v1alpha1', kind, metadata, spec: { aws } } as AnySource;
}
const ready = (s: AnySource) => sourceStatus(s, registry, 'secretsync-system', NOW).conditions?.find((c) => c.type === 'Ready');

test.each([
  ['SecretSource', {}, 'False', 'IdentityNotAllowed', /auth.secretRef: .* or auth.webIdentity/],
  ['SecretSource', { roleArn: 'arn:aws:iam::123456789012:role/any' }, 'False', 'IdentityNotAllowed', /never served with the operator's own AWS identity/],
  ['SecretSource', { auth: { operatorIdentity: {} } }, 'False', 'IdentityNotAllowed', /for ClusterSecretSources only/],
  ['ClusterSecretSource', {}, 'False', 'IdentityNotAllowed', /write auth.operatorIdentity: \{\} to keep using the operator's own AWS identity/],
  ['ClusterSecretSource', { auth: { operatorIdentity: {} } }, 'True', 'Valid', /spec is valid/],
  ['SecretSource', { auth: { webIdentity: { serviceAccountRef: { name: 'app' } } }, roleArn: 'arn:aws:iam::123456789012:role/app' }, 'True', 'Valid', /spec is valid/],
] as [AnySource['kind'], Partial<AwsProviderSpec>, string, string, RegExp][])('%s %j: Ready=%s %s', (kind, aws, status, reason, message) => {
  const c = ready(source(kind, { region: 'eu-west-1', ...aws }));
  expect(c).toMatchObject({ status, reason, observedGeneration: 3 });
  expect(c?.message).toMatch(message);
});

describe('SourceReconciler', () => {
  const T0 = new Date('2026-01-01T00:00:00Z');
  const vault = (kind: AnySource['kind'], generation = 1, status?: AnySource['status']): AnySource =>
    ({
      apiVersion: 'secretsync.io/v1alpha1',
      kind,
      metadata: { name: 'vault', generation, ...(kind === 'SecretSource' ? { namespace: 'tenant' } : {}) },
      spec: { vault: { address: 'https://vault:8200' } },
      ...(status ? { status } : {}),
    }) as AnySource;

  function setup(sources: AnySource[], problem?: string) {
    const patches: { name: string; status: AnySource['status'] }[] = [];
    const validated: string[] = [];
    let now = T0;
    const reconciler = new SourceReconciler(
      {
        getSource: (ref) => sources.find((s) => s.kind === ref.kind && (s.metadata.namespace ?? '') === ref.namespace && s.metadata.name === ref.name),
        patchSourceStatus: async (src, status) => {
          patches.push({ name: sourceKey(src), status });
          // The cache sees our write, as the informer would.
          const i = sources.indexOf(src);
          sources[i] = { ...src, status } as AnySource;
        },
      },
      {
        validate: (src, secretNamespace) => {
          validated.push(`${sourceKey(src)} in ${secretNamespace}`);
          if (problem) throw new InvalidSpecError(problem);
        },
      },
      'secretsync-system',
      () => now,
    );
    return { reconciler, patches, validated, sources, later: (ms: number) => (now = new Date(now.getTime() + ms)) };
  }

  test('a valid source gets Ready=True once; reconciling again writes nothing', async () => {
    const t = setup([vault('SecretSource', 4)]);
    expect(await t.reconciler.reconcile('SecretSource/tenant/vault')).toEqual({});
    expect(t.validated).toEqual(['SecretSource/tenant/vault in tenant']);
    expect(t.patches).toHaveLength(1);
    expect(t.patches[0]?.status).toEqual({
      observedGeneration: 4,
      conditions: [{ type: 'Ready', status: 'True', reason: 'Valid', message: 'spec is valid; credentials are used when a SecretSync reads', observedGeneration: 4, lastTransitionTime: T0.toISOString() }],
    });
    t.later(60_000);
    await t.reconciler.reconcile('SecretSource/tenant/vault');
    expect(t.patches).toHaveLength(1); // same status: no write, lastTransitionTime kept
  });

  test('an invalid source gets Ready=False with the reason and message; a ClusterSecretSource is checked for the operator namespace', async () => {
    const t = setup([vault('ClusterSecretSource', 2)], 'spec.vault.address must be https');
    await t.reconciler.reconcile('ClusterSecretSource/vault');
    expect(t.validated).toEqual(['ClusterSecretSource/vault in secretsync-system']);
    expect(t.patches[0]?.status?.conditions).toEqual([
      { type: 'Ready', status: 'False', reason: 'InvalidSpec', message: 'spec.vault.address must be https', observedGeneration: 2, lastTransitionTime: T0.toISOString() },
    ]);
  });

  test('a new generation is written even when the verdict is the same', async () => {
    const t = setup([vault('SecretSource', 1)]);
    await t.reconciler.reconcile('SecretSource/tenant/vault');
    const [src] = t.sources;
    t.sources[0] = { ...(src as AnySource), metadata: { ...(src as AnySource).metadata, generation: 2 } } as AnySource;
    t.later(1000);
    await t.reconciler.reconcile('SecretSource/tenant/vault');
    expect(t.patches.map((p) => p.status?.observedGeneration)).toEqual([1, 2]);
    expect(t.patches[1]?.status?.conditions?.[0]?.lastTransitionTime).toBe(T0.toISOString()); // still True since T0
  });

  test('a source gone from the cache, or a key that names none, is a no-op', async () => {
    const t = setup([vault('SecretSource')]);
    for (const key of ['SecretSource/other/vault', 'ClusterSecretSource/vault', 'tenant/vault', 'SecretSource/tenant', '']) {
      expect(await t.reconciler.reconcile(key)).toEqual({});
    }
    expect(t.validated).toEqual([]);
    expect(t.patches).toEqual([]);
  });
});

test('sources are reconciled when new, and on an update only when the spec changed (generation)', () => {
  const a = { apiVersion: 'secretsync.io/v1alpha1', kind: 'SecretSource', metadata: { name: 's', namespace: 'n', generation: 1 }, spec: {} } as AnySource;
  expect(sourceNeedsReconcile(a, { ...a, status: { observedGeneration: 1 } })).toBe(false);
  expect(sourceNeedsReconcile(a, { ...a, metadata: { ...a.metadata, labels: { x: 'y' } } })).toBe(false);
  expect(sourceNeedsReconcile(a, { ...a, metadata: { ...a.metadata, generation: 2 } })).toBe(true);
});
