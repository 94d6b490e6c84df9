// Scheduled rotation's pure core: which remote secrets a SecretSync's spec.rotation
// rewrites (targets.ts, refusing specs whose rotation could not be written or seen), when
// it is due (schedule.ts: cron ticks in a time zone, with Vixie cron's daylight-saving
// rules), and the new values (generator.ts: uniform characters from crypto.randomInt).
// validate.ts checks spec.rotation for the reconciler. No I/O: the reconciler records the
// pending rotation and writes through the provider ports.
// Part of src/secretsync/, under its import rules (eslint.config.js).
export { ALPHABETS, CHARSETS, DEFAULT_CHARSET, DEFAULT_LENGTH, MAX_LENGTH, MIN_LENGTH, generate } from './generator.js';
export { nextRotationAfter, rotationDue, type RotationDue, type ScheduleSpec } from './schedule.js';
export { rotationTargets, type RotationTarget } from './targets.js';
export { validateRotation } from './validate.js';
