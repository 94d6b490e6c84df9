// Secret and service-account references resolve only in the source namespace.
import { ForbiddenError, InvalidSpecError } from '../../../src/errors.js';
import { resolveSecretRef, resolveServiceAccountRef } from '../../../src/providers/secret-ref.js';

test('a reference without namespace, or naming the source namespace, resolves there', () => {
  expect(resolveSecretRef({ name: 'vault', key: 'token' }, 'payments')).toEqual({ namespace: 'payments', name: 'vault', key: 'token' });
  expect(resolveSecretRef({ name: 'vault', key: 'token', namespace: 'payments' }, 'payments')).toEqual({
    namespace: 'payments',
    name: 'vault',
    key: 'token',
  });
  expect(resolveSecretRef({ name: 'vault', key: 'token', namespace: '' }, 'payments').namespace).toBe('payments');
});

test('another namespace is Forbidden, and the message says which namespace to use', () => {
  const run = () => resolveSecretRef({ name: 'vault', key: 'token', namespace: 'kube-system' }, 'payments');
  expect(run).toThrow(ForbiddenError);
  expect(run).toThrow(/only in namespace "payments"/);
  expect(run).toThrow(/set it to "payments"/);
  try {
    run();
  } catch (err) {
    expect((err as ForbiddenError).retryable).toBe(false);
    expect((err as ForbiddenError).code).toBe('ESS_FORBIDDEN');
  }
});

test('missing name or key is InvalidSpec', () => {
  expect(() => resolveSecretRef({ name: '', key: 'k' }, 'ns')).toThrow(InvalidSpecError);
  expect(() => resolveSecretRef({ name: 'n', key: '' }, 'ns')).toThrow(InvalidSpecError);
});

test('service account references follow the same rule', () => {
  expect(resolveServiceAccountRef({ name: 'secretsync' }, 'ops')).toEqual({ namespace: 'ops', name: 'secretsync' });
  expect(() => resolveServiceAccountRef({ name: 'secretsync', namespace: 'default' }, 'ops')).toThrow(ForbiddenError);
  expect(() => resolveServiceAccountRef({ name: '' }, 'ops')).toThrow(InvalidSpecError);
});
