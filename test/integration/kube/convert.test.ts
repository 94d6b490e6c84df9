// `secretsync convert` against the real API server: every object converted from the ESO
// corpus (test/fixtures/eso/input) passes `kubectl apply --dry-run=server`, the CRD's
// OpenAPI and CEL rules included, in namespaces of its own.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { convertTexts } from '../../../src/convert/index.js';
import { createNamespace, deleteNamespace, installCrds, kube } from '../../helpers/kube.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';
import { repoRoot } from '../../testenv/config.js';

const { kc, core } = kube();
const teamA = uniqueName('convert-a');
const payments = uniqueName('convert-p');

beforeAll(async () => {
  await installCrds(kc);
  await createNamespace(core, teamA);
  await createNamespace(core, payments);
});
afterAll(async () => {
  await deleteNamespace(core, teamA);
  await deleteNamespace(core, payments);
});

test('the converted ESO corpus passes a server-side dry run, object by object', async () => {
  const expected = readFileSync(join(repoRoot, 'test', 'fixtures', 'eso', 'expected', 'output.yaml'), 'utf8');
  // The golden file is what convert writes for the corpus (the unit test checks that); a
  // convert of one file here too, so this test also runs the converter itself.
  const one = convertTexts([{ source: 'x', text: readFileSync(join(repoRoot, 'test', 'fixtures', 'eso', 'input', 'stores-aws.yaml'), 'utf8') }]);
  expect(one.converted).toBe(2);
  const yaml = expected
    .replaceAll('namespace: team-a', `namespace: ${teamA}`)
    .replaceAll('namespace: payments', `namespace: ${payments}`)
    // Cluster-scoped names of their own, so parallel runs do not meet.
    .replace(/(kind: ClusterSecretSource\nmetadata:\n {2}name: )(\S+)/g, `$1$2-${teamA}`);
  const child = promisify(execFile)(join(requireEnv('SECRETSYNC_TESTENV_BIN'), 'kubectl'), ['apply', '--dry-run=server', '-f', '-'], { env: process.env });
  child.child.stdin?.end(yaml);
  const { stdout } = await child;
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(13);
  for (const l of lines) expect(l).toMatch(/^(secretsync|secretsource|clustersecretsource)\.secretsync\.io\/\S+ created \(server dry run\)$/);
});
