// Pods on the stack's node (test/testenv/node/): whether there is one, and the few
// operations tests need (wait Running, kubectl logs/exec) through the real kubectl.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { eventually } from './eventually.js';
import { requireEnv } from './stack.js';

/** The node's name, or undefined when the stack runs without one (pods stay Pending). */
export function stackNode(): string | undefined {
  return process.env.SECRETSYNC_TESTENV_NODE_NAME || undefined;
}

/**
 * `describe`, or `describe.skip` with a line saying why, for tests that need running pods.
 * The stack logs the reason it has no node at `up` (not root, SECRETSYNC_TESTENV_NODE=0, ...).
 */
export function describeWithNode(): typeof describe {
  if (stackNode()) return describe;
  process.stderr.write(
    'NOT RUN: the stack has no node (not root, SECRETSYNC_TESTENV_NODE=0, an existing cluster, or another stack holds the node); make testenv-up logs the reason\n',
  );
  return describe.skip;
}

/** The test application image (static busybox: sh, cat, stat, ls, sleep, nc, httpd, ...), imported at `up`. */
export function testAppImage(): string {
  return requireEnv('SECRETSYNC_TEST_APP_IMAGE');
}

/** Waits until the namespace's `default` ServiceAccount exists (admission refuses pods before). */
export async function waitDefaultServiceAccount(core: CoreV1Api, namespace: string): Promise<void> {
  await eventually(async () => (await core.readNamespacedServiceAccount({ namespace, name: 'default' })) ?? undefined, {
    what: `ServiceAccount ${namespace}/default`,
  });
}

/** Waits until every container of the pod runs (and is ready, when it has probes); returns the pod. */
export function waitPodRunning(core: CoreV1Api, namespace: string, name: string, timeoutMs = 60_000): Promise<V1Pod> {
  return eventually(
    async () => {
      const pod = await core.readNamespacedPod({ namespace, name });
      if (pod.status?.phase === 'Failed') throw new Error(`pod ${namespace}/${name} failed: ${JSON.stringify(pod.status.containerStatuses)}`);
      const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      return pod.status?.phase === 'Running' && ready ? pod : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `pod ${namespace}/${name} Running and Ready` },
  );
}

/** The stack's kubectl; rejects with kubectl's stderr. */
export async function kubectl(args: string[], timeoutMs = 30_000): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(join(requireEnv('SECRETSYNC_TESTENV_BIN'), 'kubectl'), args, {
      env: process.env,
      timeout: timeoutMs,
    });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`kubectl ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

/** `kubectl exec` of a shell command in the pod's (first) container. */
export function podSh(namespace: string, pod: string, script: string, timeoutMs = 30_000): Promise<string> {
  return kubectl(['-n', namespace, 'exec', pod, '--', 'sh', '-c', script], timeoutMs);
}

/**
 * For workloads whose pods are only there to be counted (ReplicaSets, ControllerRevisions):
 * a nodeSelector no node matches, so they stay Pending as on a stack without a node, and
 * never try to pull the made-up images they name.
 */
export const NO_NODE = { nodeSelector: { 'secretsync.test/no-node': 'true' } } as const;
