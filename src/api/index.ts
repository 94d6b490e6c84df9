// The API contract, the innermost layer: the types of secretsync.io/v1alpha1 (types.ts),
// the CRD schema they mirror (schema.ts, openapi.ts; crds.ts and api-docs.ts render it),
// semantic validation (validate.ts), conditions, durations, how sources are named
// (source-ref.ts), every annotation, label and finalizer name (annotations.ts), what the
// operator writes on a Secret for the agent (delivery.ts), and the operator's RBAC as
// data (rbac.ts). Pure data and functions, no I/O.
// May import: src/errors.ts only (eslint.config.js checks the folder matrix; see
// docs/architecture.md). Importers name the file they need; this note is the whole index.
