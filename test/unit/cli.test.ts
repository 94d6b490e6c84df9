// `secretsync` as a user runs it from source (node --import tsx src/cli.ts, as `npx tsx
// src/cli.ts` does): --version, and usage errors that print the failing command's help.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readVersion } from '../../src/version.js';
import { repoRoot } from '../testenv/config.js';

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli.ts'), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };

test('--version and `version` print package.json\'s version on stdout and exit 0', () => {
  for (const arg of ['--version', 'version']) {
    expect(cli(arg)).toEqual({ code: 0, stdout: `secretsync ${version}\n`, stderr: '' });
  }
});

test('-v is not --version (it is a verbosity flag in kubectl and klog): an unknown command, exit 2', () => {
  const r = cli('-v');
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^secretsync: unknown command "-v"\n\nUsage: secretsync <command>/);
});

test.each([
  [['--bogus'], /Unknown option '--bogus'/],
  [['--workers=abc'], /--workers must be an integer >= 1, got "abc"/],
  [['--webhook-failure-policy', 'Sometimes'], /--webhook-failure-policy must be Fail or Ignore, got "Sometimes"/],
])('operator %j: the error, then the operator\'s help, on stderr; exit 2', (args, message) => {
  const r = cli('operator', ...args);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  const [first, ...rest] = r.stderr.split('\n');
  expect(first).toMatch(message);
  expect(rest.join('\n')).toContain('Usage: secretsync operator [flags]');
  expect(rest.join('\n')).toContain('--webhook-cert-dir DIR');
});

test('readVersion finds the package.json named secretsync above the code, however deep (dist/src in the image)', () => {
  expect(readVersion(join(repoRoot, 'src'))).toBe(version);
  expect(readVersion(join(repoRoot, 'dist', 'src', 'webhook'))).toBe(version);
  expect(readVersion('/')).toBe('unknown');
});
