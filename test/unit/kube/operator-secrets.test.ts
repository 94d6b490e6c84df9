// The provenance mark of the operator's own Secrets (issue 18, item 9): a Secret found by
// the name of the HMAC key or the webhook TLS Secret is used only when it carries the
// labels the operator sets, no owner and the type the operator writes.
import { HMAC_KEY_KIND, WEBHOOK_TLS_KIND, provenanceProblem, untrustedSecretMessage } from '../../../src/kube/operator-secrets.js';

const hmacLabels = { 'app.kubernetes.io/managed-by': 'secretsync', 'app.kubernetes.io/component': 'hmac-key' };
const tlsLabels = { 'app.kubernetes.io/name': 'secretsync', 'app.kubernetes.io/component': 'webhook' };
const owned = [{ kind: 'SecretSync', name: 'squat' }];

test.each([
  ['the HMAC key as the operator creates it', HMAC_KEY_KIND, { type: 'Opaque', metadata: { labels: hmacLabels } }, undefined],
  ['as an older operator created it (labels, type left out)', HMAC_KEY_KIND, { metadata: { labels: hmacLabels } }, undefined],
  ['a hand-made Secret of that name', HMAC_KEY_KIND, { type: 'Opaque', metadata: {} }, /lacks the labels app.kubernetes.io\/managed-by=secretsync, app.kubernetes.io\/component=hmac-key/],
  ['one label only', HMAC_KEY_KIND, { metadata: { labels: { 'app.kubernetes.io/managed-by': 'secretsync' } } }, /lacks the label app.kubernetes.io\/component=hmac-key/],
  ['written by a SecretSync with the labels copied in spec.target.labels', HMAC_KEY_KIND, { metadata: { labels: hmacLabels, ownerReferences: owned } }, /owned by SecretSync squat/],
  ['the webhook TLS Secret as the operator creates it', WEBHOOK_TLS_KIND, { type: 'kubernetes.io/tls', metadata: { labels: tlsLabels } }, undefined],
  ['a TLS Secret someone else made', WEBHOOK_TLS_KIND, { type: 'kubernetes.io/tls', metadata: { labels: {} } }, /lacks the labels/],
  ['the right labels on an Opaque Secret', WEBHOOK_TLS_KIND, { type: 'Opaque', metadata: { labels: tlsLabels } }, /type is Opaque, not kubernetes.io\/tls/],
] as const)('%s', (_, kind, secret, want) => {
  const p = provenanceProblem(secret, kind);
  if (want === undefined) expect(p).toBeUndefined();
  else expect(p).toMatch(want);
});

test('owned by the operator\'s own Deployment (--owner-deployment) is its mark too; by another Deployment, or without the flag, it is not', () => {
  const byDeployment = (name: string) => ({ type: 'Opaque', metadata: { labels: hmacLabels, ownerReferences: [{ kind: 'Deployment', name }] } });
  expect(provenanceProblem(byDeployment('secretsync'), HMAC_KEY_KIND, 'secretsync')).toBeUndefined();
  expect(provenanceProblem(byDeployment('other'), HMAC_KEY_KIND, 'secretsync')).toMatch(/owned by Deployment other \(the operator's own Secrets have no owner but its Deployment secretsync\)/);
  expect(provenanceProblem(byDeployment('secretsync'), HMAC_KEY_KIND)).toMatch(/owned by Deployment secretsync/);
  expect(provenanceProblem({ metadata: { labels: hmacLabels, ownerReferences: owned } }, HMAC_KEY_KIND, 'secretsync')).toMatch(/owned by SecretSync squat/);
});

test('the refusal says what the Secret is taken for, that it is not used, and both ways out', () => {
  const m = untrustedSecretMessage('secretsync-system', 'secretsync-hmac-key', HMAC_KEY_KIND, 'it lacks the label x=y the operator sets');
  expect(m).toContain('Secret secretsync-system/secretsync-hmac-key is named like the root key of the HMACs in status');
  expect(m).toContain('The operator does not use it');
  expect(m).toContain('kubectl -n secretsync-system delete secret secretsync-hmac-key');
  expect(m).toContain('app.kubernetes.io/component=hmac-key');
});
