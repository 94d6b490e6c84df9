// Crash-safety tests kill the process at a chosen point (SECRETSYNC_TEST_FAULT, read by
// main.ts): exit-after-rotation-write exits (code 86) right after a rotation's source write,
// before its status write; wait-before-rotation-write:<file> holds each rotation write until
// <file> exists (a test writes at the source meanwhile: "another writer first");
// exit-before-rollout-patch exits (code 86) at the first rollout patch, after the Secret
// write of its new version and before the patch and the status write;
// oom-after-secret-write:<name> allocates memory without end once a patch of a Secret named
// <name> has been written (before the status write), so the container's memory limit kills
// it (OOMKilled); without a limit it gives up at 4 GiB and exits (87). Never set in
// production; announced loudly when it is.
import { existsSync } from 'node:fs';
import type { Logger } from '../observability/logger.js';
import type { SyncWriter } from '../secretsync/ports.js';
import type { ReconcilerDeps } from '../secretsync/reconciler.js';

export interface TestFaults extends Pick<ReconcilerDeps, 'faults'> {
  /** Wraps the SecretSync writer (a fault at one kind of write). */
  writer?: (w: SyncWriter) => SyncWriter;
}

/** Off-heap buffers, each page touched, until the kernel kills the process (or `capBytes`). */
export function allocateUntilKilled(capBytes = 4 * 1024 ** 3): never {
  const held: Buffer[] = [];
  for (let total = 0; total < capBytes; total += 16 * 1024 * 1024) held.push(Buffer.alloc(16 * 1024 * 1024, 1));
  process.exit(87);
}

export function testFaults(fault: string | undefined, log: Logger, hog: () => void = allocateUntilKilled): TestFaults {
  if (!fault) return {};
  const oomPrefix = 'oom-after-secret-write:';
  if (fault.startsWith(oomPrefix) && fault.length > oomPrefix.length) {
    const target = fault.slice(oomPrefix.length);
    log.warn({ fault }, 'TEST FAULT INJECTION ENABLED: the process allocates memory until killed after it patches that Secret');
    return {
      writer: (w) => ({
        ...bound(w),
        patchSecret: async (namespace, name, patch) => {
          await w.patchSecret(namespace, name, patch);
          if (name !== target) return;
          log.warn({ fault }, 'allocating until killed on the injected fault');
          hog();
        },
      }),
    };
  }
  if (fault === 'exit-before-rollout-patch') {
    log.warn({ fault }, 'TEST FAULT INJECTION ENABLED: the process exits at its next rollout patch');
    return {
      writer: (w) => ({
        ...bound(w),
        setTemplateAnnotation: () => {
          log.warn({ fault }, 'exiting on the injected fault');
          process.exit(86);
        },
      }),
    };
  }
  const waitPrefix = 'wait-before-rotation-write:';
  if (fault.startsWith(waitPrefix) && fault.length > waitPrefix.length) {
    const file = fault.slice(waitPrefix.length);
    log.warn({ fault }, 'TEST FAULT INJECTION ENABLED: each rotation write waits for a file');
    return {
      faults: {
        beforeRotationWrite: async () => {
          log.warn({ fault }, 'holding the rotation write on the injected fault');
          while (!existsSync(file)) await new Promise((r) => setTimeout(r, 100));
        },
      },
    };
  }
  if (fault !== 'exit-after-rotation-write') {
    throw new Error(`SECRETSYNC_TEST_FAULT="${fault}" is not a known fault (exit-after-rotation-write, wait-before-rotation-write:<file>, exit-before-rollout-patch, oom-after-secret-write:<name>)`);
  }
  log.warn({ fault }, 'TEST FAULT INJECTION ENABLED: the process exits after its next rotation write');
  return {
    faults: {
      afterRotationWrite: () => {
        log.warn({ fault }, 'exiting on the injected fault');
        process.exit(86);
      },
    },
  };
}

/** Every method of `w`, bound to it, as an object of its own. */
function bound(w: SyncWriter): SyncWriter {
  const methods = [
    'createSecret',
    'patchSecret',
    'validateSecret',
    'deleteSecret',
    'readSecret',
    'writeStatus',
    'setFinalizers',
    'event',
    'writeGrant',
    'setTemplateAnnotation',
  ] as const satisfies readonly (keyof SyncWriter)[];
  return Object.fromEntries(methods.map((m) => [m, (w[m] as (...a: unknown[]) => unknown).bind(w)])) as unknown as SyncWriter;
}
