// The stack's components: how each is started and how we know it is healthy.
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { http } from './http.js';
import { startProcess, waitHealthy, type RunningProcess } from './process.js';

export interface Layout {
  bin: string;
  state: string;
  logs: string;
}

export interface Pki {
  caFile: string;
  apiserverCertFile: string;
  apiserverKeyFile: string;
  saPublicKeyFile: string;
  saPrivateKeyFile: string;
  ca: string;
  adminCert: string;
  adminKey: string;
  /** The CA of the API server's webhook client certificate (the operator's --webhook-client-ca). */
  webhookClientCaFile: string;
  /** AdmissionConfiguration: admission webhooks get the API server's client certificate. */
  admissionConfigFile: string;
}

const START_TIMEOUT_MS = 90_000;

export async function startEtcd(l: Layout, clientPort: number, peerPort: number): Promise<RunningProcess> {
  const data = join(l.state, 'etcd');
  mkdirSync(data, { recursive: true });
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const p = startProcess({
    name: 'etcd',
    command: join(l.bin, 'etcd'),
    args: [
      `--data-dir=${data}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      '--unsafe-no-fsync=true', // a throwaway test store: durability buys nothing here
      '--log-level=warn',
    ],
    logFile: join(l.logs, 'etcd.log'),
  });
  await waitHealthy(p, async () => (await http(`${client}/health`)).body.includes('"health":"true"'), START_TIMEOUT_MS);
  return p;
}

/** Where the API server listens and what it advertises: loopback, or the node's bridge address. */
export interface ApiserverNet {
  host: string;
  extraArgs: string[];
}

export async function startApiserver(
  l: Layout,
  pki: Pki,
  port: number,
  etcdPort: number,
  net: ApiserverNet = { host: '127.0.0.1', extraArgs: [] },
): Promise<RunningProcess> {
  const certDir = join(l.state, 'apiserver');
  mkdirSync(certDir, { recursive: true });
  const p = startProcess({
    name: 'kube-apiserver',
    command: join(l.bin, 'kube-apiserver'),
    args: [
      `--advertise-address=${net.host}`,
      `--bind-address=${net.host}`,
      `--secure-port=${port}`,
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      `--cert-dir=${certDir}`,
      `--tls-cert-file=${pki.apiserverCertFile}`,
      `--tls-private-key-file=${pki.apiserverKeyFile}`,
      `--client-ca-file=${pki.caFile}`,
      // Webhooks are called with a client certificate (kubeConfigFile users "*"), so a
      // webhook may require it (--webhook-client-ca); one that does not ask never sees it.
      `--admission-control-config-file=${pki.admissionConfigFile}`,
      '--authorization-mode=RBAC',
      '--service-cluster-ip-range=10.96.0.0/16',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki.saPublicKeyFile}`,
      `--service-account-signing-key-file=${pki.saPrivateKeyFile}`,
      '--allow-privileged=true',
      '--profiling=false',
      '--v=1',
      ...net.extraArgs,
    ],
    logFile: join(l.logs, 'kube-apiserver.log'),
  });
  await waitHealthy(
    p,
    async () => {
      const r = await http(`https://${net.host}:${port}/readyz`, { ca: pki.ca, cert: pki.adminCert, key: pki.adminKey });
      return r.status === 200 && r.body.trim() === 'ok';
    },
    START_TIMEOUT_MS,
  );
  return p;
}

export async function startControllerManager(
  l: Layout,
  pki: Pki,
  kubeconfig: string,
  port: number,
): Promise<RunningProcess> {
  const certDir = join(l.state, 'kube-controller-manager');
  mkdirSync(certDir, { recursive: true });
  const p = startProcess({
    name: 'kube-controller-manager',
    command: join(l.bin, 'kube-controller-manager'),
    args: [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${certDir}`,
      '--leader-elect=false',
      `--root-ca-file=${pki.caFile}`,
      `--service-account-private-key-file=${pki.saPrivateKeyFile}`,
      '--cluster-name=secretsync-testenv',
      '--profiling=false',
      '--v=1',
    ],
    logFile: join(l.logs, 'kube-controller-manager.log'),
  });
  // Its serving cert is self-signed in cert-dir; this is a loopback liveness probe only.
  await waitHealthy(
    p,
    async () => (await http(`https://127.0.0.1:${port}/healthz`, { insecure: true })).status === 200,
    START_TIMEOUT_MS,
  );
  return p;
}

export async function startOpenBao(l: Layout, port: number, rootToken: string, host = '127.0.0.1'): Promise<RunningProcess> {
  const home = join(l.state, 'bao-home'); // -dev writes ~/.vault-token; keep it out of the user's HOME
  mkdirSync(home, { recursive: true });
  const addr = `http://${host}:${port}`;
  const p = startProcess({
    name: 'openbao',
    command: join(l.bin, 'bao'),
    args: ['server', '-dev', `-dev-root-token-id=${rootToken}`, `-dev-listen-address=${host}:${port}`],
    env: { ...process.env, HOME: home, BAO_ADDR: addr, VAULT_ADDR: addr },
    logFile: join(l.logs, 'openbao.log'),
  });
  await waitHealthy(
    p,
    () =>
      new Promise((resolve) =>
        execFile(
          join(l.bin, 'bao'),
          ['status'],
          { env: { ...process.env, HOME: home, BAO_ADDR: addr, VAULT_ADDR: addr }, timeout: 5000 },
          (err) => resolve(!err), // exit 0: initialised and unsealed
        ),
      ),
    START_TIMEOUT_MS,
  );
  return p;
}

export async function startMoto(l: Layout, port: number, host = '127.0.0.1'): Promise<RunningProcess> {
  const p = startProcess({
    name: 'moto',
    command: join(l.bin, 'moto_server'),
    args: ['-H', host, '-p', String(port)],
    logFile: join(l.logs, 'moto.log'),
  });
  await waitHealthy(
    p,
    async () => {
      const r = await http(`http://${host}:${port}/`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'secretsmanager.ListSecrets',
          authorization:
            'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0',
        },
        body: '{}',
      });
      return r.status === 200 && r.body.includes('SecretList');
    },
    START_TIMEOUT_MS,
  );
  return p;
}
