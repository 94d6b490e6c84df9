// The stack's node runs real pods (test/testenv/node/): the Node is Ready, a pod with a
// Memory emptyDir runs and sees tmpfs, `kubectl logs`/`exec` work through the kubelet,
// pods reach OpenBao, moto, the API server and a ClusterIP Service, and nothing beyond this
// machine: a connection to an outside address fails at once, pods have no resolver, and
// an image the node lacks is never fetched from a registry.
// Skipped, saying so, when the stack has no node (not root, SECRETSYNC_TESTENV_NODE=0).
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { describeWithNode, kubectl, podSh, stackNode, testAppImage, waitDefaultServiceAccount, waitPodRunning } from '../../helpers/pods.js';
import { eventually } from '../../helpers/eventually.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';

const kc = new KubeConfig();
kc.loadFromDefault();
const core = kc.makeApiClient(CoreV1Api);

let ns: string;
let createToRunningMs = 0;

function pod(name: string, script: string, extra: Partial<V1Pod['spec']> = {}, labels: Record<string, string> = {}): V1Pod {
  return {
    metadata: { name, labels },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image: testAppImage(), command: ['sh', '-c', script] }],
      ...extra,
    },
  };
}

/** An HTTP/1.0 GET from inside the pod with busybox nc; returns the whole response. */
function podGet(name: string, url: string): Promise<string> {
  const u = new URL(url);
  return podSh(ns, name, `printf 'GET ${u.pathname} HTTP/1.0\\r\\nHost: ${u.host}\\r\\n\\r\\n' | nc -w 5 ${u.hostname} ${u.port || 80}`);
}

/** The machine's default gateway (an address off this machine), from /proc/net/route. */
function defaultGateway(): string | undefined {
  const line = readFileSync('/proc/net/route', 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f[1] === '00000000' && f[2] !== '00000000');
  if (!line?.[2]) return undefined;
  const hex = line[2];
  return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
}

describeWithNode()('the node', () => {
  beforeAll(async () => {
    ns = uniqueName('node');
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await waitDefaultServiceAccount(core, ns);
    const app = pod('app', 'stat -f /scratch; echo app-started; exec sleep 3600', {
      volumes: [{ name: 'scratch', emptyDir: { medium: 'Memory' } }],
    });
    app.spec!.containers[0]!.volumeMounts = [{ name: 'scratch', mountPath: '/scratch' }];
    const web = pod('web', 'mkdir -p /www && echo served-by-web > /www/index.html && exec httpd -f -p 8080 -h /www', {}, { app: 'web' });
    web.spec!.containers[0]!.readinessProbe = { tcpSocket: { port: 8080 }, periodSeconds: 1 };
    const t0 = Date.now();
    await core.createNamespacedPod({ namespace: ns, body: app });
    await waitPodRunning(core, ns, 'app');
    createToRunningMs = Date.now() - t0;
    await core.createNamespacedPod({ namespace: ns, body: web });
    await core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } },
    });
    await waitPodRunning(core, ns, 'web');
  });

  afterAll(async () => {
    if (ns) await core.deleteNamespace({ name: ns }).catch(() => undefined);
  });

  test('is Ready, addressed on the pod bridge', async () => {
    const node = await core.readNode({ name: stackNode()! });
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    const internal = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    expect(new URL(requireEnv('POD_VAULT_ADDR')).hostname).toBe(internal);
  });

  test('runs a pod with a Memory emptyDir on tmpfs; kubectl logs and exec work', async () => {
    console.log(`pod create -> Running and Ready: ${createToRunningMs} ms`);
    const logs = await kubectl(['-n', ns, 'logs', 'app']);
    expect(logs).toContain('app-started');
    expect(logs).toMatch(/Type:\s+tmpfs/);
    expect(await podSh(ns, 'app', 'stat -f -c %T /scratch')).toContain('tmpfs');
    expect((await podSh(ns, 'app', 'echo $((6*7))')).trim()).toBe('42');
  });

  test('pods reach OpenBao at POD_VAULT_ADDR and moto at POD_AWS_ENDPOINT_URL', async () => {
    const bao = await podGet('app', `${requireEnv('POD_VAULT_ADDR')}/v1/sys/health`);
    expect(bao).toMatch(/^HTTP\/1\.[01] 200/);
    expect(bao).toContain('"initialized":true');
    const moto = await podGet('app', `${requireEnv('POD_AWS_ENDPOINT_URL')}/moto-api/`);
    expect(moto).toMatch(/^HTTP\/1\.[01] 200/);
  });

  test('a ClusterIP Service answers from a pod and from this machine; the kubernetes Service is reachable from pods', async () => {
    const svc = await core.readNamespacedService({ namespace: ns, name: 'web' });
    const ip = svc.spec!.clusterIP!;
    expect(await podGet('app', `http://${ip}/index.html`)).toContain('served-by-web');
    // This machine reaches Services too: the API server calls webhooks that way.
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(`http://${ip}/index.html`, { timeout: 5000 }, (res) => {
        let b = '';
        res.on('data', (c: Buffer) => (b += c.toString()));
        res.on('end', () => resolve(b));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    });
    expect(body).toContain('served-by-web');
    expect(await podSh(ns, 'app', 'nc -w 5 $KUBERNETES_SERVICE_HOST $KUBERNETES_SERVICE_PORT </dev/null && echo connected')).toContain('connected');
  });

  test('no pod reaches an address off this machine, and pods have no resolver', async () => {
    const outside = ['1.1.1.1', defaultGateway()].filter((a): a is string => !!a);
    for (const addr of outside) {
      const t0 = Date.now();
      const out = await podSh(ns, 'app', `nc -w 5 ${addr} 53 </dev/null 2>&1 && echo CONNECTED || echo failed`);
      const ms = Date.now() - t0;
      expect(out).not.toContain('CONNECTED');
      expect(out).toContain('failed');
      expect(ms).toBeLessThan(4000); // refused at the bridge, not a 5 s timeout somewhere outside
    }
    const resolv = await podSh(ns, 'app', 'cat /etc/resolv.conf');
    expect(resolv).not.toMatch(/^\s*nameserver/m);
  });

  test('an image the node lacks is not pulled from a registry: the pull fails on loopback', async () => {
    await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'absent' }, spec: { containers: [{ name: 'main', image: 'example.com/absent:1' }] } } });
    const message = await eventually(
      async () => {
        const p = await core.readNamespacedPod({ namespace: ns, name: 'absent' });
        return p.status?.containerStatuses?.[0]?.state?.waiting?.message || undefined;
      },
      { what: 'the failed pull of example.com/absent:1' },
    );
    expect(message).toContain('proxyconnect tcp: dial tcp 127.0.0.1:9');
  });
});
