// The leak check finds a canary in every form it usually travels in, and the canary is
// built so those forms differ.
import { canary, leakForms, leaksIn, suiteCanary } from '../../helpers/canary.js';
import { LogSink } from '../../helpers/log-sink.js';
import { createLogger } from '../../../src/observability/logger.js';

const value = canary();

test('the canary has a quote, a backslash and a non-ASCII letter, so its raw and escaped forms differ', () => {
  expect(value).toMatch(/"/);
  expect(value).toContain('\\');
  expect([...value].some((c) => c.charCodeAt(0) > 0x7f)).toBe(true);
  const f = leakForms(value);
  // base64url equals base64 unless the encoding happens to contain + or /.
  const forms = ['raw', 'JSON-escaped', 'JSON-escaped twice', 'base64'].map((k) => f.get(k));
  expect(new Set(forms).size).toBe(4);
  expect(canary()).not.toBe(value);
});

test.each([
  ['raw', value],
  ['JSON-escaped', JSON.stringify({ message: `failed: ${value}` })],
  ['JSON-escaped twice', JSON.stringify({ err: JSON.stringify({ password: value }) })],
  ['base64', JSON.stringify({ data: { password: Buffer.from(value).toString('base64') } })],
  ['base64url', `token=${Buffer.from(value).toString('base64url')}`],
])('finds it %s', (form, text) => {
  expect(leaksIn(text, value)).toContain(form);
});

const b64 = (s: string, enc: 'base64' | 'base64url' = 'base64') => Buffer.from(s).toString(enc);

test.each([0, 1, 2, 3, 4, 5])('finds it base64 and base64url inside a larger blob, %i bytes after its start, followed by more', (pad) => {
  const blob = (s: string) => `${'x'.repeat(pad)}${s}{"more":true}`;
  expect(leaksIn(b64(blob(value)), value).some((f) => f.startsWith('base64') && !f.includes('JSON'))).toBe(true);
  expect(leaksIn(b64(blob(value), 'base64url'), value).some((f) => f.startsWith('base64url') && !f.includes('JSON'))).toBe(true);
  expect(leaksIn(b64(blob(JSON.stringify({ p: value }))), value).some((f) => f.startsWith('base64 of JSON-escaped'))).toBe(true);
});

test('finds it JSON-escaped with \\u for non-ASCII letters (ensure_ascii encoders)', () => {
  expect(leaksIn(JSON.stringify(value).replace('ü', '\\u00fc'), value)).toContain('JSON-escaped (\\u)');
});

test('every canary contains the one suite canary, so a scan for it finds any of them in every form', () => {
  const core = suiteCanary();
  for (const v of [canary(), canary('team-a')]) {
    expect(v).toContain(core);
    for (const text of [v, JSON.stringify({ v }), b64(`ab${v}cd`), b64(`a${v}`, 'base64url'), JSON.stringify(JSON.stringify({ v }))]) {
      expect(leaksIn(text, core)).not.toEqual([]);
    }
  }
});

test('finds nothing in text without it, and never names the value', () => {
  expect(leaksIn(JSON.stringify({ other: canary(), b64: Buffer.from(canary()).toString('base64') }), value)).toEqual([]);
  expect(leaksIn(value, value).join()).not.toContain(value);
});

test('a JSON log line hides the raw value from a raw search; the sink still finds it', () => {
  const sink = new LogSink();
  createLogger({ destination: sink }).info({ note: value }, 'not a redacted key');
  expect(sink.text()).not.toContain(value); // why the raw check alone was not enough
  expect(() => sink.assertNever(value)).toThrow(/canary found \(JSON-escaped\) in log line 1/);
});
