// The mutating admission webhook that injects the agent into pods labelled
// `secretsync.io/inject: "true"`: in-memory volumes at /run/secrets/<sync>, an init
// container (and optionally a watch sidecar) running `secretsync agent`, and `_FILE` env
// vars. inject.ts decides (pure: pod and cached SecretSyncs in, refusal or JSON patch
// out); admission.ts holds the AdmissionReview types, server.ts the HTTPS server,
// certs.ts and cert-store.ts its own PKI and the Secret shared by replicas,
// registration.ts the MutatingWebhookConfiguration, and serving.ts the Runnable tying
// them together. Kubernetes I/O sits behind CertStorePort and WebhookConfigPort (src/kube/).
// May import: src/errors.ts, api/, runtime/, observability/, crypto/, providers/,
// secretsync/; never src/kube/ or src/agent/ (eslint.config.js checks it).
export { admitPod, DEFAULT_VOLUME_SIZE_LIMIT, type Admission, type InjectOptions, type SyncView } from './inject.js';
export type { Pod } from './pod.js';
export * from './admission.js';
export { ensureCerts, type CertStorePort, type EnsureResult, type StoredBundle } from './cert-store.js';
export { createBundle, renewalDue, type CertBundle, type CertOptions, type KeyPairPem, type Renewal } from './certs.js';
export { desiredConfig, register, type FailurePolicy, type RegistrationOptions, type WebhookConfigPort } from './registration.js';
export { MUTATE_PATH, WebhookServer, type WebhookServerOptions } from './server.js';
export * from './serving.js';
