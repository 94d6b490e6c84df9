// Runs hack/testenv/install.sh (build or reuse the cached binaries), streaming its progress.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, installScript } from './config.js';

const binaries = [
  'etcd', 'kube-apiserver', 'kube-controller-manager', 'kubectl', 'kubelet', 'kube-scheduler', 'kube-proxy', 'bao', 'moto_server', 'helm',
];

export function isInstalled(dir = cacheDir()): boolean {
  return binaries.every((b) => existsSync(join(dir, 'bin', b)));
}

/** Returns the bin dir. Progress goes to our stderr, since the first build takes minutes. */
export async function ensureInstalled(): Promise<string> {
  const dir = cacheDir();
  if (!isInstalled(dir)) {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('bash', [installScript, 'all'], { stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('error', reject);
      child.on('exit', (code, signal) =>
        code === 0 ? resolve() : reject(new Error(`${installScript} failed (exit ${code ?? signal}); see its output above`)),
      );
    });
  }
  return join(dir, 'bin');
}

/**
 * The cached helm (built by install.sh on first use: a stack started before helm joined
 * the cache has none yet). Returns its path.
 */
export async function ensureHelm(dir = cacheDir()): Promise<string> {
  const helm = join(dir, 'bin', 'helm');
  if (existsSync(helm)) return helm;
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', [installScript, 'helm'], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${installScript} helm failed (exit ${code ?? signal})`))));
  });
  return helm;
}
