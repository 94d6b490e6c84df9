// The MutatingWebhookConfiguration as data, and the compare that keeps writes to changes.
import { configMatches, desiredConfig, register, subsetEqual, type MutatingWebhookConfiguration, type RegistrationOptions } from '../../../src/webhook/registration.js';

const base: RegistrationOptions = { name: 'secretsync', operatorNamespace: 'ops', failurePolicy: 'Fail', timeoutSeconds: 10, target: { url: 'https://127.0.0.1:9443/mutate' } };
const ca = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';

test('one webhook: labelled pod creations, not in the operator namespace nor kube-system', () => {
  const c = desiredConfig(base, ca);
  expect(c.metadata.name).toBe('secretsync');
  expect(c.webhooks).toEqual([
    {
      name: 'inject.secretsync.io',
      clientConfig: { url: 'https://127.0.0.1:9443/mutate', caBundle: Buffer.from(ca).toString('base64') },
      rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }],
      objectSelector: { matchLabels: { 'secretsync.io/inject': 'true' } },
      namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['ops', 'kube-system'] }] },
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
      reinvocationPolicy: 'IfNeeded',
      failurePolicy: 'Fail',
      timeoutSeconds: 10,
    },
  ]);
});

test('inside a cluster: the Service, with path /mutate', () => {
  const c = desiredConfig({ ...base, failurePolicy: 'Ignore', target: { service: { namespace: 'ops', name: 'secretsync-webhook', port: 443 } } }, ca);
  expect(c.webhooks?.[0]).toMatchObject({
    clientConfig: { service: { namespace: 'ops', name: 'secretsync-webhook', port: 443, path: '/mutate' } },
    failurePolicy: 'Ignore',
  });
  expect((c.webhooks?.[0]?.clientConfig as { url?: string }).url).toBeUndefined();
});

test('an operator watching one namespace (--namespace) is sent that namespace\'s pods only', () => {
  const c = desiredConfig({ ...base, watchNamespace: 'demo' }, ca);
  expect(c.webhooks?.[0]?.namespaceSelector).toEqual({
    matchExpressions: [
      { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['ops', 'kube-system'] },
      { key: 'kubernetes.io/metadata.name', operator: 'In', values: ['demo'] },
    ],
  });
});

test('timeoutSeconds is bounded as the API server bounds it', () => {
  expect(() => desiredConfig({ ...base, timeoutSeconds: 0 }, ca)).toThrow(RangeError);
  expect(() => desiredConfig({ ...base, timeoutSeconds: 31 }, ca)).toThrow(RangeError);
});

test('the compare ignores server defaults and sees every field we set', () => {
  const want = desiredConfig(base, ca);
  const wh = want.webhooks?.[0] as Record<string, unknown>;
  // What the API server returns: our fields plus defaults.
  const got: MutatingWebhookConfiguration = {
    ...want,
    metadata: { ...want.metadata, resourceVersion: '5' },
    webhooks: [{ ...wh, matchPolicy: 'Equivalent', rules: [{ ...(wh.rules as object[])[0] }] }],
  };
  expect(configMatches(want, got)).toBe(true);
  expect(configMatches(want, undefined)).toBe(false);
  expect(configMatches(desiredConfig(base, ca + ca), got)).toBe(false);
  expect(configMatches(desiredConfig({ ...base, failurePolicy: 'Ignore' }, ca), got)).toBe(false);
  expect(configMatches(desiredConfig({ ...base, target: { service: { namespace: 'ops', name: 's', port: 443 } } }, ca), got)).toBe(false);
  expect(configMatches(want, { ...got, webhooks: [...(got.webhooks ?? []), { name: 'other' }] })).toBe(false);
  expect(subsetEqual({ a: [1, 2] }, { a: [1, 2, 3] })).toBe(false);
});

test('register writes only when the configuration differs', async () => {
  let stored: MutatingWebhookConfiguration | undefined;
  let applies = 0;
  const port = { get: async () => stored, apply: async (c: MutatingWebhookConfiguration) => void ((stored = c), applies++) };
  expect(await register(port, base, ca)).toBe(true);
  expect(await register(port, base, ca)).toBe(false);
  expect(await register(port, base, ca + ca)).toBe(true);
  expect(applies).toBe(2);
});
