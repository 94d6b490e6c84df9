// The stack's node: containerd + runc (Debian packages), CNI bridge networking on this
// machine only, and kubelet, kube-scheduler and kube-proxy from the stack's own Kubernetes
// build. Machine-global (the kubelet owns /var/lib/kubelet, iptables, cgroups, the bridge),
// so one stack at a time has it: /run/secretsync-testenv-node/owner.json names that stack
// and every process and setting to undo; `down` (and the next `up` after a killed run)
// undoes them all and puts the kernel settings back.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { http } from './http.js';
import { importImage, writeImageArchive, type ImageSpec } from './image-archive.js';
import { installScript } from './config.js';
import { isAlive, startProcess, stopProcess, waitHealthy, type RunningProcess } from './process.js';

const run = promisify(execFile);
const log = (msg: string) => process.stderr.write(`[testenv] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The node's fixed network: a bridge of its own, pods in a /24, Services routed to the bridge. */
export const NODE_NET = {
  bridge: 'ssync0',
  podCidr: '10.244.0.0/24',
  /** The bridge's address: node IP, pods' gateway, and where the API server, OpenBao and moto listen. */
  ip: '10.244.0.1',
  prefix: 24,
  serviceCidr: '10.96.0.0/16',
  /** The `kubernetes` Service (first address of --service-cluster-ip-range). */
  kubernetesServiceIp: '10.96.0.1',
} as const;
export const NODE_NAME = 'secretsync-testenv';
/** Local names with a tag (the kubelet pulls :latest): never looked up in a registry. */
export const PAUSE_IMAGE = 'localhost/secretsync-testenv/pause:1';
export const TEST_APP_IMAGE = 'localhost/secretsync-testenv/test-app:1';

const globalDir = '/run/secretsync-testenv-node';
const ownerFile = join(globalDir, 'owner.json');
const sysctlFile = join(globalDir, 'sysctl.orig.json');
export const containerdSocket = join(globalDir, 'containerd.sock');
const fwdChain = 'SECRETSYNC-NODE-FWD';
/** Marks /var/lib/kubelet as our node's, so a kubelet of the machine's own is never touched. */
const kubeletMarker = '/var/lib/kubelet/.secretsync-testenv';
const busybox = '/bin/busybox';
const cniBin = '/usr/lib/cni';
/** What the node changes in the kernel (the kubelet sets the vm./kernel. ones itself): put back at `down`. */
const sysctls = [
  'net.ipv4.ip_forward',
  'net.bridge.bridge-nf-call-iptables',
  'net.bridge.bridge-nf-call-ip6tables',
  'vm.overcommit_memory',
  'vm.panic_on_oom',
  'kernel.panic',
  'kernel.panic_on_oops',
  'kernel.keys.root_maxkeys',
  'kernel.keys.root_maxbytes',
];
const sysPath = (k: string) => `/proc/sys/${k.replace(/\./g, '/')}`;
const nodeEnv = (): NodeJS.ProcessEnv => ({ ...process.env, PATH: `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${process.env.PATH ?? ''}` });

interface Owner {
  stateDir: string;
  bin: string;
  processes: RunningProcess[];
  dirs: string[];
}

/** True when the node on this machine (running or left by a killed run) belongs to the stack in `stateDir`. */
export function nodeOwnedBy(stateDir: string): boolean {
  return readOwner()?.stateDir === stateDir;
}

function readOwner(): Owner | undefined {
  try {
    return JSON.parse(readFileSync(ownerFile, 'utf8')) as Owner;
  } catch {
    return undefined;
  }
}
function writeOwner(o: Owner): void {
  mkdirSync(globalDir, { recursive: true, mode: 0o700 });
  writeFileSync(ownerFile, JSON.stringify(o, null, 2));
}

async function sh(cmd: string, args: string[], quiet = false): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { env: nodeEnv(), maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
    return stdout;
  } catch (err) {
    if (quiet) return '';
    throw err;
  }
}

function which(cmd: string): boolean {
  return nodeEnv().PATH!.split(':').some((d) => d && existsSync(join(d, cmd)));
}

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

async function readSysctl(k: string): Promise<string | undefined> {
  try {
    return readFileSync(sysPath(k), 'utf8').trim();
  } catch {
    return undefined;
  }
}
function writeSysctl(k: string, v: string): void {
  try {
    writeFileSync(sysPath(k), v);
  } catch (err) {
    log(`node: could not set ${k}=${v}: ${(err as Error).message}`);
  }
}

async function iptablesChains(cmd: string, table: string): Promise<{ chains: string[]; rules: string[] }> {
  const out = await sh(cmd, ['-w', '-t', table, '-S'], true);
  const lines = out.split('\n');
  return {
    chains: lines.filter((l) => l.startsWith('-N ')).map((l) => l.slice(3).trim()),
    rules: lines.filter((l) => l.startsWith('-A ')),
  };
}

const ours = (chain: string) => /^(KUBE-|CNI-|SECRETSYNC-)/.test(chain);

/** Removes every KUBE-*, CNI-* and SECRETSYNC-* chain (and the jumps to them) from iptables and ip6tables. */
async function sweepIptables(): Promise<void> {
  for (const cmd of ['iptables', 'ip6tables']) {
    if (!which(cmd)) continue;
    for (const table of ['filter', 'nat', 'mangle', 'raw']) {
      const { chains, rules } = await iptablesChains(cmd, table);
      // Jumps from built-in chains into ours.
      for (const r of rules) {
        const parts = r.split(/\s+/);
        const chain = parts[1] ?? '';
        const target = parts[parts.indexOf('-j') + 1] ?? '';
        if (!ours(chain) && ours(target)) await sh(cmd, ['-w', '-t', table, '-D', ...shellSplit(r.slice(3))], true);
      }
      const mine = chains.filter(ours);
      for (const c of mine) await sh(cmd, ['-w', '-t', table, '-F', c], true);
      for (const c of mine) await sh(cmd, ['-w', '-t', table, '-X', c], true);
    }
  }
  if (which('nft')) {
    for (const fam of ['ip', 'ip6']) await sh('nft', ['delete', 'table', fam, 'kube-proxy'], true);
  }
}

/** Splits an `iptables -S` rule into arguments (quoted comments stay one argument). */
function shellSplit(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

function mountsUnder(prefixes: string[]): string[] {
  let info = '';
  try {
    info = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const points = info
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p)
    .map((p) => p.replace(/\\040/g, ' '))
    .filter((p) => prefixes.some((x) => p === x || p.startsWith(`${x}/`)));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** Depth-first list of the cgroup dirs named `kubepods` (and below) in every hierarchy. */
function podCgroups(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: string[] = [];
    try {
      entries = readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return;
    }
    for (const e of entries) walk(join(d, e));
    out.push(d);
  };
  const roots = ['/sys/fs/cgroup', ...safeDirs('/sys/fs/cgroup').map((d) => join('/sys/fs/cgroup', d))];
  for (const r of roots) {
    for (const name of ['kubepods', 'kubepods.slice']) if (existsSync(join(r, name))) walk(join(r, name));
  }
  return out;
}
function safeDirs(d: string): string[] {
  try {
    return readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

function killPids(pids: Iterable<number>): number {
  let n = 0;
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
      n++;
    } catch {
      /* gone */
    }
  }
  return n;
}

function cgroupPids(): Set<number> {
  const pids = new Set<number>();
  for (const cg of podCgroups()) {
    try {
      for (const l of readFileSync(join(cg, 'cgroup.procs'), 'utf8').split('\n')) if (l.trim()) pids.add(Number(l));
    } catch {
      /* gone */
    }
  }
  return pids;
}

/** containerd shims serving our containerd (their command line names its socket). */
function ourShims(): number[] {
  const out: number[] = [];
  for (const d of safeDirs('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if ((cmd[0] ?? '').includes('containerd-shim') && cmd.includes(containerdSocket)) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * Undoes everything a node (this stack's, or a killed run's) left on the machine. Each step
 * is best-effort and idempotent; safe when there never was a node.
 */
export async function cleanupNode(stateDirHint?: string): Promise<void> {
  const owner = readOwner();
  if (!owner && !existsSync(sysctlFile) && !existsSync('/var/lib/kubelet') && !(await linkExists(NODE_NET.bridge))) return;
  const t0 = Date.now();
  // 1. The node's own processes (kubelet first, so it restarts nothing), then every pod process.
  for (const p of [...(owner?.processes ?? [])].reverse()) await stopProcess(p, 5000);
  for (let i = 0; i < 50; i++) {
    const pids = [...cgroupPids(), ...ourShims()];
    if (pids.length === 0) break;
    killPids(pids);
    await sleep(100);
  }
  // 2. Mounts: pod volumes, container root filesystems, network namespaces.
  const dirs = [...(owner?.dirs ?? []), ...(stateDirHint ? [join(stateDirHint, 'node')] : []), '/var/lib/kubelet', globalDir];
  const netns = safeFiles('/run/netns').filter((n) => n.startsWith('cni-')).map((n) => join('/run/netns', n));
  for (const m of mountsUnder([...dirs, ...netns])) {
    await sh('umount', [m], true);
    if (mountsUnder([m]).includes(m)) await sh('umount', ['-l', m], true);
  }
  for (const n of netns) rmSync(n, { force: true });
  // Shims listen on /run/containerd/s/<sha256(address/namespace/id)> whatever containerd's
  // state dir; a killed shim leaves its socket there.
  for (const d of dirs) {
    for (const id of safeFiles(join(d, 'containerd', 'state', 'io.containerd.runtime.v2.task', 'k8s.io'))) {
      rmSync(join('/run/containerd/s', createHash('sha256').update(join(containerdSocket, 'k8s.io', id)).digest('hex')), { force: true });
    }
  }
  for (const d of ['/run/containerd/s', '/run/containerd']) {
    try {
      rmdirSync(d); // only when empty: a containerd of the machine's own keeps its files
    } catch {
      /* not empty or absent */
    }
  }
  // 3. Kernel objects: cgroups, iptables chains (kube-proxy's own cleanup, then a sweep), links.
  for (const cg of podCgroups()) {
    try {
      rmdirSync(cg);
    } catch {
      /* busy or gone: reported below if it stays */
    }
  }
  const kubeProxy = owner ? join(owner.bin, 'kube-proxy') : undefined;
  if (kubeProxy && existsSync(kubeProxy)) await sh(kubeProxy, ['--cleanup', '--v=0'], true);
  await sweepIptables();
  for (const veth of (await sh('ip', ['-o', 'link', 'show', 'master', NODE_NET.bridge], true)).split('\n')) {
    const name = veth.split(':')[1]?.trim().split('@')[0];
    if (name) await sh('ip', ['link', 'del', name], true);
  }
  await sh('ip', ['link', 'del', NODE_NET.bridge], true);
  // 4. Files the kubelet and CNI write wherever they are told, and our own.
  for (const d of [...dirs.filter((d) => d !== globalDir), '/var/lib/cni', '/var/log/pods', '/var/log/containers']) rmSync(d, { recursive: true, force: true });
  // 5. Kernel settings back to what they were before the first node.
  if (existsSync(sysctlFile)) {
    const orig = JSON.parse(readFileSync(sysctlFile, 'utf8')) as Record<string, string>;
    for (const [k, v] of Object.entries(orig)) if ((await readSysctl(k)) !== v) writeSysctl(k, v);
  }
  rmSync(globalDir, { recursive: true, force: true });
  const left = podCgroups();
  if (left.length > 0) log(`node: cgroups still present after cleanup: ${left.slice(0, 3).join(', ')}`);
  log(`node: removed (processes, mounts, cgroups, iptables chains, bridge, kubelet/CNI files, sysctls) in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
}

