// Act: carries out a plan against the API server, in order (finalizer, the Secret write,
// cleanups, status, events). The first failed write becomes Ready=False with a Warning
// event, exactly as a failed read does; a stale cache (409 on a precondition) is retried
// quietly from fresh caches instead.
import type { SecretSync } from '../api/types.js';
import { StaleObjectError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { describeError } from './describe-error.js';
import type { Observed } from './observe.js';
import type { Cleanup, Plan } from './plan.js';
import type { SyncWriter } from './ports.js';
import { failureStatus, sameStatus } from './status.js';
import { conflictError, isOwnedBy, secretWrite, type SecretWrite } from './target.js';

export interface ActOutcome {
  /** The plan's own error, or the write that failed. */
  error?: { cause: unknown; retryable: boolean };
}

async function writeSecret(write: SecretWrite, ownerUid: string | undefined, w: SyncWriter): Promise<void> {
  switch (write.kind) {
    case 'patch':
      return w.patchSecret(write.namespace, write.name, write.patch);
    case 'replace': {
      // Validate first: a new Secret the API server refuses must not cost the old one.
      const { namespace, name } = write.secret.metadata;
      await w.validateSecret(write.secret);
      await w.deleteSecret(namespace, name, write.oldUid);
      if ((await w.createSecret(write.secret)) === 'exists') throw new StaleObjectError(`Secret ${namespace}/${name} was recreated meanwhile; retrying`);
      return;
    }
    case 'create': {
      const { namespace, name } = write.secret.metadata;
      if ((await w.createSecret(write.secret)) === 'created') return;
      // The name is taken by a Secret our cache does not hold (not labelled as ours).
      const existing = await w.readSecret(namespace, name);
      if (!existing) throw new StaleObjectError(`Secret ${namespace}/${name} was deleted meanwhile; retrying`);
      if (!isOwnedBy(existing, ownerUid)) throw conflictError(existing);
      const repair = secretWrite(existing, write.secret);
      if (repair) await writeSecret(repair, ownerUid, w);
      return;
    }
  }
}

async function cleanup(c: Cleanup, w: SyncWriter): Promise<void> {
  if (c.kind === 'delete') await w.deleteSecret(c.namespace, c.name, c.uid);
  else await w.patchSecret(c.namespace, c.name, c.patch);
}

export async function act(o: Observed, plan: Plan, w: SyncWriter, log: Logger): Promise<ActOutcome> {
  // A working copy: our own writes move its resourceVersion forward.
  const ss: SecretSync = { ...o.ss, metadata: { ...o.ss.metadata } };
  const moved = (rv: string | undefined) => {
    if (rv) ss.metadata.resourceVersion = rv;
  };
  try {
    if (plan.finalizers?.when === 'before') moved(await w.setFinalizers(ss, plan.finalizers.list));
    if (plan.secret) await writeSecret(plan.secret, ss.metadata.uid, w);
    for (const g of plan.grants ?? []) await w.writeGrant(g);
    for (const r of plan.rollouts ?? []) {
      await w.setTemplateAnnotation({ kind: r.kind, namespace: r.namespace, name: r.name }, r.key, r.value);
      log.info({ secretsync: o.key, workload: `${r.kind}/${r.name}`, version: r.value }, 'rolled a workload to a new version');
    }
    for (const c of plan.cleanups) {
      await cleanup(c, w);
      log.info({ secretsync: o.key, secret: c.name, action: c.kind }, c.kind === 'delete' ? 'deleted a Secret this SecretSync no longer targets' : 'released a Secret this SecretSync no longer targets');
    }
    if (plan.finalizers?.when === 'after') moved(await w.setFinalizers(ss, plan.finalizers.list));
    if (plan.status) moved(await w.writeStatus(ss, plan.status));
  } catch (err) {
    if (err instanceof StaleObjectError) return { error: { cause: err, retryable: true } };
    return { error: await recordFailure(o, ss, plan, err, w, log) };
  }
  for (const e of plan.events) await w.event(ss, e.type, e.reason, e.message);
  return plan.error ? { error: plan.error } : {};
}

async function recordFailure(o: Observed, ss: SecretSync, plan: Plan, err: unknown, w: SyncWriter, log: Logger): Promise<{ cause: unknown; retryable: boolean }> {
  const d = describeError(err); // the reconciler logs it
  const status = failureStatus(ss, d, o.now, plan.forceSyncHandled);
  if (!sameStatus(ss.status, status)) {
    try {
      await w.writeStatus(ss, status);
      await w.event(ss, 'Warning', d.reason, d.message);
    } catch (writeErr) {
      log.warn({ secretsync: o.key, err: describeError(writeErr).message }, 'could not record the failure in status');
    }
  }
  return { cause: err, retryable: d.retryable };
}
