// Envelope encryption without any key service: the envelope format and AES-256-GCM
// sealing with one data key per version (envelope.ts; docs/envelope-format.md), the
// KeyEncrypter port a key service implements (key-encrypter.ts), and constant-time
// comparison of secret-bearing strings (compare.ts). The adapters that implement
// KeyEncrypter on Vault Transit and AWS KMS are provider code: src/providers/vault/transit.ts
// and src/providers/aws/kms.ts.
// May import: src/errors.ts, src/api/, src/runtime/, src/observability/; never
// src/providers/ (eslint.config.js checks it). Importers name the file they need; this
// note is the whole index.
