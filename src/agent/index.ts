// The agent (`secretsync agent init|watch`): runs inside a pod with the pod's own identity
// and delivers SecretSync content as files <dir>/<NAME>/<key> on the pod's in-memory
// volume. It reads the target Secret (plain, or an envelope whose data key it unwraps
// through Vault Transit or AWS KMS), checks that the SecretSync named on the command line
// controls it, and writes atomically as kubelet does (atomic-writer.ts). `watch` then
// follows the Secret and re-delivers in place. flags.ts and plan.ts are pure; deliver.ts
// and watch.ts do the I/O through ports; run.ts is the composition root.
// May import: every folder above it in the matrix (src/errors.ts, api/, runtime/,
// observability/, crypto/, secretsync/ for its port types, webhook/, kube/ for
// agent-kube.ts), but of src/providers/ only the agent ports that providers/vault/index.ts
// and providers/aws/index.ts export, and never src/flags.ts or src/main.ts
// (eslint.config.js checks it).
export { AGENT_HELP, parseAgentFlags, type AgentOptions } from './flags.js';
export { AgentCode, AgentError } from './errors.js';
