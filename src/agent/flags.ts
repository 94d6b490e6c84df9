// Flags of `secretsync agent init|watch`: parsed and checked here (pure), documented in
// AGENT_HELP. Defaults are the paths the injecting webhook mounts into the pod.
import { parseArgs } from 'node:util';
import { parseDuration } from '../api/duration.js';
import { UsageError } from '../errors.js';

export type AgentCommand = 'init' | 'watch';

/** One `--sync NAME[=SECRET]`: the SecretSync (directory and binding) and its target Secret. */
export interface SyncTarget {
  name: string;
  secret: string;
}

/** `--sync NAME[=SECRET]` as given: without SECRET the agent reads the target from the SecretSync. */
export interface SyncFlag {
  name: string;
  secret?: string;
}

export interface AgentOptions {
  command: AgentCommand;
  syncs: SyncFlag[];
  dir: string;
  /** Undefined: the pod's own namespace (from the service-account mount). */
  namespace?: string;
  /** A pinned version (only with one --sync). */
  version?: number;
  vaultTokenFile: string;
  vaultAddr?: string;
  vaultCacert?: string;
  awsEndpoint?: string;
  intervalMs: number;
  logLevel: string;
  insecureAllowHttp: boolean;
}

export const DEFAULT_DIR = '/run/secrets';
export const DEFAULT_VAULT_TOKEN_FILE = '/var/run/secrets/secretsync.io/vault/token';
export const DEFAULT_INTERVAL = '30s';
const MIN_INTERVAL_MS = 1000;

export const AGENT_HELP = `Usage: secretsync agent init|watch --sync NAME[=SECRET] [flags]

Delivers SecretSync content into a pod as files <dir>/<NAME>/<key>, with the pod's own
identity: it reads the target Secret with the pod's service account, and for an envelope
Secret unwraps the data key with Vault Kubernetes auth (Transit) or the pod's AWS identity
(KMS). Files are written atomically (a new hidden directory, then one symlink swap), so a
reader sees the old set or the new one, never a mix.

  init    deliver once and exit (0 when every --sync was delivered)
  watch   deliver, then follow the Secret and re-deliver in place when its version changes;
          runs until SIGTERM (then exits 0)

Flags:
  --sync NAME[=SECRET]     a SecretSync to deliver (repeatable): NAME names the directory and is
                           what the ciphertext is bound to; SECRET is its target Secret (default: the
                           SecretSync's spec.target.name, read from it, else NAME)
  --dir PATH               where the files go, as PATH/NAME/KEY; default ${DEFAULT_DIR}
  --namespace NS           namespace of the SecretSync and Secret; default: the pod's own, from
                           /var/run/secrets/kubernetes.io/serviceaccount/namespace
  --version N              deliver version N instead of the current one (one --sync only). N must be
                           a version the Secret holds (the current, the previous, or an older one a
                           rollout still needs); the rollout pins
                           pods it has not replaced yet to the version they started with. A plain
                           Secret holds only its current version, which is delivered instead
  --vault-token-file PATH  projected service-account token of audience "vault", sent to Vault
                           Kubernetes auth; default ${DEFAULT_VAULT_TOKEN_FILE}
  --vault-addr URL         Vault address to use instead of the one recorded in the envelope
  --vault-cacert PATH      PEM file of CAs to trust for Vault (default: the system CAs)
  --aws-endpoint URL       AWS KMS endpoint to use instead of the one recorded in the envelope
                           (AWS credentials: the SDK default chain, i.e. the pod's identity)
  --interval DURATION      watch: re-read the Secret this often as a safety net besides the watch,
                           and the only way to follow it when the service account may not
                           watch it; default ${DEFAULT_INTERVAL}, at least 1s
  --insecure-allow-http    accept http:// Vault addresses and AWS endpoints (development stacks only:
                           the service-account token and the data key then travel unencrypted)
  --log-level LEVEL        trace, debug, info, warn, error; default info
  -h, --help               show this help

Kubernetes access: the in-cluster service-account token, or $KUBECONFIG when it is set.

Exit status: 0 delivered (init) or stopped by SIGTERM/SIGINT (watch); 1 a refusal or failure,
with one line on stderr saying what is wrong and what to do (nothing is written then, and
files already there are left as they were); 2 a usage error.
`;

