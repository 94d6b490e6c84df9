// Act: carries out a plan against the API server in the one order `steps` gives, and
// decides nothing. It stops at the first write that fails, or at a create that finds the
// name taken by a Secret the cache does not hold, and says which; what follows is planned
// like everything else (plan.ts: planWriteFailure, planTakenName) and carried out by
// another act. Events are sent only once every write of the plan is made.
import type { SecretSync, SecretSyncStatus } from '../api/types.js';
import { StaleObjectError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { GrantWrite } from './grants.js';
import type { Observed } from './observe.js';
import type { Cleanup, Plan, PlannedEvent } from './plan.js';
import type { SyncWriter } from './ports.js';
import type { TemplatePatch } from './rollout.js';
import type { SecretWrite } from './target.js';

/** One write (or event) of a plan. */
export type Step =
  | { kind: 'finalizers'; list: string[] }
  | { kind: 'secret'; write: SecretWrite }
  | { kind: 'grant'; write: GrantWrite }
  | { kind: 'rollout'; patch: TemplatePatch }
  | { kind: 'cleanup'; cleanup: Cleanup }
  | { kind: 'status'; status: SecretSyncStatus }
  | { kind: 'event'; event: PlannedEvent };

/**
 * The writes of a plan in the order they are made (the one order, for act and the tests):
 * an added finalizer before the writes it protects; the Secret; the grants to it and the
 * rollouts to its new version after it; the Secrets an earlier target name left behind once
 * the new one is written; a removed finalizer after the cleanups it waits for; status, which
 * records all of it, last; then the events.
 */
export function steps(plan: Plan): Step[] {
  const out: Step[] = [];
  if (plan.finalizers?.when === 'before') out.push({ kind: 'finalizers', list: plan.finalizers.list });
  if (plan.secret) out.push({ kind: 'secret', write: plan.secret });
  for (const write of plan.grants ?? []) out.push({ kind: 'grant', write });
  for (const patch of plan.rollouts ?? []) out.push({ kind: 'rollout', patch });
  for (const cleanup of plan.cleanups) out.push({ kind: 'cleanup', cleanup });
  if (plan.finalizers?.when === 'after') out.push({ kind: 'finalizers', list: plan.finalizers.list });
  if (plan.status) out.push({ kind: 'status', status: plan.status });
  for (const event of plan.events) out.push({ kind: 'event', event });
  return out;
}

export interface ActOutcome {
  /** The SecretSync as act leaves it: our own writes move its resourceVersion forward, and a status written is its status. */
  ss: SecretSync;
  /** The rollouts made (pod templates set), also when a later write failed. */
  rolled: TemplatePatch[];
  /** The plan's status was written (it is `ss.status` now). */
  statusWritten: boolean;
  /** The write that failed; nothing after it was carried out. */
  failed?: unknown;
  /** A create found the name taken by a Secret the cache does not hold; nothing after it was carried out. */
  taken?: { namespace: string; name: string };
}

type Taken = NonNullable<ActOutcome['taken']>;

/** The name, when a create finds it taken (nothing is written then). */
async function writeSecret(write: SecretWrite, w: SyncWriter): Promise<Taken | undefined> {
  switch (write.kind) {
    case 'patch':
      await w.patchSecret(write.namespace, write.name, write.patch);
      return undefined;
    case 'replace': {
      // Validate first: a new Secret the API server refuses must not cost the old one.
      const { namespace, name } = write.secret.metadata;
      await w.validateSecret(write.secret);
      await w.deleteSecret(namespace, name, write.oldUid);
      if ((await w.createSecret(write.secret)) === 'exists') throw new StaleObjectError(`Secret ${namespace}/${name} was recreated meanwhile; retrying`);
      return undefined;
    }
    case 'create': {
      const { namespace, name } = write.secret.metadata;
      return (await w.createSecret(write.secret)) === 'created' ? undefined : { namespace, name };
    }
  }
}

export async function act(o: Observed, plan: Plan, w: SyncWriter, log: Logger): Promise<ActOutcome> {
  // A working copy: our own writes move its resourceVersion forward.
  const ss: SecretSync = { ...o.ss, metadata: { ...o.ss.metadata } };
  const moved = (rv: string | undefined) => {
    if (rv) ss.metadata.resourceVersion = rv;
  };
  const all = steps(plan);
  const rolled: TemplatePatch[] = [];
  let statusWritten = false;
  try {
    for (const step of all) {
      switch (step.kind) {
        case 'finalizers':
          moved(await w.setFinalizers(ss, step.list));
          break;
        case 'secret': {
          const taken = await writeSecret(step.write, w);
          if (taken) return { ss, rolled, statusWritten, taken };
          break;
        }
        case 'grant':
          await w.writeGrant(step.write);
          break;
        case 'rollout': {
          const r = step.patch;
          await w.setTemplateAnnotation({ kind: r.kind, namespace: r.namespace, name: r.name }, r.key, r.value);
          rolled.push(r);
          log.info({ secretsync: o.key, workload: `${r.kind}/${r.name}`, version: r.value }, 'rolled a workload to a new version');
          break;
        }
        case 'cleanup': {
          const c = step.cleanup;
          if (c.kind === 'delete') await w.deleteSecret(c.namespace, c.name, c.uid);
          else await w.patchSecret(c.namespace, c.name, c.patch);
          log.info({ secretsync: o.key, secretName: c.name, action: c.kind }, c.kind === 'delete' ? 'deleted a Secret this SecretSync no longer targets' : 'released a Secret this SecretSync no longer targets');
          break;
        }
        case 'status':
          moved(await w.writeStatus(ss, step.status));
          ss.status = step.status;
          statusWritten = true;
          break;
        case 'event':
          break; // below, once every write is made
      }
    }
  } catch (failed) {
    return { ss, rolled, statusWritten, failed };
  }
  for (const step of all) if (step.kind === 'event') await w.event(ss, step.event.type, step.event.reason, step.event.message);
  return { ss, rolled, statusWritten };
}
