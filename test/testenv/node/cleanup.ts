// Undoing a node: its processes and every pod's, mounts, cgroups, iptables chains, the
// bridge, the kubelet's and CNI's files, /run/containerd leftovers, and the sysctls.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { stopProcess } from '../process.js';
import {
  containerdSocket,
  globalDir,
  kubeletMarker,
  linkExists,
  log,
  NODE_NET,
  readOwner,
  readSysctl,
  safeDirs,
  safeFiles,
  sh,
  sleep,
  sysctlFile,
  writeSysctl,
} from './host.js';
import { sweepIptables } from './iptables.js';

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
  if (!owner && !existsSync(sysctlFile) && !existsSync(kubeletMarker) && !(await linkExists(NODE_NET.bridge))) return;
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