// SecretSync names are object names: DNS-1123 subdomains (so also safe as one path segment).
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function isObjectName(text: string): boolean {
  return text.length <= 253 && DNS_SUBDOMAIN.test(text);
}

function objectName(flag: string, text: string): string {
  if (!isObjectName(text)) {
    throw new UsageError(`${flag}: "${text.slice(0, 64)}" is not a Kubernetes object name (lowercase letters, digits, "-" and ".")`);
  }
  return text;
}

/** `NAME` or `NAME=SECRET`. */
export function parseSyncFlag(text: string): SyncFlag {
  const eq = text.indexOf('=');
  const name = objectName('--sync', eq < 0 ? text : text.slice(0, eq));
  return eq < 0 ? { name } : { name, secret: objectName('--sync', text.slice(eq + 1)) };
}

export function parseAgentFlags(argv: string[]): AgentOptions | 'help' {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '-h' || command === '--help') return 'help';
  if (command !== 'init' && command !== 'watch') throw new UsageError(`agent: unknown command "${command}" (init or watch)`);
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: false,
      options: {
        sync: { type: 'string', multiple: true },
        dir: { type: 'string' },
        namespace: { type: 'string' },
        version: { type: 'string' },
        'vault-token-file': { type: 'string' },
        'vault-addr': { type: 'string' },
        'vault-cacert': { type: 'string' },
        'aws-endpoint': { type: 'string' },
        interval: { type: 'string' },
        'insecure-allow-http': { type: 'boolean' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const syncs = (v.sync ?? []).map(parseSyncFlag);
  if (syncs.length === 0) throw new UsageError('agent: at least one --sync NAME[=SECRET] is required');
  const seen = new Set<string>();
  for (const s of syncs) {
    if (seen.has(s.name)) throw new UsageError(`--sync ${s.name} is given twice (each NAME is one directory)`);
    seen.add(s.name);
  }
  let version: number | undefined;
  if (v.version !== undefined) {
    version = Number(v.version);
    if (!/^[0-9]+$/.test(v.version) || !Number.isSafeInteger(version) || version < 1) {
      throw new UsageError(`--version must be a version number (1, 2, ...), got "${v.version}"`);
    }
    if (syncs.length !== 1) throw new UsageError('--version applies to one SecretSync: give exactly one --sync with it');
  }
  const interval = parseDuration(v.interval ?? DEFAULT_INTERVAL);
  if (interval === undefined || interval < MIN_INTERVAL_MS) {
    throw new UsageError(`--interval must be a duration of at least 1s, like 30s or 5m; got "${v.interval}"`);
  }
  const level = v['log-level'] ?? 'info';
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(level)) {
    throw new UsageError(`--log-level must be one of trace, debug, info, warn, error; got "${level}"`);
  }
  for (const flag of ['dir', 'vault-token-file', 'vault-cacert', 'namespace'] as const) {
    if (v[flag] === '') throw new UsageError(`--${flag} must not be empty`);
  }
  if (v.namespace !== undefined && (v.namespace.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v.namespace))) {
    throw new UsageError(`--namespace: "${v.namespace.slice(0, 64)}" is not a namespace name (lowercase letters, digits and "-")`);
  }
  for (const flag of ['vault-addr', 'aws-endpoint'] as const) {
    const url = v[flag];
    if (url === undefined) continue;
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new UsageError(`--${flag} must be a URL like https://host:port, got "${url.slice(0, 100)}"`);
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new UsageError(`--${flag} must be an https:// URL`);
    if (u.username || u.password) throw new UsageError(`--${flag} must not contain credentials`);
  }
  return {
    command,
    syncs,
    dir: v.dir ?? DEFAULT_DIR,
    namespace: v.namespace,
    version,
    vaultTokenFile: v['vault-token-file'] ?? DEFAULT_VAULT_TOKEN_FILE,
    vaultAddr: v['vault-addr'],
    vaultCacert: v['vault-cacert'],
    awsEndpoint: v['aws-endpoint'],
    intervalMs: interval,
    logLevel: level,
    insecureAllowHttp: v['insecure-allow-http'] ?? false,
  };
}
