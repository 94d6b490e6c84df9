// When a rotation is due: the ticks of spec.rotation.schedule in its time zone, with cron's
// rules for daylight-saving changes made explicit. cron-parser alone gets them wrong for a
// stateless caller: asked afresh from a moment inside the repeated hour of a fall-back it
// returns the second 02:30 too (two rotations that day), and in the skipped hour of a
// spring-forward it moves 02:30 to 03:30, a tick that a question asked from 03:00..03:29
// does not see. So cron-parser only enumerates wall-clock times (in UTC, where every wall
// time exists once), and this module maps them to instants as Vixie cron does:
//
// - a wall time that does not exist (spring forward) runs once, at the transition;
// - a wall time that happens twice (fall back) runs at its first occurrence, and at the
//   second too only when the seconds, minute or hour field is a wildcard (`*`, `*/5`):
//   an hourly or minutely schedule ticks at both instants, a daily 02:30 once.
//
// Vixie cron skips wildcard jobs in a skipped hour; here every schedule's skipped ticks run
// once at the transition, so a schedule confined to that hour (`*/5 2 * * *`) still runs.
import { CronExpressionParser } from 'cron-parser';

export interface ScheduleSpec {
  schedule: string;
  /** IANA time zone of the schedule; default UTC. */
  timeZone?: string;
}

const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock time in `tz` at instant `t`, as the epoch ms of that wall time read as UTC. */
function wallAt(tz: string, t: number): number {
  const p: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(new Date(t))) p[part.type] = Number(part.value);
  const ms = t - Math.floor(t / 1000) * 1000;
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) + ms;
}

const offsetAt = (tz: string, t: number): number => wallAt(tz, t) - t;

/**
 * The instants a wall time `w` runs at: the first instant whose wall time reaches `w`
 * (the transition when `w` was skipped), and the second instant showing `w` if it repeats.
 * Assumes at most one offset change within a day of `w`, as in every tzdata zone.
 */
function instantsOf(tz: string, w: number): { first: number; second?: number } {
  const before = offsetAt(tz, w - DAY_MS);
  const after = offsetAt(tz, w + DAY_MS);
  const exact = [...new Set([w - before, w - after])].filter((t) => wallAt(tz, t) === w).sort((x, y) => x - y);
  if (exact.length > 0) return { first: exact[0]!, ...(exact.length > 1 ? { second: exact[1]! } : {}) };
  // Skipped: the transition is the first instant (whole seconds) whose wall time passes `w`.
  let lo = w - Math.max(before, after);
  let hi = w - Math.min(before, after);
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (wallAt(tz, mid) > w) hi = mid;
    else lo = mid;
  }
  return { first: hi };
}

/** Vixie cron's "wildcard job": the seconds, minute or hour field starts with `*`. */
function isWildcard(schedule: string): boolean {
  const fields = schedule.trim().split(/\s+/);
  const timeFields = fields.length === 6 ? fields.slice(0, 3) : fields.slice(0, 2);
  return timeFields.some((f) => f.startsWith('*'));
}

/** The first rotation tick strictly after `after`. */
export function nextRotationAfter(spec: ScheduleSpec, after: Date): Date {
  return nextCronTickAfter(spec, after, isWildcard(spec.schedule));
}

/**
 * The first tick strictly after `after`, with the rules above; `repeatWildcards` false: a
 * repeated wall time runs at its first instant only, whatever the fields (refresh schedules).
 */
export function nextCronTickAfter(spec: ScheduleSpec, after: Date, repeatWildcards: boolean): Date {
  const tz = spec.timeZone ?? 'UTC';
  const a = after.getTime();
  const wildcard = repeatWildcards;
  // A repeated wall time can run after `after` although it reads earlier than after's
  // wall time (02:10 CET follows 02:40 CEST): start that far back. Only second instants
  // can: a first instant of a wall time earlier than after's is at or before `after`.
  let lookback = 0;
  if (wildcard) {
    const offsets = [a - DAY_MS, a, a + DAY_MS].map((t) => offsetAt(tz, t));
    lookback = Math.max(...offsets) - Math.min(...offsets);
  }
  const walls = CronExpressionParser.parse(spec.schedule, { currentDate: new Date(wallAt(tz, a) - lookback - 1000), tz: 'UTC' });
  let best = Infinity;
  for (;;) {
    const { first, second } = instantsOf(tz, walls.next().toDate().getTime());
    // First instants grow with the wall time and a second instant follows its first:
    // once a first instant is past `after`, no later wall time can run sooner.
    if (first > a) return new Date(Math.min(best, first));
    if (wildcard && second !== undefined && second > a) best = Math.min(best, second);
  }
}

export interface RotationDue {
  due: boolean;
  /** The first tick after `now` when due (the caller records lastRotationTime = now), else the first after `last`. */
  next: Date;
}

/**
 * Whether a tick lies in (last, now]. `last` is status.lastRotationTime, or the SecretSync's
 * creationTimestamp when it never rotated. However many ticks were missed (the operator
 * was down), the answer is one rotation now, then the schedule resumes after `now`.
 */
export function rotationDue(spec: ScheduleSpec, last: Date, now: Date): RotationDue {
  const next = nextRotationAfter(spec, last);
  if (next.getTime() > now.getTime()) return { due: false, next };
  return { due: true, next: nextRotationAfter(spec, now) };
}
