// examples/ against the real API server and the CRD schema: every object (placeholders
// filled in as hack/demo.sh does) passes `kubectl apply --dry-run=server`. The injected
// Pod is left out: a dry run still calls admission webhooks, and this stack may hold a
// registration nobody answers; its shape is the webhook tests' business.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createNamespace, deleteNamespace, installCrds, kube } from '../../helpers/kube.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';
import { repoRoot } from '../../testenv/config.js';

const { kc, core } = kube();
const ns = uniqueName('examples');
const dir = join(repoRoot, 'examples');

beforeAll(async () => {
  await installCrds(kc);
  await createNamespace(core, ns);
});
afterAll(() => deleteNamespace(core, ns));

test('every example but the injected pod passes a server-side dry run (CRD schema and CEL included)', async () => {
  const yaml = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && f !== '00-namespace.yaml' && f !== '30-pod-injected.yaml')
    .sort()
    .map((f) =>
      readFileSync(join(dir, f), 'utf8')
        .replaceAll('${VAULT_ADDR}', 'http://127.0.0.1:8200')
        .replaceAll('${AWS_REGION}', 'us-east-1')
        .replaceAll('${AWS_ENDPOINT_URL}', 'http://127.0.0.1:5000')
        .replaceAll('namespace: demo', `namespace: ${ns}`),
    )
    .join('\n---\n');
  const child = promisify(execFile)(join(requireEnv('SECRETSYNC_TESTENV_BIN'), 'kubectl'), ['apply', '--dry-run=server', '-f', '-'], {
    env: process.env,
  });
  child.child.stdin?.end(yaml);
  const { stdout } = await child;
  const lines = stdout.trim().split('\n').sort();
  expect(lines).toEqual(
    [
      'deployment.apps/web',
      'secretsource.secretsync.io/aws',
      'secretsource.secretsync.io/vault',
      'secretsync.secretsync.io/api-keys',
      'secretsync.secretsync.io/app-token',
      'secretsync.secretsync.io/aws-db-creds',
      'secretsync.secretsync.io/db-creds',
      'secretsync.secretsync.io/db-creds-sealed',
      'secretsync.secretsync.io/db-url',
    ].map((o) => `${o} created (server dry run)`),
  );
});
