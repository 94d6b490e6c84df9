// `--log-format text`: pino's JSON lines turned into one readable line each, for a terminal
// (`make run`). It formats what pino has already serialized, so redaction and the error
// serializer have run: this module never sees a value the JSON form would not show.
// Small on purpose (instead of pino-pretty and its dozen dependencies): time, level,
// message, then the other fields as key=value.
import type { DestinationStream } from 'pino';

export type LogFormat = 'json' | 'text';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'text'];

/** Fields every line carries that a terminal reader does not need on each line. */
const OMIT = new Set(['time', 'level', 'msg', 'name', 'identity', 'pid', 'hostname']);

const COLORS: Record<string, string> = { trace: '90', debug: '90', info: '36', warn: '33', error: '31', fatal: '31' };

export interface TextOptions {
  /** ANSI colour for the level (a terminal that wants it). */
  color?: boolean;
}

function scalar(v: unknown): string {
  if (typeof v === 'string') return v === '' || /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

/** `HH:MM:SS.mmm` in UTC from pino's ISO time; anything else is shown as it is. */
function clock(time: unknown): string {
  if (typeof time === 'string') {
    const m = /T(\d\d:\d\d:\d\d(?:\.\d{3})?)/.exec(time);
    if (m) return m[1] as string;
  }
  if (typeof time === 'number') return new Date(time).toISOString().slice(11, 23);
  return '--:--:--.---';
}

/**
 * One pino JSON line as `12:03:04.567 INFO  message key=value ...` (UTC). An error object
 * prints as `err="Type: message (code)"`. A line that is not JSON is passed through.
 */
export function formatLine(line: string, opts: TextOptions = {}): string {
  let rec: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return line.trimEnd();
    rec = parsed as Record<string, unknown>;
  } catch {
    return line.trimEnd();
  }
  const level = typeof rec.level === 'string' ? rec.level : String(rec.level ?? '');
  let tag = level.toUpperCase().padEnd(5);
  if (opts.color && COLORS[level]) tag = `\x1b[${COLORS[level]}m${tag}\x1b[0m`;
  const parts = [clock(rec.time), tag];
  if (rec.msg !== undefined) parts.push(String(rec.msg));
  for (const [k, v] of Object.entries(rec)) {
    if (OMIT.has(k) || v === undefined) continue;
    if (k === 'err' && typeof v === 'object' && v !== null) {
      const e = v as { type?: unknown; message?: unknown; code?: unknown };
      const text = `${String(e.type ?? 'Error')}: ${String(e.message ?? '')}${e.code !== undefined ? ` (${String(e.code)})` : ''}`;
      parts.push(`err=${JSON.stringify(text)}`);
      continue;
    }
    parts.push(`${k}=${scalar(v)}`);
  }
  return parts.join(' ');
}

/** A pino destination writing each record as a text line to `out`. */
export function textDestination(out: { write(s: string): unknown }, opts: TextOptions = {}): DestinationStream {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line !== '') out.write(`${formatLine(line, opts)}\n`);
    },
  };
}
