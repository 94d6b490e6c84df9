// The one-line refusals the agent prints for what the API server, Vault and KMS answer:
// who may not read what and where to add them, which policy line is missing, which
// ciphertext does not open. Built from the errors the kube client and the KEK adapters
// actually produce.
import { forbiddenSubject, readFailure } from '../../../src/agent/deliver.js';
import { AgentCode } from '../../../src/agent/errors.js';
import { kmsFailure, transitFailure } from '../../../src/agent/kek-errors.js';
import { serviceAccountOf } from '../../../src/agent/vault-login.js';
import { InvalidValueError, SourceAuthError, SourceNotFoundError, SourceUnavailableError } from '../../../src/errors.js';
import { KubeReadError } from '../../../src/kube/agent-kube.js';
import { syncReadFailure } from '../../../src/agent/deliver.js';

const req = { namespace: 'payments', sync: 'db', syncUid: 'uid-1', secret: 'db-target' };

describe('reading the SecretSync (its uid, issue 18 item 9)', () => {
  test.each([
    [403, AgentCode.SecretForbidden, 'may not read SecretSync payments/db (the agent checks its uid', false],
    [404, AgentCode.NotControlled, 'SecretSync payments/db does not exist: nothing is delivered without it', false],
    [401, AgentCode.Config, 'did not accept the agent\'s credentials', false],
    [503, AgentCode.KubeUnavailable, 'will retry', true],
  ])('HTTP %p is %s', (status, code, text, retryable) => {
    const err = syncReadFailure(new KubeReadError(status, `HTTP ${status}`), 'payments', 'db');
    expect([err.code, err.retryable]).toEqual([code, retryable]);
    expect(err.message).toContain(text);
  });
});

describe('reading the Secret', () => {
  test('403 names the service account and the SecretSync field to add it to', () => {
    const msg =
      'HTTP 403: secrets "db-target" is forbidden: User "system:serviceaccount:payments:api" cannot get resource "secrets" in API group "" in the namespace "payments"';
    const err = readFailure(new KubeReadError(403, msg), req);
    expect(err.code).toBe(AgentCode.SecretForbidden);
    expect(err.message).toBe(
      'service account payments/api may not read Secret db-target in namespace payments: add it to spec.access.serviceAccounts of SecretSync db',
    );
    expect(err.retryable).toBe(false);
  });

  test('a user that is not a service account is named as such', () => {
    expect(forbiddenSubject('User "alice" cannot get resource')).toBe('user "alice"');
    expect(forbiddenSubject('no user here')).toBeUndefined();
  });

  test.each([
    [404, AgentCode.SecretNotFound, 'Secret payments/db-target does not exist', false],
    [401, AgentCode.Config, 'did not accept the agent\'s credentials', false],
    [503, AgentCode.KubeUnavailable, 'will retry', true],
    [undefined, AgentCode.KubeUnavailable, 'will retry', true],
  ])('HTTP %p is %s', (status, code, text, retryable) => {
    const err = readFailure(new KubeReadError(status, `HTTP ${status}`), req);
    expect([err.code, err.retryable]).toEqual([code, retryable]);
    expect(err.message).toContain(text);
  });
});

describe('Vault', () => {
  const ctx = { path: 'transit/decrypt/kek', identity: 'Kubernetes auth role "app" at auth/kubernetes', version: 3 };

  test('a 403 on decrypt gives the policy line to add', () => {
    const err = transitFailure(new SourceAuthError('Vault Transit ... was refused (HTTP 403)'), { ...ctx, status: 403 });
    expect(err.code).toBe(AgentCode.VaultDenied);
    expect(err.message).toContain('path "transit/decrypt/kek" { capabilities = ["update"] }');
    expect(err.message).toContain('role "app"');
  });

  test('a wrapped key Transit cannot open is an envelope refusal; an outage is retried', () => {
    expect(transitFailure(new InvalidValueError('the wrapped data key does not open'), { ...ctx, status: 400 }).code).toBe(AgentCode.Envelope);
    const down = transitFailure(new SourceUnavailableError('Vault at v:8200 could not be reached'), { ...ctx, status: undefined });
    expect([down.code, down.retryable]).toEqual([AgentCode.VaultUnavailable, true]);
    expect(transitFailure(new SourceNotFoundError('found no such key'), { ...ctx, status: 404 }).code).toBe(AgentCode.VaultDenied);
  });

  test('the service account of a projected token comes from its claims', () => {
    const jwt = ['e30', Buffer.from(JSON.stringify({ sub: 'system:serviceaccount:payments:api' })).toString('base64url'), 'sig'].join('.');
    expect(serviceAccountOf(jwt)).toBe('payments/api');
    expect(serviceAccountOf('not-a-jwt')).toBeUndefined();
  });
});

describe('KMS', () => {
  const ctx = { keyId: 'arn:aws:kms:eu-west-1:1:key/k', region: 'eu-west-1', version: 2, context: { 'secretsync.io/namespace': 'payments', 'secretsync.io/secretsync': 'db' } };

  test('InvalidCiphertextException says the wrapped key was altered or copied, naming the encryption context', () => {
    const err = kmsFailure(new InvalidValueError('AWS KMS Decrypt with key "k" failed (InvalidCiphertextException): ...'), ctx);
    expect(err.code).toBe(AgentCode.KmsInvalidCiphertext);
    expect(err.message).toContain('secretsync.io/namespace=payments, secretsync.io/secretsync=db');
    expect(err.message).toContain('(InvalidCiphertextException)');
  });

  test('AccessDeniedException says the pod identity needs kms:Decrypt', () => {
    const err = kmsFailure(new SourceAuthError('AWS KMS Decrypt with key "k" was denied (AccessDeniedException): allow kms:Decrypt'), ctx);
    expect(err.code).toBe(AgentCode.KmsDenied);
    expect(err.message).toContain("the pod's AWS identity");
    expect(err.message).toContain('kms:Decrypt');
  });

  test('an outage is retried; a raw SDK error is classified by its name', () => {
    expect(kmsFailure(new SourceUnavailableError('AWS KMS could not be reached'), ctx).retryable).toBe(true);
    expect(kmsFailure(Object.assign(new Error('x'), { name: 'InvalidCiphertextException' }), ctx).code).toBe(AgentCode.KmsInvalidCiphertext);
  });
});
