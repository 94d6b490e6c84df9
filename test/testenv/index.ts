// The local test stack, envtest-style: real etcd, kube-apiserver, kube-controller-manager,
// OpenBao and moto on loopback, started by the project itself. Used by `make testenv-up`
// (test/testenv/cli.ts) and by Jest's integration global setup.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateCerts } from './certs.js';
import {
  startApiserver,
  startControllerManager,
  startEtcd,
  startMoto,
  startOpenBao,
  type Layout,
  type Pki,
} from './components.js';
import { stateDir } from './config.js';
import { ensureSecretsyncImage } from './secretsync-image.js';
import { ensureInstalled } from './install.js';
import {
  cleanupNode,
  containerdSocket,
  decideNode,
  NODE_NAME,
  NODE_NET,
  nodeOwnedBy,
  PAUSE_IMAGE,
  prepareNodeNetwork,
  startNode,
  TEST_APP_IMAGE,
} from './node/index.js';
import { freePorts } from './ports.js';
import { isOurs, stopProcess, type RunningProcess } from './process.js';

const run = promisify(execFile);

/** What tests and shells need to reach the stack; written to `.testenv/env.sh`. */
export interface TestenvEnv {
  KUBECONFIG: string;
  VAULT_ADDR: string;
  VAULT_TOKEN: string;
  AWS_ENDPOINT_URL: string;
  AWS_REGION: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  /** Directory holding the stack's kubectl, bao, etcd, ... */
  SECRETSYNC_TESTENV_BIN: string;
  /**
   * PEM file of the CA that signed the client certificate the API server presents to
   * admission webhooks: `--webhook-client-ca` for an operator that requires it. Absent
   * with SECRETSYNC_USE_EXISTING_CLUSTER (that cluster's API server is not ours to configure).
   */
  SECRETSYNC_WEBHOOK_CLIENT_CA?: string;
  /**
   * The stack's etcd client URL (unset on an existing cluster): for tests of objects as an
   * older API server stored them, which today's schema would refuse.
   */
  SECRETSYNC_TESTENV_ETCD?: string;
  /** Set only when the stack has a node (test/testenv/node/): pods run, and reach the stack at these. */
  SECRETSYNC_TESTENV_NODE_NAME?: string;
  /** OpenBao and moto as a pod sees them (the bridge address). */
  POD_VAULT_ADDR?: string;
  POD_AWS_ENDPOINT_URL?: string;
  /** The node's containerd (ctr --address; image-archive.ts importImage). */
  SECRETSYNC_CONTAINERD_ADDRESS?: string;
  /** Images imported at `up`, never pulled: busybox (sh, cat, stat, ls, sleep, nc, httpd, ...; its static wget crashes) and the sandbox. */
  SECRETSYNC_TEST_APP_IMAGE?: string;
  SECRETSYNC_PAUSE_IMAGE?: string;
}

export interface TestenvState {
  /** `local`: we started the apiserver; `existing`: SECRETSYNC_USE_EXISTING_CLUSTER. */
  cluster: 'local' | 'existing';
  startedAt: string;
  processes: RunningProcess[];
  env: TestenvEnv;
}

const log = (msg: string) => process.stderr.write(`[testenv] ${msg}\n`);

function statePath(dir: string): string {
  return join(dir, 'state.json');
}

export function readState(dir = stateDir()): TestenvState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(dir), 'utf8')) as TestenvState;
  } catch {
    return undefined;
  }
}

/** True when every process recorded in the state file is still running. */
export function isRunning(state: TestenvState | undefined): state is TestenvState {
  return !!state && state.processes.length > 0 && state.processes.every(isOurs);
}

function kubeconfigYaml(server: string, pki: Pki): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return `apiVersion: v1
kind: Config
clusters:
- name: secretsync-testenv
  cluster:
    server: ${server}
    certificate-authority-data: ${b64(pki.ca)}
users:
- name: admin
  user:
    client-certificate-data: ${b64(pki.adminCert)}
    client-key-data: ${b64(pki.adminKey)}
contexts:
- name: secretsync-testenv
  context: { cluster: secretsync-testenv, user: admin, namespace: default }
current-context: secretsync-testenv
`;
}

