// When a SecretSync's source is next read: a pure function of its refresh spec, a seed and
// a time. Interval refreshes sit on a fixed grid `phase + k * interval` (epoch-anchored),
// where the phase comes from the seed; cron refreshes sit on the cron's ticks plus a small
// fixed jitter from the seed. Nothing here depends on when the operator started or on a
// remembered last check, so a restart or a leader change neither shifts the schedule nor
// makes everything due at once: each sync is next read at its tick.
//
// The seed (due.ts refreshSeed) decides who shares a moment: a per-remote-path seed spreads
// the syncs of a source over the whole interval by the secret they read (one read per call,
// as Vault has) while the syncs of one secret share a tick, and so one read; a per-source
// seed aligns them all so a batching provider (AWS: 20 secrets a call) serves them together.
// A refresh accepts any read that started at or after its tick (latestRefreshAtOrBefore).
import { createHash } from 'node:crypto';
import { parseDuration } from '../api/duration.js';
import { DEFAULTS, type RefreshPolicy, type RefreshSpec } from '../api/types.js';
import { nextCronTickAfter } from './rotation/schedule.js';

/** Cron jitter: at most a tenth of the period, and never more than this. */
const MAX_CRON_JITTER_MS = 30_000;

/** A fraction in [0, 1) fixed for a given seed. */
export function seedFraction(seed: string): number {
  return createHash('sha256').update(seed).digest().readUInt32BE(0) / 2 ** 32;
}

/** The refresh interval in ms, or undefined for a cron schedule. */
export function intervalMs(refresh: RefreshSpec | undefined): number | undefined {
  if (refresh?.schedule !== undefined) return undefined;
  return parseDuration(refresh?.interval ?? DEFAULTS.refreshInterval);
}

/** The first refresh tick strictly after `after`. */
export function nextRefreshAfter(refresh: RefreshSpec | undefined, after: Date, seed: string): Date {
  const every = intervalMs(refresh);
  const t = after.getTime();
  if (every !== undefined) {
    const phase = Math.floor(every * seedFraction(seed));
    return new Date(phase + (Math.floor((t - phase) / every) + 1) * every);
  }
  // Cron ticks in the zone as rotation/schedule.ts maps them (a repeated wall time once):
  // cron-parser asked in the zone spins to its loop limit near some fall-backs (~1 s of CPU,
  // then an error), e.g. "0 0-1 * * *" in Australia/Lord_Howe, "44 * * * *" in Pacific/Chatham.
  const cron = { schedule: refresh?.schedule ?? '', timeZone: refresh?.timeZone ?? 'UTC' };
  const a = nextCronTickAfter(cron, after, false).getTime();
  const period = nextCronTickAfter(cron, new Date(a), false).getTime() - a;
  const jitter = Math.floor(Math.min(period / 10, MAX_CRON_JITTER_MS) * seedFraction(seed));
  // Ticks are cronTick + jitter: the first one after `after` follows the cron tick after `after - jitter`.
  return new Date(nextCronTickAfter(cron, new Date(t - jitter), false).getTime() + jitter);
}

/** Cron ticks latestRefreshAtOrBefore steps through at most. */
const MAX_CRON_STEPS = 64;

/**
 * The latest refresh tick at or before `at`. `from` is a tick at or before `at` (for a
 * cron schedule the search steps forward from it); undefined when more than a few dozen
 * cron ticks lie between them, for the caller to fall back on `at` itself.
 */
export function latestRefreshAtOrBefore(refresh: RefreshSpec | undefined, at: Date, seed: string, from: Date): Date | undefined {
  const every = intervalMs(refresh);
  // Exactly one grid tick lies in (at - every, at].
  if (every !== undefined) return nextRefreshAfter(refresh, new Date(at.getTime() - every), seed);
  if (from.getTime() > at.getTime()) return undefined;
  let tick = from;
  for (let i = 0; i < MAX_CRON_STEPS; i++) {
    const next = nextRefreshAfter(refresh, tick, seed);
    if (next.getTime() > at.getTime()) return tick;
    tick = next;
  }
  return undefined;
}

/** spec.refresh.policy, Periodic when unset. */
export function refreshPolicy(refresh: RefreshSpec | undefined): RefreshPolicy {
  return refresh?.policy ?? 'Periodic';
}

/** How the Ready message states the schedule, e.g. `every 30s` or `on "0 * * * *" (UTC)`. */
export function describeRefresh(refresh: RefreshSpec | undefined): string {
  const policy = refreshPolicy(refresh);
  if (policy === 'OnChange') return 'only when the spec changes or on force-sync (refresh.policy OnChange)';
  if (policy === 'CreatedOnce') return 'only while the Secret does not exist, or once per force-sync (refresh.policy CreatedOnce)';
  if (refresh?.schedule !== undefined) return `on "${refresh.schedule}" (${refresh.timeZone ?? 'UTC'})`;
  return `every ${refresh?.interval ?? DEFAULTS.refreshInterval}`;
}
