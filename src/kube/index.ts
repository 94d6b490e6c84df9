// The Kubernetes adapters, the only folder (with the composition root, src/main.ts) that
// imports @kubernetes/client-node: ListWatch and the Lease store for the runtime, the
// SyncReader (informer caches) and SyncWriter (API calls) ports of the domain, what
// providers may ask of Kubernetes (provider-kube.ts), the webhook's certificate and
// configuration stores, the agent's view of the API server (agent-kube.ts), the
// operator's own Secrets, slimming of cached objects, request metrics and error mapping.
// May import: src/errors.ts, src/api/, src/runtime/, src/observability/, src/crypto/,
// src/providers/, src/secretsync/, src/webhook/ (eslint.config.js checks it).
// Importers name the file they need; this note is the whole index.
