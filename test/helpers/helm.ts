// helm and kubectl as processes, the way a user runs them against the stack: the cached
// helm (hack/testenv/install.sh), the stack's admin KUBECONFIG, and a throwaway helm home
// so no user or other test's repositories, plugins or caches are read.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Container, V1Deployment, V1PodSpec } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../testenv/config.js';
import { ensureHelm } from '../testenv/install.js';
import { requireEnv } from './stack.js';

export const chartDir = join(repoRoot, 'charts', 'secretsync');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [k: string]: unknown;
}

const home = mkdtempSync(join(tmpdir(), 'secretsync-helm-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const helmEnv = () => ({
  ...process.env,
  HOME: home,
  HELM_CONFIG_HOME: join(home, 'config'),
  HELM_CACHE_HOME: join(home, 'cache'),
  HELM_DATA_HOME: join(home, 'data'),
});

/** Runs `bin args` with `stdin`; resolves stdout, rejects with the command and its stderr. */
export function run(bin: string, args: string[], stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: helmEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${bin.split('/').pop()} ${args.join(' ')} exited ${code}:\n${err}${out}`)),
    );
    child.stdin.end(stdin ?? '');
  });
}

/** SECRETSYNC_HELM picks another helm binary (e.g. a Helm 3 build, to run the chart tests with it). */
export async function helm(...args: string[]): Promise<string> {
  return run(process.env.SECRETSYNC_HELM || (await ensureHelm()), args);
}

export function kubectl(args: string[], stdin?: string): Promise<string> {
  return run(join(requireEnv('SECRETSYNC_TESTENV_BIN'), 'kubectl'), args, stdin);
}

/** `--set k=v` pairs from an object. */
export function setArgs(values: Record<string, string | number | boolean> = {}): string[] {
  return Object.entries(values).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
}

export function parseManifests(yaml: string): K8sObject[] {
  return parseAllDocuments(yaml)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => !!o && typeof o === 'object' && 'kind' in o);
}

/** `helm template` of the chart into `namespace`, parsed. */
export async function template(release: string, namespace: string, values: Record<string, string | number | boolean> = {}): Promise<K8sObject[]> {
  return parseManifests(await helm('template', release, chartDir, '--namespace', namespace, ...setArgs(values)));
}

export const find = (objs: K8sObject[], kind: string, name?: string): K8sObject => {
  const o = objs.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o) throw new Error(`no ${kind}${name ? ` ${name}` : ''} among ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
};

/** The rendered Deployment's pod spec and its (only) container. */
export function podSpec(objs: K8sObject[]): V1PodSpec {
  const spec = (find(objs, 'Deployment') as unknown as V1Deployment).spec?.template.spec;
  if (!spec?.containers[0]) throw new Error('the Deployment has no container');
  return spec;
}

export const operatorContainer = (objs: K8sObject[]): V1Container => podSpec(objs).containers[0] as V1Container;
