// Stops the stack only if global-setup started it (a `make testenv-up` stack keeps running).
import { tsImport } from 'tsx/esm/api';

export default async function globalTeardown() {
  if (!globalThis.__secretsyncTestenvOwned) return;
  const { stateDir } = await tsImport('../testenv/config.ts', import.meta.url);
  const { down } = await tsImport('../testenv/index.ts', import.meta.url);
  await down(stateDir());
}
