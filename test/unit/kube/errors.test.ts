import { ApiException } from '@kubernetes/client-node';
import { kubeError, sanitizeApiText } from '../../../src/kube/errors.js';

const CANARY = 'canary-"q"\\-ü-4f1c';
const b64 = Buffer.from(`${CANARY}${CANARY}${CANARY}`).toString('base64');

test('quoted values in validation errors are dropped, the reason stays', () => {
  const text = `Secret "db" is invalid: [data[.dockerconfigjson]: Invalid value: "${CANARY.replace(/"/g, '\\"')}": invalid character, metadata.labels: Invalid value: "x y": a valid label must be ...]`;
  const out = sanitizeApiText(text);
  expect(out).not.toContain('canary');
  expect(out).toContain('data[.dockerconfigjson]: Invalid value: <redacted>: invalid character');
  expect(out).toContain('a valid label must be');
});

test('anything shaped like data (long base64) and tokens are cut', () => {
  expect(sanitizeApiText(`json: cannot unmarshal "${b64}" into Go value`)).not.toContain(b64.slice(0, 20));
  expect(sanitizeApiText('login failed: token=s.AAAAAAAAAAAAAAAAAAAAAAAA')).not.toContain('AAAAAAAAAAAA');
});

test('an API error becomes a KubernetesError with the Status message only, cleaned', () => {
  const body = JSON.stringify({ kind: 'Status', message: `Secret "db" is invalid: data[x]: Invalid value: "${b64}": bad` });
  const err = kubeError('updating Secret ns/db', new ApiException(422, 'Unprocessable Entity', body, {}));
  expect(err.message).toMatch(/^Kubernetes API: updating Secret ns\/db failed: HTTP 422: Secret "db" is invalid: data\[x\]: Invalid value: <redacted>: bad$/);
  expect(err.message).not.toContain(b64.slice(0, 20));
});
