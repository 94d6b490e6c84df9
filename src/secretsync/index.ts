// The domain: the SecretSync reconcile as observe (caches only) -> whatIsDue (pure) ->
// read (provider I/O only for what is due) -> plan (pure) -> act (writes, in order), in
// observe.ts, due.ts, fetch.ts, plan.ts and act.ts, driven by reconciler.ts; the pure
// parts it plans with (target Secret, status, schedule, access and scopes, grants,
// rollouts, rotation/ and rotate.ts, envelope sealing and KEKs, throttles, deletion in
// finalizer.ts); the narrow ports it talks through (ports.ts, implemented in src/kube/);
// informer events to queue keys (events.ts); the KEK watcher and the source reconciler.
// May import: src/errors.ts, src/api/, src/runtime/, src/observability/, src/crypto/, and
// of src/providers/ only provider.ts and registry.ts (eslint.config.js checks it).
// Importers name the file they need; this note is the whole index.
