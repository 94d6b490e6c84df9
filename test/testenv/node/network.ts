// The node's network, set up before the API server, OpenBao and moto start (they listen
// on the bridge's address).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupNode } from './cleanup.js';
import { fwdChain, globalDir, kubeletMarker, NODE_NET, readSysctl, sh, sysctlFile, sysctls, writeOwner, writeSysctl } from './host.js';

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