/** kubeConfigFile of a WebhookAdmissionConfiguration: the client certificate for every webhook host ("*"). */
function webhookKubeconfigYaml(certFile: string, keyFile: string): string {
  return `apiVersion: v1
kind: Config
users:
- name: '*'
  user:
    client-certificate: ${certFile}
    client-key: ${keyFile}
`;
}

function admissionConfigYaml(kubeconfig: string): string {
  const plugin = (name: string) => `- name: ${name}
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: ${kubeconfig}
`;
  return `apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
${plugin('MutatingAdmissionWebhook')}${plugin('ValidatingAdmissionWebhook')}`;
}

function envSh(env: TestenvEnv): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const lines = Object.entries(env).map(([k, v]) => `export ${k}=${q(v ?? '')}`);
  lines.push(`export PATH=${q(env.SECRETSYNC_TESTENV_BIN)}:"$PATH"`);
  return `# Generated by secretsync's test stack (make testenv-up). Source it: . .testenv/env.sh\n${lines.join('\n')}\n`;
}

async function writePki(dir: string, apiserverIps: string[] = []): Promise<Pki & { adminCertFile: string; adminKeyFile: string }> {
  const pkiDir = join(dir, 'pki');
  mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
  const c = await generateCerts(apiserverIps);
  const files = {
    webhookClientCaFile: join(pkiDir, 'webhook-client-ca.crt'),
    admissionConfigFile: join(pkiDir, 'admission-config.yaml'),
    caFile: join(pkiDir, 'ca.crt'),
    apiserverCertFile: join(pkiDir, 'apiserver.crt'),
    apiserverKeyFile: join(pkiDir, 'apiserver.key'),
    saPublicKeyFile: join(pkiDir, 'sa.pub'),
    saPrivateKeyFile: join(pkiDir, 'sa.key'),
  };
  writeFileSync(files.caFile, c.ca.cert);
  writeFileSync(files.apiserverCertFile, c.apiserver.cert);
  writeFileSync(files.apiserverKeyFile, c.apiserver.key, { mode: 0o600 });
  writeFileSync(files.saPublicKeyFile, c.serviceAccount.publicKey);
  writeFileSync(files.saPrivateKeyFile, c.serviceAccount.privateKey, { mode: 0o600 });
  // The API server's identity towards admission webhooks (AdmissionConfiguration, as a
  // cluster admin sets it with --admission-control-config-file).
  const webhookCert = join(pkiDir, 'webhook-client.crt');
  const webhookKey = join(pkiDir, 'webhook-client.key');
  const webhookKubeconfig = join(pkiDir, 'webhook-kubeconfig.yaml');
  writeFileSync(files.webhookClientCaFile, c.webhookClient.ca.cert);
  writeFileSync(webhookCert, c.webhookClient.cert.cert);
  writeFileSync(webhookKey, c.webhookClient.cert.key, { mode: 0o600 });
  writeFileSync(webhookKubeconfig, webhookKubeconfigYaml(webhookCert, webhookKey), { mode: 0o600 });
  writeFileSync(files.admissionConfigFile, admissionConfigYaml(webhookKubeconfig));
  // The API server's client identity towards the kubelet (logs, exec).
  const adminCertFile = join(pkiDir, 'admin.crt');
  const adminKeyFile = join(pkiDir, 'admin.key');
  writeFileSync(adminCertFile, c.admin.cert);
  writeFileSync(adminKeyFile, c.admin.key, { mode: 0o600 });
  return { ...files, adminCertFile, adminKeyFile, ca: c.ca.cert, adminCert: c.admin.cert, adminKey: c.admin.key };
}

async function existingClusterReachable(bin: string, kubeconfig: string): Promise<boolean> {
  try {
    const { stdout } = await run(join(bin, 'kubectl'), ['get', '--raw', '/readyz'], {
      env: { ...process.env, KUBECONFIG: kubeconfig },
      timeout: 15_000,
    });
    return stdout.trim() === 'ok';
  } catch {
    return false;
  }
}

