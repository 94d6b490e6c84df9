// Issue 18, item 2, tried as the attacking namespace would: a team that may write only
// SecretSources, SecretSyncs and Pods asks the operator to mint a service-account token for
// the API server's own audience and send it to an address the team chooses (here a
// recorder in front of OpenBao, which must see nothing). The operator learned the API
// server's audiences at start (the log says which); each such source is Ready=False
// IdentityNotAllowed, so is its SecretSync, and no token is minted (the operator's own
// count of TokenRequests stays at the one it made at start) or sent. A control source with
// the default audience shows that both counts do move when a token is minted and sent.
import { CoreV1Api } from '@kubernetes/client-node';
import type { AnySource } from '../../../src/api/types.js';
import { jwtAudiences } from '../../../src/providers/audiences.js';
import { eventually } from '../../helpers/eventually.js';
import { startHttpRecorder, type HttpRecorder } from '../../helpers/http-recorder.js';
import { createNamespace, deleteNamespace, deleteSyncs, installCrds, kube, readyCondition, waitReady } from '../../helpers/kube.js';
import { getText, startOperator, type RunningOperator } from '../../helpers/operator.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';
import { tenant, type Tenant } from '../../helpers/tenant.js';

const { kc, core, custom } = kube();
const G = { group: 'secretsync.io', version: 'v1alpha1' };
const id = uniqueName('aud');
const ns = `${id}-team`;
const opNs = `${id}-system`;
let recorder: HttpRecorder;
let team: Tenant;
let op: RunningOperator;
let apiAudience = '';

const vaultSource = (name: string, audiences?: string[]) => ({
  apiVersion: `${G.group}/${G.version}`,
  kind: 'SecretSource',
  metadata: { name, namespace: ns },
  spec: { vault: { address: recorder.url, auth: { kubernetes: { role: 'app', serviceAccountRef: { name: 'app' }, ...(audiences ? { audiences } : {}) } } } },
});
const sync = (name: string, source: string) => ({
  apiVersion: `${G.group}/${G.version}`,
  kind: 'SecretSync',
  metadata: { name, namespace: ns },
  spec: { sourceRef: { name: source }, data: [{ key: 'v', remoteRef: { path: 'team/db', property: 'v' } }] },
});
const teamCreates = (plural: string, body: object) => team.custom.createNamespacedCustomObject({ ...G, namespace: ns, plural, body });

/** TokenRequests the operator has made (its own count of Kubernetes API requests). */
async function tokensMinted(): Promise<number> {
  const body = (await getText(`http://127.0.0.1:${op.metricsPort}/metrics`)).body;
  const line = body.split('\n').find((l) => l.startsWith('secretsync_kube_requests_total{') && l.includes('resource="serviceaccounts/token"') && l.includes('verb="create"'));
  return line ? Number(line.split(' ').pop()) : 0;
}

beforeAll(async () => {
  await installCrds(kc);
  await createNamespace(core, opNs);
  await createNamespace(core, ns);
  await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'app' } } });
  // The API server's audience, as the API server itself says: the aud of a token asked for without one.
  const tr = await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({ namespace: ns, name: 'app', body: { spec: { audiences: [], expirationSeconds: 600 } } });
  apiAudience = jwtAudiences(tr.status?.token ?? '')[0] ?? '';
  expect(apiAudience).not.toBe('');
  recorder = await startHttpRecorder(requireEnv('VAULT_ADDR'));
  team = await tenant(kc, ns);
  op = await startOperator([`--namespace=${ns}`, `--operator-namespace=${opNs}`]);
});

afterAll(async () => {
  await deleteSyncs(custom, ns);
  expect(await op?.stop()).toBe(0);
  team?.release();
  await recorder?.close();
  await deleteNamespace(core, ns);
  await deleteNamespace(core, opNs);
});

test("the operator learned the API server's audiences at start", async () => {
  const line = await eventually(async () => op.logs.find((l) => l.includes("learned the API server's token audiences")), { what: 'the start-up log line' });
  const entry = JSON.parse(line) as { apiAudiences?: string[]; from?: string };
  expect(entry.apiAudiences).toContain(apiAudience);
  expect(entry.from).toBe('token'); // its own token's aud, not a guess
});

test("a team's Vault source asking for the API server's audience is refused: no token minted, nothing sent", async () => {
  await eventually(async () => ((await tokensMinted()) >= 1 ? true : undefined), { what: 'the metrics endpoint' });
  const atStart = await tokensMinted();
  const asks: [string, string[]][] = [
    ['learned', [apiAudience]],
    ['trailing-slash', ['vault', `${apiAudience.toUpperCase()}/`]],
    ['in-cluster', ['https://kubernetes.default.svc']],
    ['short', ['kubernetes']],
  ];
  for (const [name, audiences] of asks) {
    await teamCreates('secretsources', vaultSource(name, audiences));
    await teamCreates('secretsyncs', sync(`${name}-db`, name));
  }
  for (const [name, audiences] of asks) {
    const src = await eventually(
      async () => {
        const s = (await custom.getNamespacedCustomObject({ ...G, namespace: ns, plural: 'secretsources', name })) as AnySource;
        const c = s.status?.conditions?.find((x) => x.type === 'Ready');
        return c?.status === 'False' ? c : undefined;
      },
      { what: `SecretSource ${name} Ready=False` },
    );
    expect(src.reason).toBe('IdentityNotAllowed');
    expect(src.message).toContain('spec.vault.auth.kubernetes.audiences asks for');
    expect(src.message).toContain('an audience of the API server itself');
    expect(audiences.some((a) => src.message.includes(`"${a}"`))).toBe(true);
    const ss = await waitReady(custom, ns, `${name}-db`, 'False', 'IdentityNotAllowed');
    expect(readyCondition(ss)?.message).toContain('an audience of the API server itself');
  }
  expect(await tokensMinted()).toBe(atStart);
  expect(recorder.requests).toEqual([]);
});

test('control: with the default audience (vault) a token is minted and sent, so both counts above could move', async () => {
  const before = await tokensMinted();
  await teamCreates('secretsources', vaultSource('control'));
  await teamCreates('secretsyncs', sync('control-db', 'control'));
  await eventually(async () => (recorder.requests.some((r) => r.path.endsWith('/auth/kubernetes/login')) ? true : undefined), { what: 'a Vault login at the recorder' });
  expect(await tokensMinted()).toBeGreaterThan(before);
});
