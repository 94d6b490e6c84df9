// An operator started WITHOUT --insecure-allow-http, against the real apiserver: http
// sources (the stack's own OpenBao and moto addresses) are Ready=False with reason
// InvalidSpec and a message that says to use https or the flag, and a SecretSync on one
// fails the same way instead of sending a token over plaintext; an https source is valid.
import { keysRef } from '../../helpers/aws.js';
import { eventually } from '../../helpers/eventually.js';
import {
  apply,
  createNamespace,
  createSecret,
  deleteNamespace,
  deleteSyncs,
  installCrds,
  kube,
  readyCondition,
  waitReady,
} from '../../helpers/kube.js';
import { getText, startOperator, type RunningOperator } from '../../helpers/operator.js';
import { awsConfig, requireEnv, uniqueName } from '../../helpers/stack.js';

const { kc, core, custom } = kube();
const id = uniqueName('plain');
const ns = `${id}-apps`;
const opNs = `${id}-system`;
const vaultAddr = requireEnv('VAULT_ADDR');
const tokenAuth = { token: { secretRef: { name: 'vault-token', key: 'token' } } };
let op: RunningOperator;

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

function sourceReady(name: string, status: 'True' | 'False'): Promise<Condition> {
  return eventually(
    async () => {
      const src = (await custom.getNamespacedCustomObject({ group: 'secretsync.io', version: 'v1alpha1', namespace: ns, plural: 'secretsources', name })) as {
        status?: { conditions?: Condition[] };
      };
      const c = src.status?.conditions?.find((x) => x.type === 'Ready');
      return c?.status === status ? c : undefined;
    },
    { what: `SecretSource ${name} Ready=${status}` },
  );
}

beforeAll(async () => {
  expect(vaultAddr).toMatch(/^http:\/\//); // the local stack is plain http
  await installCrds(kc);
  await createNamespace(core, opNs);
  await createNamespace(core, ns);
  await createSecret(core, ns, 'vault-token', { token: requireEnv('VAULT_TOKEN') });
  const { region, endpoint } = awsConfig();
  await apply(custom, { kind: 'SecretSource', metadata: { name: 'vault-http', namespace: ns }, spec: { vault: { address: vaultAddr, auth: tokenAuth } } });
  await apply(custom, { kind: 'SecretSource', metadata: { name: 'aws-http', namespace: ns }, spec: { aws: { region, endpoint, auth: keysRef('aws-keys') } } });
  await apply(custom, {
    kind: 'SecretSource',
    metadata: { name: 'vault-https', namespace: ns },
    spec: { vault: { address: 'https://vault.example:8200', auth: tokenAuth } },
  });
  op = await startOperator([`--namespace=${ns}`, `--operator-namespace=${opNs}`], {}, { insecureAllowHttp: false });
});

afterAll(async () => {
  await deleteSyncs(custom, ns);
  expect(await op?.stop()).toBe(0);
  await deleteNamespace(core, ns);
  await deleteNamespace(core, opNs);
});

test('http sources are Ready=False InvalidSpec, saying to use https or --insecure-allow-http; https is valid', async () => {
  const vault = await sourceReady('vault-http', 'False');
  expect(vault).toMatchObject({ reason: 'InvalidSpec' });
  expect(vault.message).toContain(`spec.vault.address "${vaultAddr.replace(/\/$/, '')}" uses plaintext http`);
  expect(vault.message).toContain('--insecure-allow-http');
  const aws = await sourceReady('aws-http', 'False');
  expect(aws).toMatchObject({ reason: 'InvalidSpec' });
  expect(aws.message).toContain('spec.aws.endpoint');
  expect(aws.message).toContain('--insecure-allow-http');
  expect(await sourceReady('vault-https', 'True')).toMatchObject({ reason: 'Valid' });
});

test('a SecretSync on an http source fails with InvalidSpec and nothing is sent', async () => {
  await apply(custom, {
    kind: 'SecretSync',
    metadata: { name: 'app', namespace: ns },
    spec: { sourceRef: { name: 'vault-http' }, data: [{ key: 'v', remoteRef: { path: `${id}/db`, property: 'v' } }] },
  });
  const ss = await waitReady(custom, ns, 'app', 'False', 'InvalidSpec');
  expect(readyCondition(ss)?.message).toContain('--insecure-allow-http');
  const metrics = (await getText(`http://127.0.0.1:${op.metricsPort}/metrics`)).body;
  expect(metrics.split('\n').filter((l) => l.startsWith('secretsync_provider_calls_total{') && l.includes(ns))).toEqual([]);
  await expect(core.readNamespacedSecret({ name: 'app', namespace: ns })).rejects.toBeDefined();
});
