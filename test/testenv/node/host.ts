// Machine-global state of the stack's node: where it lives under /run, which stack owns
// it (owner.json: that stack's dir and every process to stop), the kernel settings it
// changes, and the small shell helpers the other node files share.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RunningProcess } from '../process.js';

const run = promisify(execFile);
export const log = (msg: string) => process.stderr.write(`[testenv] ${msg}\n`);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

export const globalDir = '/run/secretsync-testenv-node';
export const ownerFile = join(globalDir, 'owner.json');
export const sysctlFile = join(globalDir, 'sysctl.orig.json');
export const containerdSocket = join(globalDir, 'containerd.sock');
export const fwdChain = 'SECRETSYNC-NODE-FWD';
/** Marks /var/lib/kubelet as our node's, so a kubelet of the machine's own is never touched. */
export const kubeletMarker = '/var/lib/kubelet/.secretsync-testenv';
export const busybox = '/bin/busybox';
export const cniBin = '/usr/lib/cni';
/** What the node changes in the kernel (the kubelet sets the vm./kernel. ones itself): put back at `down`. */
export const sysctls = [
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
export const sysPath = (k: string) => `/proc/sys/${k.replace(/\./g, '/')}`;
export const nodeEnv = (): NodeJS.ProcessEnv => ({ ...process.env, PATH: `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${process.env.PATH ?? ''}` });

export interface Owner {
  stateDir: string;
  bin: string;
  processes: RunningProcess[];
  dirs: string[];
}

/** True when the node on this machine (running or left by a killed run) belongs to the stack in `stateDir`. */
export function nodeOwnedBy(stateDir: string): boolean {
  return readOwner()?.stateDir === stateDir;
}

export function readOwner(): Owner | undefined {
  try {
    return JSON.parse(readFileSync(ownerFile, 'utf8')) as Owner;
  } catch {
    return undefined;
  }
}
export function writeOwner(o: Owner): void {
  mkdirSync(globalDir, { recursive: true, mode: 0o700 });
  writeFileSync(ownerFile, JSON.stringify(o, null, 2));
}

export async function sh(cmd: string, args: string[], quiet = false): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { env: nodeEnv(), maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
    return stdout;
  } catch (err) {
    if (quiet) return '';
    throw err;
  }
}

export function which(cmd: string): boolean {
  return nodeEnv().PATH!.split(':').some((d) => d && existsSync(join(d, cmd)));
}

export async function readSysctl(k: string): Promise<string | undefined> {
  try {
    return readFileSync(sysPath(k), 'utf8').trim();
  } catch {
    return undefined;
  }
}
export function writeSysctl(k: string, v: string): void {
  try {
    writeFileSync(sysPath(k), v);
  } catch (err) {
    log(`node: could not set ${k}=${v}: ${(err as Error).message}`);
  }
}

export function safeDirs(d: string): string[] {
  try {
    return readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

export function safeFiles(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

export async function linkExists(name: string): Promise<boolean> {
  return existsSync(`/sys/class/net/${name}`);
}
