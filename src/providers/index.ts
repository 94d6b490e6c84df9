// Secret managers behind one contract (after External Secrets Operator): the
// SecretProvider / ProviderFactory port (provider.ts) and the registry that picks a
// factory by the spec block a source sets and caches one client per source
// (registry.ts); one folder per provider (vault/, aws/), each wired in its index.ts and
// including its key-service adapter (vault/transit.ts, aws/kms.ts); and what providers
// share: namespace rules for referenced Secrets, token audiences, response limits,
// http refusal, property lookup, fresh-enough reads, socket error codes.
// May import: src/errors.ts, src/api/, src/runtime/, src/observability/, src/crypto/.
// Only vault/client.ts, aws/client.ts and aws/kms.ts import an SDK. The domain
// (src/secretsync/) reaches providers only through provider.ts and registry.ts, the agent
// only through the port each provider's index.ts exports (eslint.config.js checks all of
// it). Importers name the file they need; this note is the whole index.
