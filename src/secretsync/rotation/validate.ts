// spec.rotation checks the CRD schema cannot express; each failure is an InvalidSpecError
// naming the field and the fix. The reconciler calls this before anything is due.
import type { SecretSync } from '../../api/types.js';
import { checkCronPeriod, isValidTimeZone, validateCron } from '../../api/validate.js';
import { InvalidSpecError } from '../../errors.js';
import { ALPHABETS, CHARSETS, MAX_LENGTH, MIN_LENGTH } from './generator.js';
import { nextRotationAfter } from './schedule.js';
import { rotationTargets, type RotationTarget } from './targets.js';

/** Rotations at most once a minute: each writes a version the source keeps (Vault KV keeps 10 by default). */
export const MIN_ROTATION_PERIOD_MS = 60_000;


/** Validates spec.rotation and returns what it rotates ([] without spec.rotation). */
export function validateRotation(ss: SecretSync, now = new Date()): RotationTarget[] {
  const r = ss.spec.rotation;
  if (r === undefined) return [];
  if (r.timeZone !== undefined && !isValidTimeZone(r.timeZone)) {
    throw new InvalidSpecError(`spec.rotation.timeZone "${r.timeZone}" is not an IANA time zone: use e.g. UTC or Europe/Berlin`);
  }
  validateCron(r.schedule, 'spec.rotation.schedule', r.timeZone);
  checkCronPeriod(r.schedule, 'spec.rotation.schedule', MIN_ROTATION_PERIOD_MS, {
    timeZone: r.timeZone,
    why: 'it would rotate more often than once a minute, and every rotation writes a new version at the source',
    instead: 'use a schedule with at least a minute between rotations, e.g. "0 3 * * 0"',
  });
  nextRotationAfter(r, now); // the schedule resolves in its time zone
  const length = r.generator?.length;
  if (length !== undefined && (!Number.isInteger(length) || length < MIN_LENGTH || length > MAX_LENGTH)) {
    throw new InvalidSpecError(`spec.rotation.generator.length ${length} is not a whole number in ${MIN_LENGTH}..${MAX_LENGTH}: choose one (default 32)`);
  }
  const charset = r.generator?.charset;
  if (charset !== undefined && !Object.hasOwn(ALPHABETS, charset)) {
    throw new InvalidSpecError(`spec.rotation.generator.charset "${charset}" is not known: use one of ${CHARSETS.join(', ')}`);
  }
  return rotationTargets(ss);
}
