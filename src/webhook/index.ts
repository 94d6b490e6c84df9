// The mutating admission webhook that injects the agent into labelled pods: AdmissionReview
// types (admission.ts), the HTTPS server (server.ts), its own PKI and the Secret shared by
// replicas (certs.ts, cert-store.ts), the MutatingWebhookConfiguration (registration.ts),
// and WebhookServing, the Runnable tying them together (serving.ts). Kubernetes I/O sits
// behind the ports CertStorePort and WebhookConfigPort, implemented in src/kube/.
export * from './admission.js';
export { ensureCerts, type CertStorePort, type EnsureResult, type StoredBundle } from './cert-store.js';
export { createBundle, renewalDue, type CertBundle, type CertOptions, type KeyPairPem, type Renewal } from './certs.js';
export { desiredConfig, register, type FailurePolicy, type RegistrationOptions, type WebhookConfigPort } from './registration.js';
export { MUTATE_PATH, WebhookServer, type WebhookServerOptions } from './server.js';
export * from './serving.js';
