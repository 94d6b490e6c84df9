// Semantic validation the CRD schema cannot express. Each failure is an InvalidSpecError
// whose message names the field and says what to write instead.
import { CronExpressionParser } from 'cron-parser';
import { InvalidSpecError } from '../errors.js';
import { parseDuration } from './duration.js';
import type { SecretSync } from './types.js';

export const MIN_REFRESH_MS = 10_000;

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function validateCron(expr: string, field: string, timeZone?: string): void {
  const fields = expr.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    throw new InvalidSpecError(`${field} "${expr}" has ${fields} fields: write 5 (minute hour day month weekday) or 6 (seconds first)`);
  }
  try {
    CronExpressionParser.parse(expr, { tz: timeZone ?? 'UTC' });
  } catch (err) {
    throw new InvalidSpecError(`${field} "${expr}" is not a valid cron expression: ${(err as Error).message}`);
  }
}

export function validateSecretSync(ss: SecretSync): void {
  const r = ss.spec.refresh;
  if (r?.timeZone !== undefined && !isValidTimeZone(r.timeZone)) {
    throw new InvalidSpecError(`spec.refresh.timeZone "${r.timeZone}" is not an IANA time zone: use e.g. UTC or Europe/Berlin`);
  }
  if (r?.schedule !== undefined) validateCron(r.schedule, 'spec.refresh.schedule', r.timeZone);
  if (r?.interval !== undefined) {
    const ms = parseDuration(r.interval);
    if (ms === undefined) throw new InvalidSpecError(`spec.refresh.interval "${r.interval}" is not a duration: use e.g. 30s, 15m or 1h`);
    if (ms < MIN_REFRESH_MS) {
      throw new InvalidSpecError(`spec.refresh.interval "${r.interval}" is shorter than 10s: the source would be polled too often`);
    }
  }
  const keys = new Set<string>();
  for (const [i, d] of (ss.spec.data ?? []).entries()) {
    if (keys.has(d.key)) throw new InvalidSpecError(`spec.data[${i}].key "${d.key}" appears twice: each key of the target once`);
    keys.add(d.key);
  }
}
