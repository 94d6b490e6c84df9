// The node's configuration texts (test/testenv/node/config.ts) carry what this machine
// needs (see issue 19's trial run) and keep traffic on it; the iptables rule splitter
// used by the cleanup keeps quoted comments whole.
import { cniConfig, containerdConfig, kubeletConfig, kubeProxyConfig } from '../../../testenv/node/config.js';
import { NODE_NET, PAUSE_IMAGE } from '../../../testenv/node/host.js';
import { shellSplit } from '../../../testenv/node/iptables.js';

test('containerd: restrict_oom_score_adj (no CAP_SYS_RESOURCE here), runc with cgroupfs, our pause image, our CNI dir', () => {
  const toml = containerdConfig('/s/root', '/s/state', '/s/cni');
  expect(toml).toContain('restrict_oom_score_adj = true');
  expect(toml).toContain(`sandbox_image = "${PAUSE_IMAGE}"`);
  expect(toml).toContain('SystemdCgroup = false');
  expect(toml).toContain('conf_dir = "/s/cni"');
  expect(toml).toMatch(/^root = "\/s\/root"$/m);
});

test('CNI: a bridge with the gateway on the node address, no masquerading', () => {
  const conf = JSON.parse(cniConfig('/s/ipam')) as { plugins: { type: string; bridge: string; isGateway: boolean; ipMasq: boolean; ipam: { ranges: { subnet: string; gateway: string }[][] } }[] };
  const bridge = conf.plugins[0]!;
  expect(bridge).toMatchObject({ type: 'bridge', bridge: NODE_NET.bridge, isGateway: true, ipMasq: false });
  expect(bridge.ipam.ranges).toEqual([[{ subnet: NODE_NET.podCidr, gateway: NODE_NET.ip }]]);
});

test('kubelet: cgroupfs, no swap or cgroup v1 refusal, our resolv.conf, webhook authz, no read-only port', () => {
  const y = kubeletConfig({ caFile: '/p/ca.crt', resolvConf: '/s/resolv.conf', podLogs: '/s/pod-logs' });
  for (const line of ['cgroupDriver: cgroupfs', 'failSwapOn: false', 'failCgroupV1: false', 'resolvConf: /s/resolv.conf', 'podLogsDir: /s/pod-logs', 'readOnlyPort: 0', 'mode: Webhook', `address: ${NODE_NET.ip}`]) {
    expect(y).toContain(line);
  }
});

test('kube-proxy: NodePorts only on the bridge address, no localhost NodePorts, conntrack left alone', () => {
  const y = kubeProxyConfig('/s/kubeconfig', 1, 2);
  expect(y).toContain(`nodePortAddresses: ["${NODE_NET.ip}/32"]`);
  expect(y).toContain('localhostNodePorts: false');
  expect(y).toContain('maxPerCore: 0');
});

test('shellSplit keeps a quoted iptables comment as one argument', () => {
  expect(shellSplit('KUBE-SERVICES -m comment --comment "kubernetes service portals" -j KUBE-SERVICES')).toEqual([
    'KUBE-SERVICES', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES',
  ]);
  expect(shellSplit('FORWARD -m comment --comment "say \\"hi\\"" -j ACCEPT')).toEqual(['FORWARD', '-m', 'comment', '--comment', 'say "hi"', '-j', 'ACCEPT']);
});
