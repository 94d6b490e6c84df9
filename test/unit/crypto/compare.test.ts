// Constant-time comparisons (issue 18, item 9): the helper, and a scan of src/ for a MAC,
// HMAC, digest, tag or token compared with === / !== (which stops at the first differing
// byte), so a new one does not slip in.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { constantTimeEqual } from '../../../src/crypto/compare.js';

test('equal strings are equal; any difference, another length or undefined is not', () => {
  expect(constantTimeEqual('v2:hmac-sha256:k:abc', 'v2:hmac-sha256:k:abc')).toBe(true);
  expect(constantTimeEqual('v2:hmac-sha256:k:abc', 'v2:hmac-sha256:k:abd')).toBe(false);
  expect(constantTimeEqual('abc', 'ab')).toBe(false);
  expect(constantTimeEqual('é', 'e\u0301')).toBe(false);
  expect(constantTimeEqual(undefined, 'a')).toBe(false);
  expect(constantTimeEqual('a', undefined)).toBe(false);
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('no MAC, HMAC, digest, tag or token in src/ is compared with === or !==', () => {
  // An identifier that names secret-bearing text on either side of ===/!== (not a type
  // check, not undefined, not a property like `.length`, `.status` or `.type`).
  const secretish = /\b(\w*(?:[mM]ac|HMAC|[hH]mac|[dD]igest|[tT]ag|[tT]oken))\b(?!\.\w)/;
  const offenders: string[] = [];
  for (const file of sources('src')) {
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      if (/^\s*(\/\/|\/?\*)/.test(line)) return;
      // The force-sync / rotate-now "tokens" are annotation values anyone with `get` reads: not secret.
      if (/rotateNowHandled|forceSyncHandled/.test(line)) return;
      for (const m of line.matchAll(/([\w.?[\]'"]+)\s*(===|!==)\s*([\w.?[\]'"]+)/g)) {
        const [, left = '', , right = ''] = m;
        if ([left, right].some((s) => /^(undefined|null|true|false|'[^']*'|"[^"]*"|\d+)$/.test(s))) continue;
        if ([left, right].some((s) => /\.(length|status|type|kind|code|version|size)$/.test(s))) continue;
        if (secretish.test(left) || secretish.test(right)) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
      }
    });
  }
  expect(offenders).toEqual([]);
});
