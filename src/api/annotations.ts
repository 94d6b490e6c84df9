// Every annotation, label and finalizer name secretsync reads or writes on Kubernetes
// objects, in one place: they are part of the API as much as the CRD fields are (users
// type them, and operator, webhook and agent of different versions must agree on them).
// Grouped by the object that carries them. Only names and the parsing of list values
// here; what a value means is decided where it is used.

// --- On a SecretSync ---

/** Annotation whose every new value asks for a sync now (in envelope mode also a check of the KEK's version). */
export const FORCE_SYNC_ANNOTATION = 'secretsync.io/force-sync';
/** Annotation whose every new value rotates once (spec.rotation must be set). */
export const ROTATE_NOW_ANNOTATION = 'secretsync.io/rotate-now';
/** `"true"` on a SecretSync being deleted: delete it even while workloads use its Secret. */
export const FORCE_DELETE_ANNOTATION = 'secretsync.io/force-delete';
export const FINALIZER = 'secretsync.io/finalizer';

// --- On a target Secret (and the Role / RoleBinding of spec.access) ---

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'secretsync';
/**
 * Label on target Secrets marking the SecretSync that owns them (the informer filters on
 * its presence). Its value is the SecretSync's name when that fits a label value (63
 * characters), else a shortened form; ownership itself is the controller owner reference.
 */
export const OWNER_LABEL = 'secretsync.io/sync';
/** The SecretSync version the Secret holds (plain mode; an envelope Secret says it in its data). */
export const VERSION_ANNOTATION = 'secretsync.io/version';
/** JSON `{"mode":"0400","uid":1000,"gid":1000}`: how the agent writes the files (spec.mount). */
export const MOUNT_ANNOTATION = 'secretsync.io/mount';
/** Envelope mode: a keyed MAC over the Secret's data, by which the operator recognises an intact envelope of its own. */
export const ENVELOPE_MAC_ANNOTATION = 'secretsync.io/envelope-mac';
/** The keyed HMAC of the current version's plaintext (as in status.contentHmac): which content the envelope holds. */
export const CONTENT_HMAC_ANNOTATION = 'secretsync.io/content-hmac';

// --- On a Deployment / StatefulSet / DaemonSet, and on pods ---

/**
 * Annotation on a Deployment/StatefulSet/DaemonSet's own metadata, `"<sync>[,<sync>...]"`:
 * its owner consents to be rolled by these SecretSyncs' spec.rollout.targets even though
 * its pod template does not use their Secrets (a workload that does not opt in and does
 * not use the target is never patched).
 */
export const ROLLOUT_FROM_ANNOTATION = 'secretsync.io/rollout-from';
/**
 * Pod-template annotation `secretsync.io/version-<sync>: "N"`: the rollout sets it to the
 * version a workload is rolled to, and the webhook pins the pod's agent to version N.
 */
export const VERSION_ANNOTATION_PREFIX = 'secretsync.io/version-';
/** `"true"`: the webhook is sent this pod (the MutatingWebhookConfiguration's objectSelector). */
export const INJECT_LABEL = 'secretsync.io/inject';
/** `"<sync>[,<sync>...]"`: SecretSyncs of the pod's namespace to deliver. */
export const INJECT_ANNOTATION = 'secretsync.io/inject';
/** `"a,b"`: only these containers get the mounts and `_FILE` env vars (default: every app container). */
export const INJECT_CONTAINERS_ANNOTATION = 'secretsync.io/inject-containers';
/** `"true"`: add the watch sidecar that re-delivers new versions in place. */
export const WATCH_ANNOTATION = 'secretsync.io/watch';
/** Written by the webhook: the syncs it injected, in order. */
export const INJECTED_ANNOTATION = 'secretsync.io/injected';
/** Written by the webhook when it left out the `<KEY>_FILE` env vars, saying why. */
export const FILE_ENV_ANNOTATION = 'secretsync.io/file-env';

/** A comma-separated annotation: trimmed, empty items dropped (a trailing comma from a template is harmless). */
export function splitList(text: string | undefined): string[] {
  return (text ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}
