// The kubeconfig order `secretsync operator --help` states: --kubeconfig, else $KUBECONFIG
// (files merged), else ~/.kube/config (the in-cluster service account and localhost come
// after these and are not reachable from a unit test).
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPERATOR_HELP } from '../../../src/flags.js';
import { loadKubeConfig } from '../../../src/kube/clients.js';

const kubeconfig = (server: string) => `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "${server}" } }]
users: [{ name: u, user: { token: "t" } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`;

let dir: string;
const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME };
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
  mkdirSync(join(dir, 'home', '.kube'), { recursive: true });
  writeFileSync(join(dir, 'home', '.kube', 'config'), kubeconfig('https://home:6443'));
  writeFileSync(join(dir, 'env'), kubeconfig('https://env:6443'));
  writeFileSync(join(dir, 'flag'), kubeconfig('https://flag:6443'));
  process.env.HOME = join(dir, 'home');
});
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(dir, { recursive: true, force: true });
});
const server = (path?: string) => loadKubeConfig(path).getCurrentCluster()?.server;

test('--kubeconfig first, then $KUBECONFIG, then ~/.kube/config', () => {
  process.env.KUBECONFIG = join(dir, 'env');
  expect(server(join(dir, 'flag'))).toBe('https://flag:6443');
  expect(server(undefined)).toBe('https://env:6443');
  delete process.env.KUBECONFIG;
  expect(server(undefined)).toBe('https://home:6443');
});

test('--help says that order', () => {
  expect(OPERATOR_HELP).toMatch(/--kubeconfig PATH\s+kubeconfig to use; default: \$KUBECONFIG \(a list of files is merged\), else\s+~\/\.kube\/config, else the in-cluster service account/);
});
