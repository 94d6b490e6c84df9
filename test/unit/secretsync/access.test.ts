import type { ClusterSecretSource } from '../../../src/api/types.js';
import { admitsNamespace } from '../../../src/secretsync/access.js';

const css = (spec: Partial<ClusterSecretSource['spec']>): ClusterSecretSource => ({
  apiVersion: 'secretsync.io/v1alpha1',
  kind: 'ClusterSecretSource',
  metadata: { name: 'c' },
  spec: { vault: { address: 'http://v', auth: { token: { secretRef: { name: 't', key: 'k' } } } }, ...spec },
});

test('no allow rule admits no namespace', () => {
  expect(admitsNamespace(css({}), 'payments', { team: 'payments' })).toBe(false);
  expect(admitsNamespace(css({ namespaceSelector: {} }), 'payments', {})).toBe(false);
});

test('allowedNamespaces and namespaceSelector each admit', () => {
  expect(admitsNamespace(css({ allowedNamespaces: ['payments'] }), 'payments', {})).toBe(true);
  expect(admitsNamespace(css({ allowedNamespaces: ['payments'] }), 'web', {})).toBe(false);
  const sel = css({ namespaceSelector: { matchLabels: { team: 'payments' }, matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] } });
  expect(admitsNamespace(sel, 'a', { team: 'payments', env: 'prod' })).toBe(true);
  expect(admitsNamespace(sel, 'a', { team: 'payments', env: 'dev' })).toBe(false);
  expect(admitsNamespace(sel, 'a', { team: 'web' })).toBe(false);
  expect(admitsNamespace(sel, 'a', undefined)).toBe(false);
});

test('Exists and DoesNotExist', () => {
  const s = css({ namespaceSelector: { matchExpressions: [{ key: 'secrets', operator: 'Exists' }, { key: 'frozen', operator: 'DoesNotExist' }] } });
  expect(admitsNamespace(s, 'a', { secrets: '' })).toBe(true);
  expect(admitsNamespace(s, 'a', { secrets: '', frozen: 'x' })).toBe(false);
});
