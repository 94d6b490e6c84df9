// What a rotation writes, decided before any write: whether it can run at all (the spec's
// rotated paths, a provider that can write secrets), the pending record of a new one, one
// source write per rotated path, the generator's settings, and what the attempt came to.
// Pure; the reconciler carries it out in rotate.ts's crash-safe order.
import { sourceKey } from '../../api/source-ref.js';
import type { AnySource, PendingRotation, RotationCharset, SecretSync } from '../../api/types.js';
import { InvalidSpecError } from '../../errors.js';
import { describeError } from '../describe-error.js';
import type { RotationOutcome, RotationStep } from '../rotate.js';
import { DEFAULT_CHARSET, DEFAULT_LENGTH } from './generator.js';
import { rotationTargets, type RotationTarget } from './targets.js';

/** What a rotation writes, decided before any write (the values themselves are generated as they are written). */
export type RotationPlan =
  | { kind: 'fail'; cause: unknown }
  | { kind: 'rotate'; targets: RotationTarget[]; generator: { length: number; charset: RotationCharset } };

/**
 * Whether a rotation step can run, and what it writes: the spec's rotated paths and the
 * generator's settings (defaults applied). `writer` says whether the source's provider can
 * write secrets, or why there is no provider client.
 */
export function planRotation(ss: SecretSync, source: AnySource | undefined, writer: { canWrite: boolean } | { error: unknown }): RotationPlan {
  const spec = ss.spec.rotation;
  if (!spec) return { kind: 'fail', cause: new InvalidSpecError('spec.rotation is not set') };
  let targets: RotationTarget[];
  try {
    targets = rotationTargets(ss);
  } catch (cause) {
    return { kind: 'fail', cause };
  }
  if ('error' in writer) return { kind: 'fail', cause: writer.error };
  if (!writer.canWrite || !source) {
    const name = source ? sourceKey(source) : 'the source';
    return { kind: 'fail', cause: new InvalidSpecError(`${name} cannot write secrets: rotation needs a vault (KV v2) or aws source`) };
  }
  return { kind: 'rotate', targets, generator: { length: spec.generator?.length ?? DEFAULT_LENGTH, charset: spec.generator?.charset ?? DEFAULT_CHARSET } };
}

/**
 * A new rotation's pending record, under a fresh `id`: the source version each rotated path
 * builds on, as just read ('' for a path the read returned no version of).
 */
export function newPendingRotation(
  step: Extract<RotationStep, { kind: 'start' }>,
  targets: readonly RotationTarget[],
  sourceVersions: Record<string, string>,
  id: string,
  now: Date,
): PendingRotation {
  const basedOn: Record<string, string> = {};
  for (const t of targets) basedOn[t.path] = sourceVersions[t.path] ?? '';
  return { id, trigger: step.trigger, startedAt: now.toISOString(), basedOn };
}

/** One source write of a rotation: new values for `properties` (or the whole value) of the secret at `path`, checked against `basedOn`. */
export interface RotationPathWrite {
  path: string;
  basedOn: string;
  properties: string[];
  whole: boolean;
}

/**
 * The source writes of a rotation, in spec order: one per rotated path its pending record
 * names. A path added to spec.rotation.keys mid-rotation has no base version: it waits for
 * the next rotation.
 */
export function rotationWrites(targets: readonly RotationTarget[], pending: PendingRotation): RotationPathWrite[] {
  return targets.flatMap((t) => {
    const basedOn = pending.basedOn[t.path];
    return basedOn === undefined ? [] : [{ path: t.path, basedOn, properties: t.properties, whole: t.whole }];
  });
}

/** A rotation that made its writes (`written`: what the provider did with each). */
export function rotationDone(
  step: Exclude<RotationStep, { kind: 'none' }>,
  pending: PendingRotation,
  targets: readonly RotationTarget[],
  written: { path: string; outcome: string; version: string }[],
): RotationOutcome {
  return { ok: true, pending, keys: targets.flatMap((t) => t.keys), written, resumed: step.kind === 'resume' };
}

/**
 * A rotation that failed with `cause`; `recorded`: its pending record is in status. A
 * rotate-now that failed before its pending record counts as handled only when retrying
 * cannot help; a spec that refuses the rotation drops the pending record (nothing was
 * written, and retrying cannot help).
 */
export function rotationFailed(ss: SecretSync, step: Exclude<RotationStep, { kind: 'none' }>, cause: unknown, recorded: boolean): Extract<RotationOutcome, { ok: false }> {
  const error = describeError(cause);
  const rotateNowHandled = step.kind === 'start' && (recorded || !error.retryable) ? step.rotateNowHandled : ss.status?.rotateNowHandled;
  return { ok: false, error, cause, rotateNowHandled, dropPending: cause instanceof InvalidSpecError };
}
