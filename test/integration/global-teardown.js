// Stops the stack only if global-setup started it (a `make testenv-up` stack keeps running).
// With SECRETSYNC_TESTENV_HANDOVER=1 it leaves it running for the next Jest run instead
// (make test-integration's second run, of the files that run alone), which then owns it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tsImport } from 'tsx/esm/api';

export default async function globalTeardown() {
  if (!globalThis.__secretsyncTestenvOwned) return;
  const { stateDir } = await tsImport('../testenv/config.ts', import.meta.url);
  const { down, readState } = await tsImport('../testenv/index.ts', import.meta.url);
  if (process.env.SECRETSYNC_TESTENV_HANDOVER === '1') {
    writeFileSync(join(stateDir(), 'handover'), readState(stateDir())?.startedAt ?? '');
    // The next run keeps the suite's canary (global-setup.js).
    writeFileSync(join(stateDir(), 'handover-canary'), process.env.SECRETSYNC_TEST_CANARY ?? '', { mode: 0o600 });
    return;
  }
  await down(stateDir());
}
