// One delivery of one --sync: read the target Secret with the pod's identity, decide what
// it means (plan.ts), turn it into files (plain: the data; envelope: unwrap the data key,
// open every value, all or nothing) and write them atomically. Reading and opening are
// split from writing so `init` can refuse before anything is written, for every --sync.
import { join } from 'node:path';
import { renderTemplate } from '../api/template.js';
import { EnvelopeError, openEntry } from '../crypto/envelope.js';
import { TemplateError } from '../errors.js';
import type { AgentKube } from '../kube/agent-kube.js';
import { KubeReadError } from '../kube/agent-kube.js';
import type { Logger } from '../observability/logger.js';
import type { KubeSecret } from '../secretsync/ports.js';
import { writeAtomically, type FileOwnership } from './atomic-writer.js';
import { AgentCode, AgentError } from './errors.js';
import { isObjectName, type SyncFlag, type SyncTarget } from './flags.js';
import type { KeyAccess } from './key-access.js';
import { checkOwner, envelopeRefusal, planDelivery, type DeliveryRequest } from './plan.js';

/** The most a template may render to in the pod: what a Secret may hold (the operator checked spec.target.maxSizeBytes already). */
const MAX_RENDERED_BYTES = 1_048_576;

/** Files ready to write, and what they are. */
export interface Prepared {
  sync: SyncTarget;
  version: number | undefined;
  mode: 'plain' | 'envelope';
  fingerprint: string;
  files: Record<string, Buffer>;
  ownership: FileOwnership;
}

export interface DelivererOptions {
  kube: Pick<AgentKube, 'readSecret' | 'readSecretSync'>;
  keys: Pick<KeyAccess, 'unwrap'>;
  namespace: string;
  dir: string;
  version?: number;
  log: Logger;
  write?: typeof writeAtomically;
  /** Who this process is (default: process.getuid / getgid / getgroups). */
  self?: { uid: number; gids: readonly number[] };
}

/** The user the API server named in a 403 (`system:serviceaccount:ns:sa` → `service account ns/sa`). */
export function forbiddenSubject(message: string): string | undefined {
  const user = /User "([^"]+)"/.exec(message)?.[1];
  if (!user) return undefined;
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(user);
  return sa ? `service account ${sa[1]}/${sa[2]}` : `user "${user}"`;
}

