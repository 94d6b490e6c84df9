// Jest global setup for integration tests: reuse a stack started by `make testenv-up`,
// or start one (and own it: global-teardown stops it). Either way the stack's variables
// (KUBECONFIG, VAULT_ADDR, ...) are put into process.env for the test workers.
// Plain JS loading the TypeScript through tsx: Jest runs global setup outside its own
// module system, where the `.js` -> `.ts` import mapping does not apply.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  const { stateDir } = await tsImport('../testenv/config.ts', import.meta.url);
  const { down, ensureImage, exportEnv, isRunning, readState, up } = await tsImport('../testenv/index.ts', import.meta.url);
  const dir = stateDir();
  const running = readState(dir);
  const stopOnSignal = () => {
    // Interrupted runs skip global teardown; stop the stack anyway.
    for (const sig of ['SIGINT', 'SIGTERM']) {
      process.once(sig, () => {
        void down(dir).finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
      });
    }
  };
  // A stack the previous Jest run of `make test-integration` started and handed over
  // (global-teardown with SECRETSYNC_TESTENV_HANDOVER=1): this run owns it now.
  // The marker names the stack by its start time, so no other stack is ever adopted.
  const handover = join(dir, 'handover');
  const handedOver = existsSync(handover) && readFileSync(handover, 'utf8') === running?.startedAt;
  rmSync(handover, { force: true });
  // One canary for the suite (test/helpers/canary.ts): the one handed over with the stack by
  // the previous run of `make test-integration`, else a new one; and a fresh directory for
  // what the suite-wide leak scan reads (test/integration/leak-reporter.js).
  const { CANARY_ENV, newSuiteCanary } = await tsImport('../helpers/canary.ts', import.meta.url);
  const canaryFile = join(dir, 'handover-canary');
  if (!process.env[CANARY_ENV]) process.env[CANARY_ENV] = handedOver && existsSync(canaryFile) ? readFileSync(canaryFile, 'utf8') : newSuiteCanary();
  rmSync(canaryFile, { force: true });
  const leakDir = mkdtempSync(join(tmpdir(), 'secretsync-leaks-'));
  process.env.SECRETSYNC_LEAK_DIR = leakDir;
  // The stack's own logs are scanned too, from where they stand once it is up (a reused
  // stack's logs go back to earlier runs).
  const { STACK_LOGS_FILE, stackLogsNow } = await tsImport('../helpers/leak-scan.ts', import.meta.url);
  const keepStackLogs = () => writeFileSync(join(leakDir, STACK_LOGS_FILE), JSON.stringify(stackLogsNow(join(dir, 'logs'))));
  if (isRunning(running)) {
    exportEnv(running);
    // The pod tests run this checkout's image: rebuilt and imported when the sources changed since `up`.
    await ensureImage(running, dir);
    globalThis.__secretsyncTestenvOwned = handedOver;
    if (handedOver) stopOnSignal();
    keepStackLogs();
    return;
  }
  const state = await up(dir);
  exportEnv(state);
  globalThis.__secretsyncTestenvOwned = true;
  stopOnSignal();
  keepStackLogs();
}
