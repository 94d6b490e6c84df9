// Runs a process in a root filesystem with runc, the way a kubelet's container runs it:
// a read-only root, no capabilities, no new privileges, its own pid/ipc/uts/mount
// namespaces and either no network (a fresh namespace with only lo) or the host's.
// The bundle and runc's state live in a temp dir removed afterwards.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ContainerProcess {
  args: string[];
  uid: number;
  gid: number;
  env?: string[];
  cwd?: string;
  network?: 'none' | 'host';
}

export interface ContainerResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The OCI runtime config (runtime-spec 1.0.2) for `p` in `rootfs`. */
export function ociConfig(rootfs: string, p: ContainerProcess): object {
  const noCaps = { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] };
  const ro = ['nosuid', 'noexec', 'nodev', 'ro'];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: p.uid, gid: p.gid },
      args: p.args,
      env: p.env ?? [],
      cwd: p.cwd ?? '/',
      capabilities: noCaps,
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: rootfs, readonly: true },
    hostname: 'runc-test',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ro },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, ...(p.network === 'host' ? [] : [{ type: 'network' }])],
      maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/** runc on PATH; as root, Debian's package is installed where it is missing. False where it cannot be had. */
export async function ensureRunc(): Promise<boolean> {
  const has = () => new Promise<boolean>((resolve) => execFile('runc', ['--version'], (err) => resolve(!err)));
  if (await has()) return true;
  if (process.getuid?.() !== 0) return false;
  await new Promise<void>((resolve, reject) =>
    execFile('apt-get', ['install', '-y', '-q', 'runc'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }, (err, _out, stderr) =>
      err ? reject(new Error(`apt-get install runc: ${stderr}`)) : resolve(),
    ),
  );
  return has();
}

let seq = 0;

/** `runc run` of `p` in `rootfs` to its end; stdout and stderr as it wrote them. */
export async function runInContainer(rootfs: string, p: ContainerProcess, timeoutMs = 60_000): Promise<ContainerResult> {
  const dir = mkdtempSync(join(tmpdir(), 'secretsync-runc-'));
  const id = `secretsync-test-${process.pid}-${++seq}`;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(ociConfig(rootfs, p)));
  try {
    return await new Promise<ContainerResult>((resolve) => {
      execFile('runc', ['--root', join(dir, 'state'), 'run', '--bundle', dir, id], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
