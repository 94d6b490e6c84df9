// Logs, metrics and health: the pino logger that cannot carry a secret (logger.ts, and
// log-text.ts for --log-format text), Prometheus metrics on a registry of our own
// (metrics.ts), and the /healthz, /readyz and /metrics servers (health.ts).
// May import: src/errors.ts, src/api/, src/runtime/ (eslint.config.js checks it).
// Importers name the file they need; this note is the whole index.