function safeFiles(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

async function linkExists(name: string): Promise<boolean> {
  return existsSync(`/sys/class/net/${name}`);
}

/**
 * Before the API server, OpenBao and moto start (they listen on the bridge's address):
 * the bridge with its address, the Service range routed to it, forwarding from the bridge
 * confined to the bridge, and the kernel settings recorded for `down`.
 */
export async function prepareNodeNetwork(stateDir: string, bin: string): Promise<void> {
  await cleanupNode(stateDir); // what a killed run left
  mkdirSync(globalDir, { recursive: true, mode: 0o700 });
  writeOwner({ stateDir, bin, processes: [], dirs: [join(stateDir, 'node')] });
  if (!existsSync(join('/proc/sys/net/bridge'))) await sh('modprobe', ['br_netfilter'], true);
  const orig: Record<string, string> = {};
  for (const k of sysctls) {
    const v = await readSysctl(k);
    if (v !== undefined) orig[k] = v;
  }
  writeFileSync(sysctlFile, JSON.stringify(orig, null, 2));
  mkdirSync('/var/lib/kubelet', { recursive: true });
  writeFileSync(kubeletMarker, `${stateDir}\n`);
  const { bridge, ip, prefix, serviceCidr } = NODE_NET;
  await sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
  await sh('ip', ['addr', 'add', `${ip}/${prefix}`, 'dev', bridge]);
  await sh('ip', ['link', 'set', bridge, 'up']);
  // A Service IP without endpoints must not follow the default route off the machine.
  await sh('ip', ['route', 'add', serviceCidr, 'dev', bridge]);
  // Pods talk to each other, to this machine and to Services, nothing beyond: forwarded
  // traffic from the bridge goes only back into it (tcp-reset / icmp: a connection fails at once).
  const ipt = (...a: string[]) => sh('iptables', ['-w', ...a]);
  await ipt('-N', fwdChain);
  await ipt('-A', fwdChain, '-i', bridge, '-o', bridge, '-j', 'ACCEPT');
  await ipt('-A', fwdChain, '-i', bridge, '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset');
  await ipt('-A', fwdChain, '-i', bridge, '-j', 'REJECT', '--reject-with', 'icmp-net-prohibited');
  await ipt('-A', fwdChain, '-o', bridge, '-j', 'DROP');
  await ipt('-I', 'FORWARD', '1', '-j', fwdChain);
  writeSysctl('net.bridge.bridge-nf-call-iptables', '1');
  writeSysctl('net.bridge.bridge-nf-call-ip6tables', '1');
  writeSysctl('net.ipv4.ip_forward', '1');
}

function busyboxRootfs(dir: string, applets: string[]): void {
  rmSync(dir, { recursive: true, force: true });
  for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev']) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o1777);
  copyFileSync(busybox, join(dir, 'bin', 'busybox'));
  chmodSync(join(dir, 'bin', 'busybox'), 0o755);
  for (const a of applets) symlinkSync('busybox', join(dir, 'bin', a));
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/home/nonroot:/bin/sh\n');
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\nnonroot:x:65532:\n');
}

/** The sandbox image and the test application image, from the machine's static busybox. */
export function nodeImages(dir: string): ImageSpec[] {
  const pause = join(dir, 'pause');
  busyboxRootfs(pause, ['sh']);
  const app = join(dir, 'test-app');
  busyboxRootfs(app, [
    'sh', 'cat', 'stat', 'ls', 'sleep', 'echo', 'env', 'id', 'wc', 'head', 'tail', 'grep', 'nc', 'httpd', 'ps', 'df',
    'mount', 'test', 'true', 'false', 'printf', 'cut', 'sed', 'awk', 'timeout', 'hostname', 'mkdir', 'touch', 'date', 'tr', 'sort', 'find', 'sha256sum',
  ]);
  return [
    {
      name: PAUSE_IMAGE,
      rootfs: pause,
      // Waits for TERM like the real pause; PID 1 ignores signals it has no handler for.
      config: { Entrypoint: ['/bin/busybox', 'sh', '-c', "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"], Env: ['PATH=/bin'] },
    },
    { name: TEST_APP_IMAGE, rootfs: app, config: { Cmd: ['/bin/sh'], Env: ['PATH=/bin'], WorkingDir: '/' } },
  ];
}

function containerdConfig(root: string, state: string, cniConf: string): string {
  return `version = 2
root = "${root}"
state = "${state}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "${containerdSocket}"
[ttrpc]
  address = "${containerdSocket}.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  # This machine lacks CAP_SYS_RESOURCE: without it every sandbox fails in runc create.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "${join(globalDir, 'runc')}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${cniBin}"
    conf_dir = "${cniConf}"
`;
}

function cniConfig(ipamDir: string): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'secretsync-testenv',
      plugins: [
        {
          type: 'bridge',
          bridge: NODE_NET.bridge,
          isGateway: true,
          ipMasq: false, // nothing leaves the machine, so nothing needs masquerading
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            dataDir: ipamDir,
            ranges: [[{ subnet: NODE_NET.podCidr, gateway: NODE_NET.ip }]],
            routes: [{ dst: '0.0.0.0/0' }],
          },
        },
      ],
    },
    null,
    2,
  );
}

function kubeletConfig(o: { caFile: string; resolvConf: string; podLogs: string }): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${NODE_NET.ip}
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
containerRuntimeEndpoint: unix://${containerdSocket}
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
podLogsDir: ${o.podLogs}
resolvConf: ${o.resolvConf}
clusterDomain: cluster.local
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: ${o.caFile} }
authorization:
  mode: Webhook
# A developer's disk may be fuller than a server's: no eviction, no image GC of the imported images.
evictionHard: { memory.available: "1Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%" }
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
rotateCertificates: false
serverTLSBootstrap: false
`;
}

function kubeProxyConfig(kubeconfig: string, healthz: number, metrics: number): string {
  return `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: ${kubeconfig} }
mode: iptables
clusterCIDR: ${NODE_NET.podCidr}
hostnameOverride: ${NODE_NAME}
bindAddress: ${NODE_NET.ip}
healthzBindAddress: 127.0.0.1:${healthz}
metricsBindAddress: 127.0.0.1:${metrics}
nodePortAddresses: ["${NODE_NET.ip}/32"]
iptables: { localhostNodePorts: false }
# Leave the machine's conntrack settings alone.
conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
`;
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
