// The stack's node: containerd + runc (Debian packages), CNI bridge networking on this
// machine only, and kubelet, kube-scheduler and kube-proxy from the stack's own Kubernetes
// build. Machine-global (the kubelet owns /var/lib/kubelet, iptables, cgroups, the bridge),
// so one stack at a time has it: /run/secretsync-testenv-node/owner.json names that stack
// and every process and setting to undo; `down` (and the next `up` after a killed run)
// undoes them all and puts the kernel settings back.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { installScript } from '../config.js';
import { http } from '../http.js';
import { importImage, writeImageArchive } from '../image-archive.js';
import { isAlive, startProcess, waitHealthy, type RunningProcess } from '../process.js';
import { cniConfig, containerdConfig, kubeletConfig, kubeProxyConfig } from './config.js';
import { busybox, cniBin, containerdSocket, kubeletMarker, log, NODE_NAME, NODE_NET, nodeEnv, readOwner, sh, which, writeOwner } from './host.js';
import { nodeImages } from './images.js';

export { cleanupNode } from './cleanup.js';
export { containerdSocket, NODE_NAME, NODE_NET, nodeOwnedBy, PAUSE_IMAGE, TEST_APP_IMAGE } from './host.js';
export { prepareNodeNetwork } from './network.js';

const run = promisify(execFile);

function missingPieces(): string[] {
  const miss: string[] = [];
  for (const c of ['containerd', 'containerd-shim-runc-v2', 'ctr', 'runc', 'iptables', 'ip']) if (!which(c)) miss.push(c);
  if (!existsSync(join(cniBin, 'bridge')) || !existsSync(join(cniBin, 'host-local'))) miss.push(`${cniBin}/bridge`);
  if (!existsSync(busybox)) miss.push(busybox);
  return miss;
}

export interface NodeDecision {
  on: boolean;
  reason: string;
}

/**
 * Whether this stack gets the node. SECRETSYNC_TESTENV_NODE=0 turns it off, =1 makes its
 * absence an error; by default it is on where it can be (Linux, root, the packages, no
 * other stack holding it) and the reason is logged where it is not.
 */
export async function decideNode(stateDir: string): Promise<NodeDecision> {
  const want = process.env.SECRETSYNC_TESTENV_NODE;
  const no = (reason: string): NodeDecision => {
    if (want === '1') throw new Error(`SECRETSYNC_TESTENV_NODE=1 but the node cannot run: ${reason}`);
    return { on: false, reason };
  };
  if (want === '0') return { on: false, reason: 'SECRETSYNC_TESTENV_NODE=0' };
  if (process.env.SECRETSYNC_USE_EXISTING_CLUSTER === '1') return { on: false, reason: 'SECRETSYNC_USE_EXISTING_CLUSTER=1 (that cluster has its own nodes)' };
  if (process.platform !== 'linux') return no(`not Linux (${process.platform})`);
  if (process.getuid?.() !== 0) return no('not root (the kubelet, containerd and the bridge need root); pod tests will be reported as not run');
  let miss = missingPieces();
  if (miss.length > 0) {
    log(`node: ${miss.join(', ')} missing; installing the node's packages`);
    try {
      await run('bash', [installScript, 'node-packages'], { env: nodeEnv(), timeout: 900_000 });
    } catch (err) {
      return no(`installing the node's packages failed: ${(err as Error).message.split('\n').slice(-3).join(' ')}`);
    }
    miss = missingPieces();
    if (miss.length > 0) return no(`missing ${miss.join(', ')} (Debian: apt-get install containerd runc containernetworking-plugins iptables busybox-static)`);
  }
  if (existsSync('/var/lib/kubelet') && !existsSync(kubeletMarker) && !readOwner()) {
    return no('/var/lib/kubelet belongs to a kubelet this stack did not start (is this machine a Kubernetes node?); the stack leaves it alone');
  }
  const owner = readOwner();
  if (owner && owner.stateDir !== stateDir && owner.processes.some((p) => isAlive(p.pid))) {
    return no(`the node is machine-global and the stack in ${owner.stateDir} runs it (make testenv-down there first)`);
  }
  return { on: true, reason: '' };
}

export interface NodeStart {
  stateDir: string;
  bin: string;
  logs: string;
  caFile: string;
  ca: string;
  adminCert: string;
  adminKey: string;
  /** Admin kubeconfig whose server is the API server on the bridge address. */
  kubeconfig: string;
  apiserverUrl: string;
  ports: { scheduler: number; proxyHealthz: number; proxyMetrics: number };
  track: (p: Promise<RunningProcess>) => Promise<RunningProcess>;
}

const START_TIMEOUT_MS = 90_000;

function recordProcess(p: RunningProcess): RunningProcess {
  const o = readOwner();
  if (o) writeOwner({ ...o, processes: [...o.processes, p] });
  return p;
}

