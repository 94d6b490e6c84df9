// The leak check finds a canary in every form it usually travels in, and the canary is
// built so those forms differ.
import { canary, leakForms, leaksIn } from '../../helpers/canary.js';
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
