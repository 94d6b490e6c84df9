// describeError turns anything thrown into a condition: it must itself never throw, whatever
// was thrown (a value without a prototype, a toString or message getter that throws, a
// non-string message), or the reconcile that failed would fail again while reporting it.
import { describeError } from '../../../src/secretsync/describe-error.js';
import { InvalidSpecError } from '../../../src/errors.js';

const hostile: [string, () => unknown][] = [
  ['Object.create(null)', () => Object.create(null)],
  ['an object whose toString throws', () => ({ toString() { throw new Error('no'); } })],
  ['an object whose toString returns an object', () => ({ toString: () => ({}) })],
  ['a Symbol', () => Symbol('s')],
  ['an Error whose message getter throws', () => Object.defineProperty(new Error('x'), 'message', { get() { throw new Error('no'); } })],
  ['an Error whose message is not a string', () => Object.assign(new Error('x'), { message: { a: 1 } })],
  ['an Error whose message is Object.create(null)', () => Object.assign(new Error('x'), { message: Object.create(null) })],
  ['a Proxy that throws on every trap', () => new Proxy({}, { get() { throw new Error('trap'); }, getPrototypeOf() { throw new Error('trap'); } })],
  ['undefined', () => undefined],
  ['null', () => null],
];

test.each(hostile)('is total for %s: an internal error, retryable', (_what, make) => {
  const d = describeError(make());
  expect(d).toMatchObject({ reason: 'InternalError', code: 'ESS_INTERNAL', retryable: true });
  expect(typeof d.message).toBe('string');
  expect(d.message).toMatch(/^internal error: .* \(retrying; see the operator logs\)$/);
});

test('typed errors and plain Errors are described as before', () => {
  expect(describeError(new InvalidSpecError('fix it'))).toMatchObject({ reason: 'InvalidSpec', message: 'fix it', retryable: false });
  expect(describeError(new Error('boom')).message).toBe('internal error: boom (retrying; see the operator logs)');
  expect(describeError('text').message).toBe('internal error: text (retrying; see the operator logs)');
});
