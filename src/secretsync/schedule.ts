// When a SecretSync is next due for a refresh: a pure function of its spec, an anchor time
// taken from status (or the last check this process made) and `now`. Interval refreshes
// sit on a grid anchored at the anchor, cron refreshes on the cron's ticks, so restarting
// the operator never shifts them, and ticks missed while it was down run once, not once each.
// A deterministic jitter per object (from its uid) spreads load without moving between restarts.
import { createHash } from 'node:crypto';
import { CronExpressionParser } from 'cron-parser';
import { parseDuration } from '../api/duration.js';
import { DEFAULTS, type RefreshSpec } from '../api/types.js';

const MAX_JITTER_MS = 30_000;

/** A fraction in [0, 1) fixed for a given seed. */
export function jitterFraction(seed: string): number {
  return createHash('sha256').update(seed).digest().readUInt32BE(0) / 2 ** 32;
}

function jitterMs(periodMs: number, seed: string): number {
  return Math.floor(Math.min(periodMs * 0.1, MAX_JITTER_MS) * jitterFraction(seed));
}

export function intervalMs(refresh: RefreshSpec | undefined): number | undefined {
  if (refresh?.schedule !== undefined) return undefined;
  return parseDuration(refresh?.interval ?? DEFAULTS.refreshInterval);
}

/**
 * The first refresh time strictly after `after`, on the schedule anchored at `anchor`.
 * For intervals: anchor + k * interval + jitter; for cron: the next tick + jitter.
 */
export function nextRefreshAfter(refresh: RefreshSpec | undefined, anchor: Date, after: Date, seed: string): Date {
  const every = intervalMs(refresh);
  if (every !== undefined) {
    const j = jitterMs(every, seed);
    const base = anchor.getTime() + j;
    const k = Math.max(1, Math.floor((after.getTime() - base) / every) + 1);
    return new Date(base + k * every);
  }
  const expr = CronExpressionParser.parse(refresh?.schedule ?? '', {
    currentDate: after,
    tz: refresh?.timeZone ?? 'UTC',
  });
  const tick = expr.next().toDate();
  const period = expr.next().toDate().getTime() - tick.getTime();
  const withJitter = new Date(tick.getTime() + jitterMs(period, seed));
  return withJitter;
}

/** True when a refresh tick lies in (lastCheck, now]. */
export function refreshDue(refresh: RefreshSpec | undefined, anchor: Date, lastCheck: Date, now: Date, seed: string): boolean {
  return nextRefreshAfter(refresh, anchor, lastCheck, seed).getTime() <= now.getTime();
}
