// Runs `secretsync agent` as what it is in a pod: a separate process with a service
// account's identity, never the stack's admin. A kubeconfig holds a TokenRequest token of
// the service account (the in-cluster token's stand-in), a second TokenRequest token of
// audience "vault" is the projected token for Vault login, and RBAC grants exactly the
// verbs a test names on exactly one Secret. Every run's stdout and stderr are kept so a
// test can look for leaked values in them.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuthorizationV1Api, CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { repoRoot } from '../testenv/config.js';
import { eventually } from './eventually.js';
import { recordStream } from './leak-record.js';

export interface AgentIdentity {
  namespace: string;
  serviceAccount: string;
  kubeconfig: string;
  /** A projected-style token of audience "vault". */
  vaultTokenFile: string;
  /** Both tokens, to check they never reach the output. */
  tokens: string[];
}

async function token(core: CoreV1Api, namespace: string, name: string, audiences: string[]): Promise<string> {
  const tr = await core.createNamespacedServiceAccountToken({ name, namespace, body: { spec: { audiences, expirationSeconds: 3600 } } });
  const t = tr.status?.token;
  if (!t) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  return t;
}

/** Creates service account `name` (if absent) and writes its kubeconfig and Vault token file into `dir`. */
export async function agentIdentity(kc: KubeConfig, namespace: string, name: string, dir: string): Promise<AgentIdentity> {
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } }).catch((err: unknown) => {
    if ((err as { code?: number }).code !== 409) throw err;
  });
  const apiToken = await token(core, namespace, name, []);
  const vaultToken = await token(core, namespace, name, ['vault']);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the stack kubeconfig has no current cluster');
  const kubeconfig = join(dir, `${namespace}-${name}.kubeconfig`);
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'testenv', cluster: { server: cluster.server, ...(cluster.caData ? { 'certificate-authority-data': cluster.caData } : {}) } }],
      users: [{ name, user: { token: apiToken } }],
      contexts: [{ name, context: { cluster: 'testenv', user: name, namespace } }],
      'current-context': name,
    }),
    { mode: 0o600 },
  );
  const vaultTokenFile = join(dir, `${namespace}-${name}.vault-token`);
  writeFileSync(vaultTokenFile, `${vaultToken}\n`, { mode: 0o600 });
  return { namespace, serviceAccount: name, kubeconfig, vaultTokenFile, tokens: [apiToken, vaultToken] };
}

/**
 * A Role granting `verbs` on exactly Secret `secret`, and `get` on exactly SecretSync `sync`
 * (default: named like the Secret; the agent reads its uid), and a RoleBinding to `who`, as
 * the operator's spec.access does; waits until the authorizer has seen it.
 */
export async function allowSecret(kc: KubeConfig, who: AgentIdentity, secret: string, verbs: string[] = ['get'], sync = secret): Promise<void> {
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const name = `agent-${who.serviceAccount}-${secret}`.slice(0, 253);
  const namespace = who.namespace;
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name },
      rules: [
        { apiGroups: [''], resources: ['secrets'], resourceNames: [secret], verbs },
        { apiGroups: ['secretsync.io'], resources: ['secretsyncs'], resourceNames: [sync], verbs: ['get'] },
      ],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name: who.serviceAccount, namespace }],
    },
  });
  const sa = new KubeConfig();
  sa.loadFromFile(who.kubeconfig);
  const authz = sa.makeApiClient(AuthorizationV1Api);
  await eventually(
    async () => {
      for (const verb of verbs) {
        const r = await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace, resource: 'secrets', name: secret, verb } } } });
        if (r.status?.allowed !== true) return undefined;
      }
      const ss = await authz.createSelfSubjectAccessReview({
        body: { spec: { resourceAttributes: { namespace, group: 'secretsync.io', resource: 'secretsyncs', name: sync, verb: 'get' } } },
      });
      return ss.status?.allowed === true ? true : undefined;
    },
    { what: `RBAC ${verbs.join(',')} on Secret ${namespace}/${secret} for ${who.serviceAccount}` },
  );
}

export interface AgentRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Every run's output, for the leak checks. */
export const agentOutputs: AgentRun[] = [];

