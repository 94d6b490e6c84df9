// The controller runtime, after controller-runtime and client-go: the keyed, rate-limited
// work queue (workqueue.ts, rate-limiter.ts, backoff.ts), controllers that drain it,
// informers over a ListWatch port, Lease-based leader election over a LeaseStore port,
// the manager that starts and stops them in order, the Clock port (and FakeClock for
// tests, testing/), and small concurrency tools (coalescer, best-effort queue, client
// rate limiter). It knows nothing of SecretSyncs, providers or Kubernetes' client: the
// adapters live in src/kube/.
// May import: nothing of the project but src/errors.ts (eslint.config.js checks it).
// Importers name the file they need; this note is the whole index.
