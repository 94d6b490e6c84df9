// KV v1/v2 request paths (encoded, confined to the mount, version pins) and answer parsing.
import { InvalidSpecError, InvalidValueError, SourceNotFoundError } from '../../../../src/errors.js';
import { kvReadPath, parseKvAnswer } from '../../../../src/providers/vault/kv.js';

const v2 = { mount: 'secret', version: 2 as const };
const v1 = { mount: 'kv', version: 1 as const };

test('KV v2 paths go through data/, with ?version= when pinned', () => {
  expect(kvReadPath(v2, 'payments/db')).toBe('secret/data/payments/db');
  expect(kvReadPath(v2, '/payments/db/', '3')).toBe('secret/data/payments/db?version=3');
  expect(kvReadPath({ mount: 'team/kv', version: 2 }, 'a b?c')).toBe('team/kv/data/a%20b%3Fc');
});

test('KV v1 paths have no data/ and refuse a version pin', () => {
  expect(kvReadPath(v1, 'payments/db')).toBe('kv/payments/db');
  expect(() => kvReadPath(v1, 'payments/db', '1')).toThrow(InvalidSpecError);
});

test('paths cannot leave the mount, versions are positive integers', () => {
  for (const p of ['', '/', 'a/../b', '..', 'a//b', './a']) expect(() => kvReadPath(v2, p)).toThrow(InvalidSpecError);
  for (const v of ['0', '-1', 'latest', '1.5', '01']) expect(() => kvReadPath(v2, 'a', v)).toThrow(InvalidSpecError);
});

test('parses KV v2 answers; a deleted version is SourceNotFound', () => {
  const ok = { data: { data: { a: 'b' }, metadata: { version: 4 } } };
  expect(parseKvAnswer(v2, ok, 'x')).toEqual({ data: { a: 'b' }, version: '4' });
  const deleted = { data: { data: null, metadata: { version: 2, deletion_time: '2024-01-01T00:00:00Z' } } };
  expect(() => parseKvAnswer(v2, deleted, 'x')).toThrow(SourceNotFoundError);
  expect(() => parseKvAnswer(v2, { data: { a: 'b' } }, 'x')).toThrow(/not a KV v2 secret/);
  expect(() => parseKvAnswer(v2, { data: { data: 'str', metadata: { version: 1 } } }, 'x')).toThrow(InvalidValueError);
});

test('parses KV v1 answers as unversioned', () => {
  expect(parseKvAnswer(v1, { data: { a: 1 } }, 'x')).toEqual({ data: { a: 1 }, version: 'unversioned' });
  expect(() => parseKvAnswer(v1, {}, 'x')).toThrow(InvalidValueError);
});
