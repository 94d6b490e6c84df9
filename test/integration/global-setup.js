// Jest global setup for integration tests: reuse a stack started by `make testenv-up`,
// or start one (and own it: global-teardown stops it). Either way the stack's variables
// (KUBECONFIG, VAULT_ADDR, ...) are put into process.env for the test workers.
// Plain JS loading the TypeScript through tsx: Jest runs global setup outside its own
// module system, where the `.js` -> `.ts` import mapping does not apply.
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  const { stateDir } = await tsImport('../testenv/config.ts', import.meta.url);
  const { down, ensureImage, exportEnv, isRunning, readState, up } = await tsImport('../testenv/index.ts', import.meta.url);
  const dir = stateDir();
  const running = readState(dir);
  if (isRunning(running)) {
    exportEnv(running);
    // The pod tests run this checkout's image: rebuilt and imported when the sources changed since `up`.
    await ensureImage(running, dir);
    globalThis.__secretsyncTestenvOwned = false;
    return;
  }
  const state = await up(dir);
  exportEnv(state);
  globalThis.__secretsyncTestenvOwned = true;
  // Interrupted runs skip global teardown; stop the stack anyway.
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      void down(dir).finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
    });
  }
}