/** Starts containerd (with the images imported), kubelet, kube-proxy and kube-scheduler; resolves when the Node is Ready. */
export async function startNode(s: NodeStart): Promise<{ readyAfterMs: number }> {
  const t0 = Date.now();
  const nd = join(s.stateDir, 'node');
  const paths = {
    root: join(nd, 'containerd', 'root'),
    state: join(nd, 'containerd', 'state'),
    config: join(nd, 'containerd', 'config.toml'),
    cniConf: join(nd, 'cni', 'net.d'),
    ipam: join(nd, 'cni', 'ipam'),
    kubelet: join(nd, 'kubelet.yaml'),
    proxy: join(nd, 'kube-proxy.yaml'),
    resolv: join(nd, 'resolv.conf'),
    podLogs: join(nd, 'pod-logs'),
    images: join(nd, 'images'),
  };
  for (const d of [paths.root, paths.state, paths.cniConf, paths.ipam, paths.podLogs, paths.images]) mkdirSync(d, { recursive: true });
  writeFileSync(paths.config, containerdConfig(paths.root, paths.state, paths.cniConf));
  writeFileSync(join(paths.cniConf, '10-secretsync-testenv.conflist'), cniConfig(paths.ipam));
  // No nameserver: a pod's lookups go to its own loopback and fail there, never off the machine.
  writeFileSync(paths.resolv, '# secretsync test stack: no resolver, so no lookup leaves this machine\noptions ndots:1\n');
  writeFileSync(paths.kubelet, kubeletConfig({ caFile: s.caFile, resolvConf: paths.resolv, podLogs: paths.podLogs }));
  writeFileSync(paths.proxy, kubeProxyConfig(s.kubeconfig, s.ports.proxyHealthz, s.ports.proxyMetrics));

  const ctr = (...a: string[]) => sh('ctr', ['--address', containerdSocket, ...a]);
  // containerd: registry pulls go through a proxy nobody serves, so an image the node lacks
  // fails at once on loopback instead of reaching a registry.
  const containerd = startProcess({
    name: 'containerd',
    command: '/usr/bin/containerd',
    args: ['--config', paths.config, '--log-level', 'warn'],
    env: { ...nodeEnv(), HTTP_PROXY: 'http://127.0.0.1:9', HTTPS_PROXY: 'http://127.0.0.1:9', NO_PROXY: '' },
    logFile: join(s.logs, 'containerd.log'),
  });
  recordProcess(containerd);
  await s.track(
    waitHealthy(containerd, async () => (await ctr('version').then(() => true, () => false)), START_TIMEOUT_MS).then(() => containerd),
  );
  const tImg = Date.now();
  for (const spec of nodeImages(paths.images)) {
    const tar = join(paths.images, `${spec.name.split('/').pop()!.replace(':', '_')}.tar`);
    await writeImageArchive(spec, tar);
    await importImage(tar, { SECRETSYNC_CONTAINERD_ADDRESS: containerdSocket });
  }
  log(`node: pause and test-app images imported in ${((Date.now() - tImg) / 1000).toFixed(1)}s`);

  const tKubelet = Date.now();
  const kubelet = recordProcess(
    startProcess({
      name: 'kubelet',
      command: join(s.bin, 'kubelet'),
      args: [
        `--config=${paths.kubelet}`,
        `--kubeconfig=${s.kubeconfig}`,
        `--hostname-override=${NODE_NAME}`,
        `--node-ip=${NODE_NET.ip}`,
        '--v=1',
      ],
      env: nodeEnv(),
      logFile: join(s.logs, 'kubelet.log'),
    }),
  );
  const proxy = recordProcess(
    startProcess({
      name: 'kube-proxy',
      command: join(s.bin, 'kube-proxy'),
      args: [`--config=${paths.proxy}`, '--v=1'],
      env: nodeEnv(),
      logFile: join(s.logs, 'kube-proxy.log'),
    }),
  );
  const scheduler = recordProcess(
    startProcess({
      name: 'kube-scheduler',
      command: join(s.bin, 'kube-scheduler'),
      args: [
        `--kubeconfig=${s.kubeconfig}`,
        `--authentication-kubeconfig=${s.kubeconfig}`,
        `--authorization-kubeconfig=${s.kubeconfig}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${s.ports.scheduler}`,
        '--leader-elect=false',
        '--profiling=false',
        '--v=1',
      ],
      env: nodeEnv(),
      logFile: join(s.logs, 'kube-scheduler.log'),
    }),
  );
  await Promise.all([
    s.track(waitHealthy(kubelet, async () => (await http('http://127.0.0.1:10248/healthz')).body.trim() === 'ok', START_TIMEOUT_MS).then(() => kubelet)),
    s.track(waitHealthy(proxy, async () => (await http(`http://127.0.0.1:${s.ports.proxyMetrics}/metrics`)).status === 200, START_TIMEOUT_MS).then(() => proxy)),
    s.track(
      waitHealthy(scheduler, async () => (await http(`https://127.0.0.1:${s.ports.scheduler}/healthz`, { insecure: true })).status === 200, START_TIMEOUT_MS).then(
        () => scheduler,
      ),
    ),
  ]);
  await waitHealthy(
    kubelet,
    async () => {
      const r = await http(`${s.apiserverUrl}/api/v1/nodes/${NODE_NAME}`, { ca: s.ca, cert: s.adminCert, key: s.adminKey });
      if (r.status !== 200) return false;
      const node = JSON.parse(r.body) as { status?: { conditions?: { type: string; status: string }[] } };
      return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    },
    START_TIMEOUT_MS,
  );
  log(`node: ${NODE_NAME} Ready ${((Date.now() - tKubelet) / 1000).toFixed(1)}s after kubelet start (${((Date.now() - t0) / 1000).toFixed(1)}s after containerd start)`);
  return { readyAfterMs: Date.now() - t0 };
}
