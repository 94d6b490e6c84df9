// The ListWatch port an Informer reads through, the informer's event and option types,
// and helpers to key objects and recognise 410 Gone. Kept apart from informer.ts so the
// Kubernetes adapter (src/kube/list-watch.ts) depends only on this contract.
import type { Clock } from './clock.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface KubeObjectLike {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export interface WatchHandle {
  abort(): void;
}

/** The port to the API server: one list, and a watch from a resourceVersion. */
export interface ListWatch<T> {
  list(): Promise<{ items: T[]; resourceVersion: string }>;
  /** `onEvent` gets ERROR events with their Status object; `onDone` fires once when the watch ends. */
  watch(
    resourceVersion: string,
    onEvent: (type: WatchEventType, obj: unknown) => void,
    onDone: (err?: unknown) => void,
  ): Promise<WatchHandle>;
}

export interface InformerHandlers<T> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

export type InformerEventType =
  | 'listed'
  | 'list-error'
  | 'watch-started'
  | 'watch-ended'
  | 'watch-error'
  | 'relist'
  | 'watchdog-fired'
  | 'gone';

/** For monitoring: `count` on `listed`, `error` on the error types, `reason` on `relist`. */
export interface InformerEvent {
  type: InformerEventType;
  count?: number;
  error?: string;
  reason?: RelistReason;
}

export type RelistReason = 'gone' | 'watchdog' | 'resync';

export interface InformerOptions<T> {
  listWatch: ListWatch<T>;
  clock?: Clock;
  /** Periodic relist that repairs the cache. Default 10 min. */
  resyncMs?: number;
  /** Relist when no event (bookmarks included) arrived for this long. Default 5 min. */
  watchdogMs?: number;
  /** A list that has not answered after this long counts as failed. Default 60 s. */
  listTimeoutMs?: number;
  /** Restart backoff: initial 200 ms, doubling, capped at 30 s, minus up to `jitter` of it. */
  backoff?: { initialMs?: number; maxMs?: number; jitter?: number };
  /** A watch that lived this long (and was not silent) resets the backoff. Default 30 s. */
  healthyWatchMs?: number;
  /** Jitter source, [0, 1). Default Math.random. */
  random?: () => number;
  onEvent?: (e: InformerEvent) => void;
  /** A throwing handler (or index function) is reported here and does not disturb the informer or other handlers. */
  onHandlerError?: (err: unknown) => void;
}

/** The cache key of an object: `namespace/name`, or `name` when it has no namespace. */
export function objectKey(obj: KubeObjectLike): string | undefined {
  const name = obj.metadata?.name;
  if (!name) return undefined;
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${name}` : name;
}

/** 410 Gone as an error (`code`/`statusCode`) or as the Status of an ERROR event. */
export function isGone(errOrStatus: unknown): boolean {
  if (typeof errOrStatus !== 'object' || errOrStatus === null) return false;
  const e = errOrStatus as { code?: unknown; statusCode?: unknown; reason?: unknown };
  return e.code === 410 || e.statusCode === 410 || e.reason === 'Expired' || e.reason === 'Gone';
}

/** A short description for monitoring; never an object's content. */
export function watchErrorText(err: unknown): string {
  if (err instanceof Error) return err.message.slice(0, 300);
  if (typeof err === 'object' && err !== null) {
    const s = err as { code?: unknown; reason?: unknown; message?: unknown };
    return [s.code, s.reason, s.message].filter((x) => x !== undefined).join(' ').slice(0, 300) || 'unknown error';
  }
  return String(err).slice(0, 300);
}
