// Canary secret values and the forms a leak of one can take. A value that reaches a log
// line, an event, status or /metrics is rarely written raw: it is base64 (Secret data),
// or JSON-escaped (a log line, a JSON body in an error message, a Prometheus label).
//
// One canary for the whole suite: the integration global setup decides it and passes it to
// every worker in SECRETSYNC_TEST_CANARY; every value a test plants (canary()) contains it,
// so the suite-wide scan (test/helpers/leak-scan.ts) looks for that one core everywhere.
import { createHash, randomBytes } from 'node:crypto';

export const CANARY_ENV = 'SECRETSYNC_TEST_CANARY';

/** A fresh core: a quote, a backslash and a non-ASCII letter, then 16 random hex digits. */
export function newSuiteCanary(): string {
  return `"q"\\-ü-${randomBytes(8).toString('hex')}`;
}

/**
 * The suite's canary core (from SECRETSYNC_TEST_CANARY; decided here, once per process, and
 * put there when the suite did not decide one, as in unit tests).
 */
export function suiteCanary(): string {
  process.env[CANARY_ENV] ||= newSuiteCanary();
  return process.env[CANARY_ENV];
}

/**
 * A unique canary with characters JSON escapes (a quote, a backslash) and a non-ASCII
 * letter, so its raw, JSON-escaped and base64 forms all differ. It contains the suite's
 * canary core, so the suite-wide scan finds it in any of its forms.
 */
export function canary(prefix = 'canary'): string {
  return `${prefix}-${suiteCanary()}-${randomBytes(4).toString('hex')}`;
}

/**
 * Each value of `data` as a short SHA-256 digest: what tests compare (and a failed
 * expectation prints) instead of planted values, e.g.
 * `expect(digestsOf(await secretData(core, ns, 'db'))).toEqual(digestsOf({ v: planted }))`.
 */
export function digestsOf(data: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, `sha256:${createHash('sha256').update(v).digest('hex').slice(0, 16)}`]));
}

const jsonEscaped = (v: string) => JSON.stringify(v).slice(1, -1);
/** JSON-escaped with every non-ASCII character as \uXXXX (Go's and Python's ensure_ascii encoders). */
const jsonAsciiEscaped = (v: string) => jsonEscaped(v).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * The base64 characters of `bytes` that do not depend on what is around them, when the
 * bytes start `skip` bytes after a 3-byte boundary of a larger encoded blob: from the next
 * boundary on, whole 3-byte groups only. The three skips cover every position in a blob.
 */
function aligned(bytes: Buffer, skip: number, enc: 'base64' | 'base64url'): string | undefined {
  const from = (3 - skip) % 3;
  const whole = Math.floor((bytes.length - from) / 3) * 3;
  // Fewer than 6 whole bytes would match by chance (and none would match everything).
  return whole < 6 ? undefined : bytes.subarray(from, from + whole).toString(enc);
}

/**
 * Every form to look for, by name: raw, JSON-escaped (once, twice for a JSON text inside a
 * JSON string, and ASCII-only with \u escapes), its UTF-8 bytes as a JSON byte array and
 * as hex, and base64 and base64url of the UTF-8 bytes
 * of the raw and the JSON-escaped value, at each of the three alignments inside a larger
 * blob ("base64" is the value starting a blob, "base64 (+1)" one byte after a boundary...).
 */
export function leakForms(value: string): Map<string, string> {
  const forms = new Map<string, string>([
    ['raw', value],
    ['JSON-escaped', jsonEscaped(value)],
    ['JSON-escaped twice', jsonEscaped(jsonEscaped(value))],
    ['JSON-escaped (\\u)', jsonAsciiEscaped(value)],
  ]);
  // A Buffer logged as an object (pino, JSON.stringify: {"type":"Buffer","data":[...]}), or hex.
  const raw = Buffer.from(value, 'utf8');
  forms.set('byte array', raw.join(','));
  forms.set('hex', raw.toString('hex'));
  for (const [what, text] of [['', value], [' of JSON-escaped', jsonEscaped(value)]] as const) {
    const bytes = Buffer.from(text, 'utf8');
    for (const enc of ['base64', 'base64url'] as const) {
      for (const skip of [0, 1, 2]) {
        const form = aligned(bytes, skip, enc);
        if (form) forms.set(`${enc}${what}${skip ? ` (+${skip})` : ''}`, form);
      }
    }
  }
  return forms;
}

/** The names of the forms of `value` found in `text` (empty when none): never the value. */
export function leaksIn(text: string, value: string): string[] {
  return [...leakForms(value)].filter(([, form]) => text.includes(form)).map(([name]) => name);
}
