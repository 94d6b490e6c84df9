// Names the injection webhook reads (annotations) and writes (volumes, containers, env
// vars, paths). Pure and deterministic, so a reinvoked webhook computes the same names
// and recognises what it injected before.
import { createHash } from 'node:crypto';

export const INJECT_LABEL = 'secretsync.io/inject';
/** `"<sync>[,<sync>...]"`: SecretSyncs of the pod's namespace to deliver. */
export const INJECT_ANNOTATION = 'secretsync.io/inject';
/** `"a,b"`: only these containers get the mounts and `_FILE` env vars (default: every app container). */
export const INJECT_CONTAINERS_ANNOTATION = 'secretsync.io/inject-containers';
/** `"true"`: add the watch sidecar that re-delivers new versions in place. */
export const WATCH_ANNOTATION = 'secretsync.io/watch';
/** `secretsync.io/version-<sync>: "N"`: the rollout pins the pod to version N of that sync. */
export { VERSION_ANNOTATION_PREFIX } from '../api/annotations.js';
/** Written by the webhook: the syncs it injected, in order. */
export const INJECTED_ANNOTATION = 'secretsync.io/injected';
/** Written by the webhook when it left out the `<KEY>_FILE` env vars, saying why. */
export const FILE_ENV_ANNOTATION = 'secretsync.io/file-env';
export const FILE_ENV_OMITTED =
  'omitted: the webhook cannot tell the API server from other callers, and these variables name the keys; ' +
  'read the files under /run/secrets/<sync>/, or have the platform team set webhook.clientAuth (or webhook.fileEnv: always)';

export const SECRETS_DIR = '/run/secrets';
export const AGENT_INIT = 'secretsync-agent-init';
export const AGENT_WATCH = 'secretsync-agent-watch';
export const VAULT_TOKEN_VOLUME = 'secretsync-vault-token';
/** The agent's default --vault-token-file is `<this>/token`. */
export const VAULT_TOKEN_DIR = '/var/run/secrets/secretsync.io/vault';
export const KUBE_API_VOLUME = 'secretsync-kube-api-access';
export const KUBE_API_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** SecretSync names are object names (DNS-1123 subdomains, so also one safe path segment). */
export function isObjectName(s: string): boolean {
  return s.length <= 253 && DNS_SUBDOMAIN.test(s);
}

export function isContainerName(s: string): boolean {
  return s.length <= 63 && DNS_LABEL.test(s);
}

/** A comma-separated annotation: trimmed, empty items dropped (a trailing comma from a template is harmless). */
export function splitList(text: string | undefined): string[] {
  return (text ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * `<prefix><name>` when that is a DNS-1123 label (volume and container names must be);
 * otherwise a shortened form with a hash of the full name, so two long names sharing a
 * prefix, or `a.b` and `a-b`, never collide: `<prefix><start>-<8 hex>`.
 */
export function labelFor(prefix: string, name: string): string {
  const plain = prefix + name;
  if (plain.length <= 63 && DNS_LABEL.test(plain)) return plain;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  const room = 63 - prefix.length - 1 - hash.length;
  const start = name.replace(/\./g, '-').slice(0, room).replace(/-+$/, '');
  return `${prefix}${start}-${hash}`;
}

export const volumeName = (sync: string): string => labelFor('secretsync-', sync);
export const pinnedInitName = (sync: string): string => labelFor(`${AGENT_INIT}-`, sync);
export const mountPath = (sync: string): string => `${SECRETS_DIR}/${sync}`;

/** Upper-cased, every character but A-Z and 0-9 becomes `_`, and a leading digit gets a `_` before it (C identifiers). */
function envPart(s: string): string {
  const up = s.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return /^[0-9]/.test(up) ? `_${up}` : up;
}

export interface FileEnv {
  sync: string;
  key: string;
  name: string;
}

/**
 * `<KEY>_FILE` for every key of every sync, or `<SYNC>_<KEY>_FILE` for keys whose short
 * name two (sync, key) pairs share (two syncs with a key `password`, or `a.b` and `a-b`
 * in one sync). Decided over all the pod's syncs, not per container, so a variable has
 * one name in the whole pod. Pairs that still collide after the prefix (only keys of one
 * sync such as `a.b` and `a-b`) get no variable: their files are still there.
 */
export function fileEnvNames(syncs: ReadonlyArray<{ name: string; keys: readonly string[] }>): FileEnv[] {
  const pairs = syncs.flatMap((s) => s.keys.map((key) => ({ sync: s.name, key, short: `${envPart(key)}_FILE` })));
  const count = (names: string[]): Map<string, number> => names.reduce((m, n) => m.set(n, (m.get(n) ?? 0) + 1), new Map<string, number>());
  const shortCount = count(pairs.map((p) => p.short));
  const named = pairs.map((p) => ({ sync: p.sync, key: p.key, name: shortCount.get(p.short) === 1 ? p.short : `${envPart(p.sync)}_${p.short}` }));
  const finalCount = count(named.map((p) => p.name));
  return named.filter((p) => finalCount.get(p.name) === 1);
}
