// Tokens the operator mints never carry an audience of the API server: the learned ones,
// the well-known in-cluster forms (whatever their case or trailing slash), and how the
// learned ones are read from a token's `aud` claim.
import { IdentityNotAllowedError } from '../../../src/errors.js';
import { checkTokenAudiences, jwtAudiences } from '../../../src/providers/audiences.js';
import { serviceAccountOf } from '../../../src/kube/api-audiences.js';

const LEARNED = ['https://oidc.eks.eu-west-1.amazonaws.com/id/ABC', 'https://my-cluster.example'];

test.each([
  [['vault'], 'ok'],
  [['vault', 'https://vault.example:8200'], 'ok'],
  [[], 'ok'],
  [['https://oidc.eks.eu-west-1.amazonaws.com/id/ABC'], 'refused'],
  [['vault', 'https://my-cluster.example/'], 'refused'],
  [['https://kubernetes.default.svc'], 'refused'],
  [['https://kubernetes.default.svc.cluster.local'], 'refused'],
  [['HTTPS://Kubernetes.Default.Svc/'], 'refused'],
  [['kubernetes'], 'refused'],
  [[' kubernetes '], 'refused'],
  [['kubernetes.default.svc'], 'refused'],
  [['https://kubernetes.default.svc.cluster'], 'ok'],
])('%j: %s', (audiences, outcome) => {
  const run = () => checkTokenAudiences(audiences, LEARNED, 'spec.vault.auth.kubernetes.audiences');
  if (outcome === 'ok') return expect(run).not.toThrow();
  expect(run).toThrow(IdentityNotAllowedError);
  expect(run).toThrow(/^spec.vault.auth.kubernetes.audiences asks for ".*", an audience of the API server itself: .* leave audiences unset for the default "vault"/);
});

test('the well-known forms are refused before anything is learned', () => {
  expect(() => checkTokenAudiences(['https://kubernetes.default.svc'], [], 'f')).toThrow(IdentityNotAllowedError);
});

const jwt = (claims: object) => `h.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

test('the aud claim of a token, a string or a list', () => {
  expect(jwtAudiences(jwt({ aud: ['https://kubernetes.default.svc.cluster.local', 'k3s'] }))).toEqual(['https://kubernetes.default.svc.cluster.local', 'k3s']);
  expect(jwtAudiences(jwt({ aud: 'api' }))).toEqual(['api']);
  expect(jwtAudiences(jwt({ sub: 'x' }))).toEqual([]);
  expect(() => jwtAudiences('opaque')).toThrow(/not a JWT/);
});

test.each([
  ['system:serviceaccount:secretsync-system:secretsync', { namespace: 'secretsync-system', name: 'secretsync' }],
  ['system:serviceaccount:ns', undefined],
  ['system:serviceaccount:a:b:c', undefined],
  ['kubernetes-admin', undefined],
  [undefined, undefined],
])('serviceAccountOf(%j)', (username, expected) => {
  expect(serviceAccountOf(username)).toEqual(expected);
});
