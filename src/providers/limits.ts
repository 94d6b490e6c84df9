// What one answer of a secret manager may cost: a total deadline per request (connect,
// headers and body together, not an idle timeout that a trickling server resets) and a
// cap on the bytes of its body. A source's address is written by whoever may create a
// SecretSource, so a server that never answers or streams an endless body must cost a
// reconcile no more than `timeoutMs` and the process no more than `maxResponseBytes` per
// request in flight. Providers throw these two errors from their transport and map them
// to SourceUnavailable with their own context (vault/errors.ts, aws/errors.ts).
import { Transform, type Readable } from 'node:stream';

export interface SourceLimits {
  /** Total time one request may take, body included. */
  timeoutMs: number;
  /** Largest response body accepted, in bytes. */
  maxResponseBytes: number;
}

/**
 * 4 MiB: far above what a SecretSync can hold (spec.target.maxSizeBytes, at most 1 MiB) and
 * a full AWS BatchGetSecretValue (20 secrets of at most 64 KiB, base64 or JSON-escaped).
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_SOURCE_TIMEOUT_MS = 15_000;

/** The request did not complete (body included) within its deadline. */
export class DeadlineError extends Error {
  readonly code = 'ESS_DEADLINE';
  constructor(readonly timeoutMs: number) {
    super(`no complete answer within ${formatMs(timeoutMs)}`);
    this.name = 'DeadlineError';
  }
}

/** The answer's body was larger than the cap; reading stopped there and the connection was closed. */
export class ResponseTooLargeError extends Error {
  readonly code = 'ESS_RESPONSE_TOO_LARGE';
  constructor(readonly maxBytes: number) {
    super(`response larger than ${maxBytes} bytes`);
    this.name = 'ResponseTooLargeError';
  }
}

export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The limit error in `err` or its cause chain (SDKs wrap what a stream threw). */
export function limitErrorOf(err: unknown): DeadlineError | ResponseTooLargeError | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof DeadlineError || e instanceof ResponseTooLargeError) return e;
  }
  return undefined;
}

/**
 * `body` passed through a byte counter: past `maxBytes`, or when `deadline` (epoch ms)
 * passes before the end, the returned stream fails and `body` is destroyed (which closes
 * its connection), so nothing more is read.
 */
export function boundedBody(body: Readable, maxBytes: number, deadline: number, timeoutMs: number): Readable {
  let seen = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > maxBytes) done(new ResponseTooLargeError(maxBytes));
      else done(null, chunk);
    },
  });
  const timer = setTimeout(() => counter.destroy(new DeadlineError(timeoutMs)), Math.max(0, deadline - Date.now()));
  const stop = () => {
    clearTimeout(timer);
    if (!body.destroyed && !body.readableEnded) body.destroy();
  };
  counter.once('close', stop);
  counter.once('end', () => clearTimeout(timer));
  body.once('error', (err) => counter.destroy(err));
  body.pipe(counter);
  return counter;
}
