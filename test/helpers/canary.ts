// Canary secret values and the forms a leak of one can take. A value that reaches a log
// line, an event, status or /metrics is rarely written raw: it is base64 (Secret data),
// or JSON-escaped (a log line, a JSON body in an error message, a Prometheus label).
import { randomBytes } from 'node:crypto';

/**
 * A unique canary with characters JSON escapes (a quote, a backslash) and a non-ASCII
 * letter, so its raw, JSON-escaped and base64 forms all differ.
 */
export function canary(prefix = 'canary'): string {
  return `${prefix}-"q"\\-ü-${randomBytes(8).toString('hex')}`;
}

const jsonEscaped = (v: string) => JSON.stringify(v).slice(1, -1);

/**
 * Every form to look for, by name: raw, JSON-escaped (once, and twice for a JSON text
 * inside a JSON string), base64 and base64url of its UTF-8 bytes (without padding, so it
 * also matches inside a longer encoding that starts with the value).
 */
export function leakForms(value: string): Map<string, string> {
  const bytes = Buffer.from(value, 'utf8');
  const forms = new Map<string, string>([
    ['raw', value],
    ['JSON-escaped', jsonEscaped(value)],
    ['JSON-escaped twice', jsonEscaped(jsonEscaped(value))],
    ['base64', bytes.toString('base64').replace(/=+$/, '')],
    ['base64url', bytes.toString('base64url')],
  ]);
  return forms;
}

/** The names of the forms of `value` found in `text` (empty when none): never the value. */
export function leaksIn(text: string, value: string): string[] {
  return [...leakForms(value)].filter(([, form]) => text.includes(form)).map(([name]) => name);
}
