// The node's configuration files as text: containerd, the CNI network, the kubelet and
// kube-proxy. Pure functions of the paths and ports they are given.
import { join } from 'node:path';
import { cniBin, containerdSocket, globalDir, NODE_NAME, NODE_NET, PAUSE_IMAGE } from './host.js';

export function containerdConfig(root: string, state: string, cniConf: string): string {
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

export function cniConfig(ipamDir: string): string {
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

export function kubeletConfig(o: { caFile: string; resolvConf: string; podLogs: string }): string {
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

export function kubeProxyConfig(kubeconfig: string, healthz: number, metrics: number): string {
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