/** The environment of an agent process: only what a pod would have, plus `extra`. */
function agentEnv(who: AgentIdentity, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'NODE_OPTIONS', 'LANG'];
  const env: NodeJS.ProcessEnv = Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]));
  return { ...env, KUBECONFIG: who.kubeconfig, ...extra };
}

export interface RunningAgent {
  proc: ChildProcess;
  run: AgentRun;
  exited: Promise<AgentRun>;
  stop(signal?: NodeJS.Signals): Promise<AgentRun>;
}

export function startAgent(who: AgentIdentity, args: string[], extra: NodeJS.ProcessEnv = {}): RunningAgent {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli.ts'), 'agent', ...args, `--vault-token-file=${who.vaultTokenFile}`], {
    cwd: repoRoot,
    env: agentEnv(who, extra),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: AgentRun = { code: null, stdout: '', stderr: '' };
  agentOutputs.push(run);
  const record = recordStream('agent');
  proc.stdout?.on('data', (c: Buffer) => (record(c), (run.stdout += c.toString('utf8'))));
  proc.stderr?.on('data', (c: Buffer) => (record(c), (run.stderr += c.toString('utf8'))));
  const exited = new Promise<AgentRun>((resolve) =>
    proc.on('close', (code) => {
      run.code = code;
      resolve(run);
    }),
  );
  return {
    proc,
    run,
    exited,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      try {
        return await exited;
      } finally {
        clearTimeout(t);
      }
    },
  };
}

/** Runs `secretsync agent <args>` to its end. */
export function runAgent(who: AgentIdentity, args: string[], extra: NodeJS.ProcessEnv = {}): Promise<AgentRun> {
  const a = startAgent(who, args, extra);
  const t = setTimeout(() => a.proc.kill('SIGKILL'), 60_000);
  return a.exited.finally(() => clearTimeout(t));
}

/**
 * Vault Kubernetes auth at `authMount` that reviews tokens against the stack's apiserver
 * (with a reviewer service account of `namespace` bound to system:auth-delegator), and a
 * role `role` for `serviceAccounts` of `namespace` (audience vault) whose policy allows only
 * `transit/decrypt` of `transitMount`/`key`: what pods of an envelope-mode SecretSync need.
 * Returns a cleanup.
 */
export async function agentVaultAuth(
  kc: KubeConfig,
  root: { write(path: string, body: unknown): Promise<unknown>; delete(path: string): Promise<unknown> },
  o: { namespace: string; dir: string; authMount: string; transitMount: string; key: string; role: string; serviceAccounts: string[] },
): Promise<() => Promise<void>> {
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const reviewer = await agentIdentity(kc, o.namespace, 'vault-reviewer', o.dir);
  const binding = `${o.namespace}-vault-tokenreview`;
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: binding },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
      subjects: [{ kind: 'ServiceAccount', name: 'vault-reviewer', namespace: o.namespace }],
    },
  });
  const cluster = kc.getCurrentCluster();
  await root.write(`sys/auth/${o.authMount}`, { type: 'kubernetes' });
  await root.write(`auth/${o.authMount}/config`, {
    kubernetes_host: cluster?.server,
    kubernetes_ca_cert: Buffer.from(cluster?.caData ?? '', 'base64').toString('utf8'),
    token_reviewer_jwt: reviewer.tokens[0],
    disable_local_ca_jwt: true,
  });
  const policy = `${o.authMount}-${o.role}`;
  await root.write(`sys/policy/${policy}`, { policy: `path "${o.transitMount}/decrypt/${o.key}" { capabilities = ["update"] }` });
  await root.write(`auth/${o.authMount}/role/${o.role}`, {
    bound_service_account_names: o.serviceAccounts,
    bound_service_account_namespaces: [o.namespace],
    audience: 'vault',
    token_policies: [policy],
    token_ttl: '10m',
  });
  return async () => {
    await rbac.deleteClusterRoleBinding({ name: binding }).catch(() => undefined);
    await root.delete(`sys/auth/${o.authMount}`).catch(() => undefined);
    await root.delete(`sys/policy/${policy}`).catch(() => undefined);
  };
}