/** A failed read of the target Secret as the agent's refusal. */
export function readFailure(err: unknown, r: DeliveryRequest): AgentError {
  if (!(err instanceof KubeReadError)) {
    return new AgentError(AgentCode.KubeUnavailable, `reading Secret ${r.namespace}/${r.secret} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  switch (err.status) {
    case 403:
      return new AgentError(
        AgentCode.SecretForbidden,
        `${forbiddenSubject(err.message) ?? "the pod's service account"} may not read Secret ${r.secret} in namespace ${r.namespace}: ` +
          `add it to spec.access.serviceAccounts of SecretSync ${r.sync}`,
      );
    case 401:
      return new AgentError(
        AgentCode.Config,
        `the API server did not accept the agent's credentials (HTTP 401): check the pod's service-account token (automountServiceAccountToken) or $KUBECONFIG`,
      );
    case 404:
      return new AgentError(
        AgentCode.SecretNotFound,
        `Secret ${r.namespace}/${r.secret} does not exist: check that SecretSync ${r.sync} is Ready (kubectl -n ${r.namespace} get secretsync ${r.sync}) ` +
          `and that --sync ${r.sync}=SECRET names its target Secret`,
      );
    default:
      return new AgentError(AgentCode.KubeUnavailable, `reading Secret ${r.namespace}/${r.secret} failed: ${err.message}; will retry`);
  }
}

/** A failed read of the SecretSync itself (its uid) as the agent's refusal. */
export function syncReadFailure(err: unknown, namespace: string, sync: string): AgentError {
  const what = `SecretSync ${namespace}/${sync}`;
  if (!(err instanceof KubeReadError)) {
    return new AgentError(AgentCode.KubeUnavailable, `reading ${what} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  switch (err.status) {
    case 403:
      return new AgentError(
        AgentCode.SecretForbidden,
        `${forbiddenSubject(err.message) ?? "the pod's service account"} may not read ${what} (the agent checks its uid against the Secret's): ` +
          `add it to spec.access.serviceAccounts of SecretSync ${sync}, which grants get on both`,
      );
    case 401:
      return new AgentError(AgentCode.Config, `the API server did not accept the agent's credentials (HTTP 401): check the pod's service-account token (automountServiceAccountToken) or $KUBECONFIG`);
    case 404:
      return new AgentError(
        AgentCode.NotControlled,
        `${what} does not exist: nothing is delivered without it (a Secret left by a deleted SecretSync is not trusted); create it, or fix --sync ${sync}`,
      );
    default:
      return new AgentError(AgentCode.KubeUnavailable, `reading ${what} failed: ${err.message}; will retry`);
  }
}

function processIdentity(): { uid: number; gids: readonly number[] } {
  return { uid: process.getuid?.() ?? 0, gids: [process.getgid?.() ?? 0, ...(process.getgroups?.() ?? [])] };
}

export class Deliverer {
  private readonly write: typeof writeAtomically;

  constructor(private readonly o: DelivererOptions) {
    this.write = o.write ?? writeAtomically;
  }

  private request(sync: SyncTarget, syncUid = ''): DeliveryRequest {
    return { namespace: this.o.namespace, sync: sync.name, syncUid, secret: sync.secret, ...(this.o.version !== undefined ? { version: this.o.version } : {}) };
  }

  async read(sync: SyncTarget): Promise<KubeSecret> {
    try {
      return await this.o.kube.readSecret(this.o.namespace, sync.secret);
    } catch (err) {
      throw readFailure(err, this.request(sync));
    }
  }

  /**
   * The target Secret of `--sync NAME` given without `=SECRET` (the webhook leaves it out when
   * it answers a caller it could not verify): the SecretSync's spec.target.name, else NAME.
   */
  async resolve(flag: SyncFlag): Promise<SyncTarget> {
    if (flag.secret !== undefined) return { name: flag.name, secret: flag.secret };
    let ss;
    try {
      ss = await this.o.kube.readSecretSync(this.o.namespace, flag.name);
    } catch (err) {
      throw syncReadFailure(err, this.o.namespace, flag.name);
    }
    const target = ss.spec?.target?.name;
    if (target === undefined) return { name: flag.name, secret: flag.name };
    if (typeof target !== 'string' || !isObjectName(target)) {
      throw new AgentError(AgentCode.InvalidContent, `SecretSync ${this.o.namespace}/${flag.name} has a spec.target.name that is not an object name: fix the SecretSync`);
    }
    return { name: flag.name, secret: target };
  }

  /** The uid of the SecretSync, as the API server says (one GET per delivery; a recreated SecretSync has another). */
  async syncUid(sync: SyncTarget): Promise<string> {
    let ss;
    try {
      ss = await this.o.kube.readSecretSync(this.o.namespace, sync.name);
    } catch (err) {
      throw syncReadFailure(err, this.o.namespace, sync.name);
    }
    const uid = ss.metadata?.uid;
    if (!uid) throw new AgentError(AgentCode.KubeUnavailable, `SecretSync ${this.o.namespace}/${sync.name} came back without a uid; will retry`);
    return uid;
  }

  /**
   * Reads and opens everything for `sync`; undefined when its fingerprint equals `unchanged`
   * (nothing to do, and no call to Vault or KMS). Throws AgentError; never writes.
   */
  async prepare(sync: SyncTarget, unchanged?: string): Promise<Prepared | undefined> {
    // The Secret first (its refusals say most about what to fix), then the SecretSync's uid.
    const secret = await this.read(sync);
    const r = this.request(sync, await this.syncUid(sync));
    const plan = planDelivery(secret, r);
    if (plan.fingerprint === unchanged) return undefined;
    checkOwner(plan.ownership, this.o.self ?? processIdentity(), r);
    const base = { sync, version: plan.version, mode: plan.mode, fingerprint: plan.fingerprint, ownership: plan.ownership };
    if (plan.mode === 'plain') return { ...base, files: plan.files };
    const dataKey = await this.o.keys.unwrap(plan.entry, plan.context);
    try {
      const opened = openEntry(dataKey, plan.binding, plan.entry);
      if (!opened.template) return { ...base, files: opened.values };
      // envelope/v2: spec.target.template travels sealed with the values it uses and is
      // rendered here, so the rendered files exist only in this pod's memory volume.
      try {
        return { ...base, files: renderTemplate(opened.template, opened.values, MAX_RENDERED_BYTES) };
      } finally {
        for (const b of Object.values(opened.values)) b.fill(0);
      }
    } catch (err) {
      if (err instanceof EnvelopeError) throw envelopeRefusal(r, err);
      if (err instanceof TemplateError) {
        throw new AgentError(AgentCode.InvalidContent, `SecretSync ${r.namespace}/${r.sync} version ${plan.version}: ${err.message}. Nothing was written; fix the template`);
      }
      throw err;
    } finally {
      dataKey.fill(0);
    }
  }

  /** Writes prepared files into <dir>/<NAME>, then wipes them from memory. */
  async commit(p: Prepared): Promise<void> {
    const directory = join(this.o.dir, p.sync.name);
    try {
      const res = await this.write(directory, p.files, p.ownership);
      this.o.log.info(
        {
          sync: p.sync.name,
          targetSecret: p.sync.secret,
          namespace: this.o.namespace,
          version: p.version,
          mode: p.mode,
          keys: res.keys,
          removedKeys: res.removed,
          directory,
          fileMode: `0${p.ownership.mode.toString(8)}`,
          ...(p.ownership.uid !== undefined ? { uid: p.ownership.uid } : {}),
          ...(p.ownership.gid !== undefined ? { gid: p.ownership.gid } : {}),
        },
        'delivered',
      );
    } finally {
      for (const b of Object.values(p.files)) b.fill(0);
    }
  }
}
