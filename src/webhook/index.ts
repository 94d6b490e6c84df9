// The mutating admission webhook that injects the agent into pods labelled
// `secretsync.io/inject: "true"`: in-memory volumes at /run/secrets/<sync>, an init
// container (and optionally a watch sidecar) running `secretsync agent`, and `_FILE` env
// vars. inject.ts decides (pure: pod and cached SecretSyncs in, refusal or JSON patch
// out); serving it over TLS and registering it with the API server are separate.
export { admitPod, DEFAULT_VOLUME_SIZE_LIMIT, type Admission, type InjectOptions, type SyncView } from './inject.js';
export type { JsonPatchOp, Pod } from './pod.js';
