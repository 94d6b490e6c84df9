// Stops the reliability stack global-setup started (every process, paused ones included).
import { tsImport } from 'tsx/esm/api';

export default async function globalTeardown() {
  const { reliabilityDir, resumeAll } = await tsImport('./stack-faults.ts', import.meta.url);
  const { down } = await tsImport('../testenv/index.ts', import.meta.url);
  resumeAll(reliabilityDir());
  await down(reliabilityDir());
}
