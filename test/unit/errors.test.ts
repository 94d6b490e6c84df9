import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Reason, errorClasses, sanitize } from '../../src/errors.js';

const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'errors.md'), 'utf8');

test.each(errorClasses.map((c) => [c.code, c] as const))('%s is documented with its reason', (code, cls) => {
  const e = new cls('x');
  const row = doc.split('\n').find((l) => l.includes(`\`${code}\``));
  expect(row).toBeDefined();
  expect(row).toContain(`\`${e.reason}\``);
  expect(row).toContain(e.retryable ? '| yes |' : '| no |');
  expect(e.name).toBe(cls.name);
  expect(e).toBeInstanceOf(Error);
});

test('every reason in docs exists', () => {
  for (const r of doc.matchAll(/\| `ESS_[A-Z_]+` \| `(\w+)` \|/g)) expect(Object.values(Reason)).toContain(r[1]);
});

test('sanitize strips tokens, key ids, request ids and credentials in URLs', () => {
  const s = sanitize(
    'denied token hvs.CAESIJabcdefghijklmnopqrstuvwxyz012345 for AKIAIOSFODNN7EXAMPLE request-id: 1234-abcd ' +
      'https://x/?X-Amz-Signature=deadbeef&password=hunter2',
  );
  expect(s).not.toMatch(/hvs\.CAES|AKIAIOSFODNN7EXAMPLE|1234-abcd|deadbeef|hunter2/);
});