/**
 * Starts the stack (or returns the one already running from this state dir) and
 * writes `state.json`, `kubeconfig` and `env.sh` there. Idempotent.
 */
export async function up(dir = stateDir()): Promise<TestenvState> {
  const previous = readState(dir);
  if (isRunning(previous)) {
    log(`already running (${dir})`);
    // This checkout's image on the node, rebuilt when the sources changed since.
    await ensureImage(previous, dir);
    return previous;
  }
  if (previous) {
    log('a previous stack is partly down; stopping what is left of it');
    await down(dir);
  }
  const bin = await ensureInstalled();
  const useExisting = process.env.SECRETSYNC_USE_EXISTING_CLUSTER === '1';
  const node = await decideNode(dir);
  if (!node.on) log(`no node in this stack (${node.reason}): pods stay Pending and the pod tests skip`);
  if (nodeOwnedBy(dir)) await cleanupNode(dir); // ours from a killed run, before its dir goes
  rmSync(dir, { recursive: true, force: true });
  const logs = join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const layout: Layout = { bin, state: dir, logs };

  const started: RunningProcess[] = [];
  const track = async (p: Promise<RunningProcess>) => {
    const r = await p;
    started.push(r);
    log(`${r.name} ready (pid ${r.pid})`);
    return r;
  };
  // Record the state as we go, so that `down` can stop a half-started stack.
  const state: TestenvState = {
    cluster: useExisting ? 'existing' : 'local',
    startedAt: new Date().toISOString(),
    processes: started,
    env: {} as TestenvEnv,
  };

  try {
    const [etcdClient, etcdPeer, apiPort, kcmPort, baoPort, motoPort, schedPort, proxyHealthz, proxyMetrics] =
      (await freePorts(9)) as [number, number, number, number, number, number, number, number, number];
    // With a node, the API server, OpenBao and moto listen on the bridge's address (pods
    // reach them there; so does this machine) instead of loopback.
    const host = node.on ? NODE_NET.ip : '127.0.0.1';
    const stackStart = Date.now();
    if (node.on) await prepareNodeNetwork(dir, bin);
    const rootToken = `root-${randomBytes(12).toString('hex')}`;
    const kubeconfigFile = join(dir, 'kubeconfig');
    let webhookClientCa: string | undefined;

    const kube = async (): Promise<string> => {
      if (useExisting) {
        const kc = process.env.KUBECONFIG;
        if (!kc || !(await existingClusterReachable(bin, kc))) {
          throw new Error(
            'SECRETSYNC_USE_EXISTING_CLUSTER=1 but KUBECONFIG is unset or its cluster is not reachable ' +
              '(`kubectl get --raw /readyz` did not print ok). Fix KUBECONFIG or unset SECRETSYNC_USE_EXISTING_CLUSTER.',
          );
        }
        log(`using the existing cluster from KUBECONFIG=${kc}`);
        return kc;
      }
      const pki = await writePki(dir, node.on ? [NODE_NET.ip, NODE_NET.kubernetesServiceIp] : []);
      webhookClientCa = pki.webhookClientCaFile;
      await track(startEtcd(layout, etcdClient, etcdPeer));
      const nodeArgs = node.on
        ? [
            // The node's name is not in any resolver of ours: the API server dials its InternalIP.
            '--kubelet-preferred-address-types=InternalIP',
            `--kubelet-client-certificate=${pki.adminCertFile}`,
            `--kubelet-client-key=${pki.adminKeyFile}`,
          ]
        : [];
      await track(startApiserver(layout, pki, apiPort, etcdClient, { host, extraArgs: nodeArgs }));
      const apiserverUrl = `https://${host}:${apiPort}`;
      writeFileSync(kubeconfigFile, kubeconfigYaml(apiserverUrl, pki), { mode: 0o600 });
      await track(startControllerManager(layout, pki, kubeconfigFile, kcmPort));
      if (node.on) {
        await startNode({
          stateDir: dir,
          bin,
          logs,
          caFile: pki.caFile,
          ca: pki.ca,
          adminCert: pki.adminCert,
          adminKey: pki.adminKey,
          kubeconfig: kubeconfigFile,
          apiserverUrl,
          ports: { scheduler: schedPort, proxyHealthz, proxyMetrics },
          track,
        });
        log(`node ready after ${((Date.now() - stackStart) / 1000).toFixed(1)} s (since stack start)`);
      }
      return kubeconfigFile;
    };

    log(`starting etcd, kube-apiserver, kube-controller-manager, OpenBao and moto on ${host}${node.on ? ', then the node' : ''}`);
    const results = await Promise.allSettled([
      kube(),
      track(startOpenBao(layout, baoPort, rootToken, host)),
      track(startMoto(layout, motoPort, host)),
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    state.env = {
      KUBECONFIG: (results[0] as PromiseFulfilledResult<string>).value,
      VAULT_ADDR: `http://${host}:${baoPort}`,
      VAULT_TOKEN: rootToken,
      AWS_ENDPOINT_URL: `http://${host}:${motoPort}`,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      SECRETSYNC_TESTENV_BIN: bin,
      ...(webhookClientCa ? { SECRETSYNC_WEBHOOK_CLIENT_CA: webhookClientCa } : {}),
      ...(useExisting ? {} : { SECRETSYNC_TESTENV_ETCD: `http://127.0.0.1:${etcdClient}` }),
      ...(node.on
        ? {
            SECRETSYNC_TESTENV_NODE_NAME: NODE_NAME,
            POD_VAULT_ADDR: `http://${host}:${baoPort}`,
            POD_AWS_ENDPOINT_URL: `http://${host}:${motoPort}`,
            SECRETSYNC_CONTAINERD_ADDRESS: containerdSocket,
            SECRETSYNC_TEST_APP_IMAGE: TEST_APP_IMAGE,
            SECRETSYNC_PAUSE_IMAGE: PAUSE_IMAGE,
          }
        : {}),
    };
    writeFileSync(statePath(dir), JSON.stringify(state, null, 2));
    writeFileSync(join(dir, 'env.sh'), envSh(state.env));
    await ensureImage(state, dir);
    return state;
  } catch (err) {
    log('start-up failed; stopping what was started');
    await Promise.all(started.map((p) => stopProcess(p)));
    if (nodeOwnedBy(dir)) await cleanupNode(dir);
    writeFileSync(statePath(dir), JSON.stringify({ ...state, processes: [] }, null, 2));
    throw err;
  }
}

/**
 * The secretsync image of this checkout on the node (nothing without a node): built and
 * imported at `up`, and again by each integration run when the sources changed since.
 */
export async function ensureImage(state: TestenvState, dir = stateDir()): Promise<void> {
  const img = await ensureSecretsyncImage(join(dir, 'node', 'images'), state.env, log);
  if (img) log(`${img.name} (${img.id.slice(0, 19)}) ${img.imported ? 'imported' : 'already on the node'} in ${img.seconds.toFixed(1)} s`);
}

/** Stops every process recorded in the state dir. Safe to call when nothing runs. */
export async function down(dir = stateDir()): Promise<void> {
  const state = readState(dir);
  if (!state) return;
  // Reverse start order: the controller-manager and apiserver before etcd.
  for (const p of [...state.processes].reverse()) {
    await stopProcess(p);
    log(`${p.name} stopped`);
  }
  if (nodeOwnedBy(dir)) await cleanupNode(dir);
  rmSync(statePath(dir), { force: true });
  rmSync(join(dir, 'env.sh'), { force: true });
  // Data dirs are throwaway; logs stay for post-mortems until the next `up`.
  for (const d of ['etcd', 'apiserver', 'kube-controller-manager', 'bao-home', 'pki', 'kubeconfig', 'node']) {
    rmSync(join(dir, d), { recursive: true, force: true });
  }
}

/** Puts the stack's variables into this process's environment (for tests). */
export function exportEnv(state: TestenvState, env: NodeJS.ProcessEnv = process.env): void {
  Object.assign(env, state.env);
  env.PATH = `${state.env.SECRETSYNC_TESTENV_BIN}:${env.PATH ?? ''}`;
}

