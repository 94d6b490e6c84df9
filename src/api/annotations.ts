// Annotation names of the API contract, one constant each, imported by every folder that
// reads or writes them.

/**
 * Pod-template annotation `secretsync.io/version-<sync>: "N"`: the version a workload is
 * rolled to (set by the operator's rollouts), which pins the injected pod to version N.
 */
export const VERSION_ANNOTATION_PREFIX = 'secretsync.io/version-';
