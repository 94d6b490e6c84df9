// Jest global setup of project `reliability` (make test-reliability): a stack of its own in
// .testenv-reliability/, never the shared one, because its tests stop, pause and restart
// OpenBao, moto, etcd and the API server. Any stack left there by a killed run (maybe with a
// component still paused) is stopped first. No node: the node is machine-global, and these
// faults need no pod to run (workloads are judged by their ReplicaSets).
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  const { reliabilityDir } = await tsImport('./stack-faults.ts', import.meta.url);
  const { down, exportEnv, up } = await tsImport('../testenv/index.ts', import.meta.url);
  const dir = reliabilityDir();
  await down(dir);
  process.env.SECRETSYNC_TESTENV_NODE = '0';
  const state = await up(dir);
  exportEnv(state);
  process.env.SECRETSYNC_RELIABILITY_DIR = dir;
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      void down(dir).finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
    });
  }
}
