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

/** Consecutive values of a sorted set, and the wrap from its last to its first over `period`. */
function gaps(values: readonly number[], period: number): { inner: number; wrap: number } {
  let inner = Infinity;
  for (let i = 1; i < values.length; i++) inner = Math.min(inner, values[i]! - values[i - 1]!);
  const wrap = values.length > 0 ? period - values[values.length - 1]! + values[0]! : Infinity;
  return { inner, wrap };
}

/** Whether two consecutive units of a field can both match (m and m + 1, or the last and the first across the next field). */
function adjacent(values: readonly number[], period: number, nextAdjacent: boolean): boolean {
  const set = new Set(values);
  if (values.some((v) => set.has(v + 1))) return true;
  return nextAdjacent && set.has(0) && set.has(period - 1);
}

/**
 * The smallest time between two consecutive ticks of a cron (5 or 6 fields), computed from
 * its fields rather than sampled: every matching minute has the same seconds, so a gap under
 * a minute is between two seconds of one minute, or from the last second of a minute to the
 * first of the next when two adjacent minutes both match; likewise minutes within hours.
 * A lower bound (days are taken as able to follow each other); at least 60 s for 5 fields.
 * Time zones do not matter below an hour: offsets change by whole quarter hours.
 */
export function shortestTickGapMs(expr: string, timeZone?: string): number {
  const { second, minute, hour } = CronExpressionParser.parse(expr, { tz: timeZone ?? 'UTC' }).fields;
  const s = [...second.values].sort((a, b) => a - b);
  const m = [...minute.values].sort((a, b) => a - b);
  const h = [...hour.values].sort((a, b) => a - b);
  const hoursAdjacent = h.length === 24 || adjacent(h, 24, true);
  const minutesAdjacent = adjacent(m, 60, hoursAdjacent);
  if (s.length > 1) {
    const g = gaps(s, 60);
    return 1000 * Math.min(g.inner, minutesAdjacent ? g.wrap : Infinity, 60);
  }
  if (m.length > 1) {
    const g = gaps(m, 60);
    return 60_000 * Math.min(g.inner, hoursAdjacent ? g.wrap : Infinity, 60);
  }
  if (h.length > 1) {
    // The wrap too: hours 0, 9 and 18 tick 6 hours apart from 18:00 to 00:00.
    const g = gaps(h, 24);
    return 3_600_000 * Math.min(g.inner, g.wrap);
  }
  return 3_600_000;
}

function seconds(ms: number): string {
  return ms < 60_000 ? `${ms / 1000}s` : `${ms / 60_000}m`;
}

/**
 * Refuses a cron whose ticks can come closer than `minMs`. `field` names it in the message,
 * `why` says what each tick costs and `instead` offers a schedule that works.
 */
export function checkCronPeriod(expr: string, field: string, minMs: number, o: { timeZone?: string; why: string; instead: string }): void {
  const gap = shortestTickGapMs(expr, o.timeZone);
  if (gap < minMs) {
    throw new InvalidSpecError(
      `${field} "${expr}" has ticks ${seconds(gap)} apart, closer than the minimum of ${seconds(minMs)}: ${o.why}; ${o.instead}`,
    );
  }
}

export function validateSecretSync(ss: SecretSync): void {
  const r = ss.spec.refresh;
  if (r?.timeZone !== undefined && !isValidTimeZone(r.timeZone)) {
    throw new InvalidSpecError(`spec.refresh.timeZone "${r.timeZone}" is not an IANA time zone: use e.g. UTC or Europe/Berlin`);
  }
  if (r?.schedule !== undefined) {
    validateCron(r.schedule, 'spec.refresh.schedule', r.timeZone);
    checkCronPeriod(r.schedule, 'spec.refresh.schedule', MIN_REFRESH_MS, {
      timeZone: r.timeZone,
      why: 'every tick reads the source',
      instead: 'write one with at least 10s between ticks, e.g. "*/10 * * * * *" or "*/5 * * * *", or use spec.refresh.interval (at least 10s)',
    });
  }
  if (r?.interval !== undefined) {
    const ms = parseDuration(r.interval);
    if (ms === undefined) throw new InvalidSpecError(`spec.refresh.interval "${r.interval}" is not a duration: use e.g. 30s, 15m, 1h or 1500ms (whole milliseconds)`);
    if (!Number.isInteger(ms)) {
      throw new InvalidSpecError(`spec.refresh.interval "${r.interval}" is not a whole number of milliseconds: write e.g. 30s, 1h or 1500ms`);
    }
    if (ms < MIN_REFRESH_MS) {
      throw new InvalidSpecError(`spec.refresh.interval "${r.interval}" is shorter than 10s: the source would be polled too often`);
    }
  }
  const keys = new Set<string>();
  for (const [i, d] of (ss.spec.data ?? []).entries()) {
    if (keys.has(d.key)) throw new InvalidSpecError(`spec.data[${i}].key "${d.key}" appears twice: each key of the target once`);
    keys.add(d.key);
  }
  validateDecoding(ss);
}

const STRATEGIES = ['none', 'base64', 'base64url', 'auto'];

/** Whether an entry decodes (a decodingStrategy other than None); throws for a name that is none of the four. */
function decodes(written: string | undefined, field: string): boolean {
  if (written === undefined || written === '') return false;
  if (!STRATEGIES.includes(written.toLowerCase())) {
    throw new InvalidSpecError(`${field} "${written.slice(0, 32)}" is not a decoding strategy: write None, Base64, Base64URL or Auto`);
  }
  return written.toLowerCase() !== 'none';
}

/**
 * decodingStrategy names one of the four, and rotation never generates a key that is
 * decoded: the generator writes text, which Base64 would refuse or Auto turn into other bytes.
 */
function validateDecoding(ss: SecretSync): void {
  const rotated = new Set(ss.spec.rotation?.keys ?? []);
  const dataKeys = new Set((ss.spec.data ?? []).map((d) => d.key));
  const refuse = (key: string, field: string) =>
    new InvalidSpecError(
      `spec.rotation.keys names "${key}", which ${field} decodes: rotation writes generated text at the source, which would not decode as stored. ` +
        `Leave "${key}" out of spec.rotation.keys, or set ${field} to None`,
    );
  for (const [i, d] of (ss.spec.data ?? []).entries()) {
    const field = `spec.data[${i}].decodingStrategy`;
    if (decodes(d.decodingStrategy, field) && rotated.has(d.key)) throw refuse(d.key, field);
  }
  for (const [i, d] of (ss.spec.dataFrom ?? []).entries()) {
    const field = `spec.dataFrom[${i}].decodingStrategy`;
    if (!decodes(d.decodingStrategy, field)) continue;
    const key = [...rotated].find((k) => !dataKeys.has(k));
    if (key !== undefined) throw refuse(key, field);
  }
}
