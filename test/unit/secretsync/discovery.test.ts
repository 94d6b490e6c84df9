// dataFrom find and rewrite, the pure half (discovery.ts) and the read step around it
// (fetch.ts, with an in-memory provider: listing and reads are counted, not faked
// behaviour of a real secret manager): which listed names a find keeps, the limit, RE2
// patterns (no backtracking), key rewrites, collisions naming both sources, and what the
// scope, rotation and due checks refuse before any provider call.
import type { ClusterSecretSource, DataFromEntry, FindSpec, SecretSync } from '../../../src/api/types.js';
import { FindLimitError, InvalidSpecError, KeyCollisionError, PathNotAllowedError, Reason } from '../../../src/errors.js';
import type { ReadOptions, RemoteMap, SecretProvider } from '../../../src/providers/provider.js';
import { checkDataFromRegexes, compileRe2, mergeDataFrom, replaceAll, rewriteKey, selectFound } from '../../../src/secretsync/discovery.js';
import { whatIsDue } from '../../../src/secretsync/due.js';
import { fetchContent } from '../../../src/secretsync/fetch.js';
import { rotationTargets } from '../../../src/secretsync/rotation/targets.js';
import { readPrefixes, readScopeProblem } from '../../../src/secretsync/scope.js';
import { aSecretSync, observed } from './fixtures.js';

const b = (s: string) => Buffer.from(s);
const text = (c: Record<string, Buffer>) => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v.toString()]));

describe('selectFound', () => {
  const listed = ['app/db', 'app/api', 'app/nested/cache', 'App/other', 'apple/x', 'billing/db'];
  test.each<[string, FindSpec, string[] | undefined, string[]]>([
    ['under find.path, as a case-sensitive string prefix', { path: 'app/' }, undefined, ['app/api', 'app/db', 'app/nested/cache']],
    ['filtered by name.regexp (matched anywhere)', { path: 'app/', name: { regexp: 'db|cache' } }, undefined, ['app/db', 'app/nested/cache']],
    ['an anchored regexp', { name: { regexp: '^app/[a-z]+$' } }, undefined, ['app/api', 'app/db']],
    ['within the namespace prefixes only, whatever was listed', { path: 'app' }, ['app/'], ['app/api', 'app/db', 'app/nested/cache']],
    ['no prefix matches: nothing', { name: { regexp: '.' } }, ['payments/'], []],
  ])('%s', (_, find, prefixes, want) => {
    expect(selectFound(listed, find, prefixes, 10, 'spec.dataFrom[0]')).toEqual(want);
  });

  test('more than the limit is FindLimitExceeded, saying what to do', () => {
    const err = (() => {
      try {
        selectFound(['a/1', 'a/2', 'a/3'], { path: 'a/' }, undefined, 2, 'spec.dataFrom[1]');
      } catch (e) {
        return e;
      }
    })() as FindLimitError;
    expect(err).toBeInstanceOf(FindLimitError);
    expect(err.reason).toBe(Reason.FindLimitExceeded);
    expect(err.message).toMatch(/spec\.dataFrom\[1\]\.find found 3 secrets, more than the 2 .*--find-max-secrets.*narrow find\.path/);
  });

  test('duplicates listed twice count once', () => {
    expect(selectFound(['a/1', 'a/1'], { path: 'a/' }, undefined, 1, 'f')).toEqual(['a/1']);
  });
});

describe('RE2 patterns', () => {
  test('a catastrophic-backtracking pattern runs in linear time', () => {
    const started = process.hrtime.bigint();
    expect(selectFound([`${'a'.repeat(20_000)}b`], { name: { regexp: '^(a+)+$' } }, undefined, 5, 'f')).toEqual([]);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(2000);
  });

  test.each([
    ['a backreference', '(a)\\1'],
    ['lookahead', 'x(?=y)'],
    ['a syntax error', '(unclosed'],
  ])('%s is refused as InvalidSpec naming the field', (_, pattern) => {
    expect(() => compileRe2(pattern, 'spec.dataFrom[0].find.name.regexp')).toThrow(InvalidSpecError);
    expect(() => checkDataFromRegexes({ find: { name: { regexp: pattern } } }, 'spec.dataFrom[0]')).toThrow(/spec\.dataFrom\[0\]\.find\.name\.regexp .*not an RE2/);
    expect(() => checkDataFromRegexes({ remoteRef: { path: 'p' }, rewrite: [{ regexp: { source: pattern, target: 'x' } }] }, 'spec.dataFrom[2]')).toThrow(
      /spec\.dataFrom\[2\]\.rewrite\[0\]\.regexp\.source/,
    );
  });
});

describe('rewriteKey', () => {
  test.each<[string, string, DataFromEntry['rewrite'], string]>([
    ['no rules: as is', 'password', undefined, 'password'],
    ['a prefix (source "^")', 'password', [{ regexp: { source: '^', target: 'db_' } }], 'db_password'],
    ['groups', 'app_pw', [{ regexp: { source: '^(.*)_pw$', target: '${1}-password' } }], 'app-password'],
    ['replace-all', 'a.b.c', [{ regexp: { source: '\\.', target: '_' } }], 'a_b_c'],
    [
      'rules in order',
      'user',
      [
        { regexp: { source: '^', target: 'db-' } },
        { regexp: { source: '-', target: '_' } },
      ],
      'db_user',
    ],
  ])('%s', (_, key, rules, want) => {
    expect(rewriteKey(key, rules, 'spec.dataFrom[0]')).toBe(want);
  });

  test.each([
    ['a slash', [{ regexp: { source: '^', target: 'a/' } }]],
    ['empty', [{ regexp: { source: '.*', target: '' } }]],
    ['..', [{ regexp: { source: '^.*$', target: '..' } }]],
    ['__proto__', [{ regexp: { source: '^.*$', target: '__proto__' } }]],
  ])('a rewrite giving an invalid key (%s) is refused', (_, rules) => {
    expect(() => rewriteKey('password', rules, 'spec.dataFrom[3]')).toThrow(/spec\.dataFrom\[3\]\.rewrite turns key "password" into/);
  });

  test('a target naming a group the source lacks expands to nothing (as in Go)', () => {
    expect(rewriteKey('password', [{ regexp: { source: 'pass', target: '$2' } }], 'spec.dataFrom[0]')).toBe('word');
  });
});

describe('mergeDataFrom', () => {
  const secret = (path: string, values: Record<string, string>) => ({ path, version: '1', values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, b(v)])) });

  test('properties of every secret, rewritten per entry', () => {
    const content = mergeDataFrom([
      { entry: { find: { path: 'app' } }, secrets: [secret('app/db', { user: 'u' }), secret('app/api', { token: 't' })] },
      { entry: { remoteRef: { path: 'x' }, rewrite: [{ regexp: { source: '^', target: 'x_' } }] }, secrets: [secret('x', { user: 'v' })] },
    ]);
    expect(text(content)).toEqual({ user: 'u', token: 't', x_user: 'v' });
  });

  test('two secrets giving one key are refused, both named, no value', () => {
    const run = () =>
      mergeDataFrom([
        { entry: { find: { path: 'app' } }, secrets: [secret('app/a', { password: 'VALUE-A' }), secret('app/b', { password: 'VALUE-B' })] },
      ]);
    expect(run).toThrow(KeyCollisionError);
    try {
      run();
    } catch (e) {
      const err = e as KeyCollisionError;
      expect(err.reason).toBe(Reason.KeyCollision);
      expect(err.message).toContain('spec.dataFrom[0] secret "app/a" property "password"');
      expect(err.message).toContain('spec.dataFrom[0] secret "app/b" property "password"');
      expect(err.message).not.toMatch(/VALUE-/);
    }
  });

  test('a collision made by a rewrite is refused across entries', () => {
    expect(() =>
      mergeDataFrom([
        { entry: { remoteRef: { path: 'a' } }, secrets: [secret('a', { db_user: '1' })] },
        { entry: { remoteRef: { path: 'b' }, rewrite: [{ regexp: { source: '^', target: 'db_' } }] }, secrets: [secret('b', { user: '2' })] },
      ]),
    ).toThrow(/key "db_user" comes from two secrets: spec\.dataFrom\[0\] secret "a" property "db_user" and spec\.dataFrom\[1\] secret "b" property "user"/);
  });

  test('the same property of the same secret reached twice is no collision', () => {
    const content = mergeDataFrom([
      { entry: { remoteRef: { path: 'app/db' } }, secrets: [secret('app/db', { user: 'u' })] },
      { entry: { find: { path: 'app' } }, secrets: [secret('app/db', { user: 'u' })] },
    ]);
    expect(text(content)).toEqual({ user: 'u' });
  });
});

/** An in-memory provider: a map of secrets, with every call counted. */
function memoryProvider(secrets: Record<string, Record<string, string>>) {
  const calls = { list: 0, read: [] as string[] };
  const provider: SecretProvider = {
    getSecret: () => Promise.reject(new Error('unused')),
    getSecretMap: (ref: { path: string }, _o?: ReadOptions): Promise<RemoteMap> => {
      calls.read.push(ref.path);
      const s = secrets[ref.path];
      if (!s) return Promise.reject(new Error(`no ${ref.path}`));
      return Promise.resolve({ version: '1', values: Object.fromEntries(Object.entries(s).map(([k, v]) => [k, b(v)])) });
    },
    listSecrets: (find: FindSpec) => {
      calls.list++;
      return Promise.resolve(Object.keys(secrets).filter((p) => find.path === undefined || p.startsWith(find.path)));
    },
    close: () => Promise.resolve(),
  };
  return { provider, calls };
}

describe('fetchContent with find', () => {
  const withFind = (dataFrom: DataFromEntry[]): SecretSync => aSecretSync({ data: undefined, dataFrom });

  test('lists once, reads only what it keeps, records each version', async () => {
    const { provider, calls } = memoryProvider({ 'app/db': { user: 'u' }, 'app/api': { token: 't' }, 'other/x': { y: 'z' } });
    const f = await fetchContent(withFind([{ find: { path: 'app/' } }]), provider, undefined, { maxSecrets: 10 });
    expect(text(f.content)).toEqual({ user: 'u', token: 't' });
    expect(f.sourceVersions).toEqual({ 'app/api': '1', 'app/db': '1' });
    expect(calls.list).toBe(1);
    expect(calls.read.sort()).toEqual(['app/api', 'app/db']);
  });

  test('the namespace prefixes bound what is read, even when the listing returns more', async () => {
    const { provider, calls } = memoryProvider({ 'team-a/db': { user: 'u' }, 'team-ab/secret': { stolen: 'x' } });
    const f = await fetchContent(withFind([{ find: { path: 'team-a' } }]), provider, undefined, { maxSecrets: 10, prefixes: ['team-a/'] });
    expect(Object.keys(f.content)).toEqual(['user']);
    expect(calls.read).toEqual(['team-a/db']);
  });

  test('over the limit: nothing is read', async () => {
    const { provider, calls } = memoryProvider({ 'a/1': { x: '1' }, 'a/2': { y: '2' } });
    await expect(fetchContent(withFind([{ find: { path: 'a/' } }]), provider, undefined, { maxSecrets: 1 })).rejects.toThrow(FindLimitError);
    expect(calls.read).toEqual([]);
  });

  test('data still wins over a found key', async () => {
    const { provider } = memoryProvider({ 'a/1': { user: 'found' } });
    provider.getSecret = () => Promise.resolve({ value: b('named'), version: '7' });
    const f = await fetchContent(
      aSecretSync({ data: [{ key: 'user', remoteRef: { path: 'b', property: 'user' } }], dataFrom: [{ find: { path: 'a/' } }] }),
      provider,
      undefined,
      { maxSecrets: 5 },
    );
    expect(text(f.content)).toEqual({ user: 'named' });
  });
});

const shared = (paths: string[]): ClusterSecretSource => ({
  apiVersion: 'secretsync.io/v1alpha1',
  kind: 'ClusterSecretSource',
  metadata: { name: 'shared', uid: 'c1', generation: 1 },
  spec: {
    vault: { address: 'https://v', auth: { token: { secretRef: { name: 't', key: 'k' } } } },
    allowedNamespaces: ['team-a'],
    namespaceScopes: [{ namespaces: ['team-a'], paths }],
  },
});

describe('scopes bound a find before any provider call', () => {
  const finding = (find: FindSpec) =>
    aSecretSync({ sourceRef: { kind: 'ClusterSecretSource', name: 'shared' }, data: undefined, dataFrom: [{ find }] }, { namespace: 'team-a' });

  test.each<[string, FindSpec, RegExp | undefined]>([
    ['find.path within a prefix', { path: 'team-a/app' }, undefined],
    ['find.path with a trailing slash (an AWS name prefix)', { path: 'team-a/' }, undefined],
    ['find.path outside every prefix', { path: 'team-b' }, /spec\.dataFrom\[0\]\.find\.path "team-b" is outside the paths/],
    ['find.path shorter than the prefix', { path: 'team' }, /is outside the paths/],
    ['no find.path: the whole source would be listed', { name: { regexp: '.*' } }, /find has no path, so it would list every secret/],
    ['a ".." segment', { path: 'team-a/../team-b' }, /has a "\." or "\.\." segment/],
  ])('%s', (_, find, refused) => {
    const problem = readScopeProblem(finding(find), shared(['team-a/']), {});
    if (refused) {
      expect(problem).toBeInstanceOf(PathNotAllowedError);
      expect(problem?.message).toMatch(refused);
    } else expect(problem).toBeUndefined();
  });

  test('readPrefixes: the namespace prefixes on a ClusterSecretSource, none on a SecretSource', () => {
    expect(readPrefixes(finding({ path: 'team-a/' }), shared(['team-a/']), {})).toEqual(['team-a/']);
    expect(readPrefixes(finding({ path: 'x' }), undefined, {})).toBeUndefined();
  });

  test('whatIsDue reports the refusal without a read', () => {
    const ss = finding({ path: 'team-b/' });
    const due = whatIsDue(observed({ ss, source: shared(['team-a/']), namespaceLabels: {} }));
    expect(due.failure).toBeInstanceOf(PathNotAllowedError);
  });
});

describe('what due refuses', () => {
  test('find.tags on a Vault source', () => {
    const ss = aSecretSync({ data: undefined, dataFrom: [{ find: { tags: { team: 'a' } } }] });
    const due = whatIsDue(observed({ ss }));
    expect(due.failure).toBeInstanceOf(InvalidSpecError);
    expect((due.failure as Error).message).toMatch(/find\.tags selects AWS secrets/);
  });

  test('a regexp that is not RE2', () => {
    const ss = aSecretSync({ data: undefined, dataFrom: [{ find: { path: 'a', name: { regexp: '(a)\\1' } } }] });
    expect((whatIsDue(observed({ ss })).failure as Error).message).toMatch(/find\.name\.regexp .*not an RE2/);
  });
});

describe('rotation', () => {
  test('refused with a find', () => {
    const ss = aSecretSync({ data: undefined, dataFrom: [{ find: { path: 'a' } }], rotation: { schedule: '0 3 * * *', keys: ['password'] } });
    expect(() => rotationTargets(ss)).toThrow(/spec\.rotation cannot be used with spec\.dataFrom\[0\]\.find/);
  });

  test('refused for a key of a dataFrom secret whose keys are rewritten', () => {
    const ss = aSecretSync({
      data: undefined,
      dataFrom: [{ remoteRef: { path: 'a' }, rewrite: [{ regexp: { source: '^', target: 'x_' } }] }],
      rotation: { schedule: '0 3 * * *', keys: ['x_password'] },
    });
    expect(() => rotationTargets(ss)).toThrow(/rewrites its keys/);
  });
});

describe('replaceAll expands the target as Go does', () => {
  test.each<[string, string, string, string]>([
    ['(?P<svc>[a-z]+)_(?P<k>[a-z]+)', 'db_user', '${k}-${svc}', 'user-db'],
    ['(x)', 'axbx', '[$1]', 'a[x]b[x]'],
    ['x', 'axb', '$$', 'a$b'],
    ['(x)', 'x', '$2', ''],
    ['^', 'key', 'p_', 'p_key'],
    ['', 'ab', '-', '-a-b-'],
  ])('%s on %j with %j', (source, input, target, want) => {
    expect(replaceAll(compileRe2(source, 'f'), input, target)).toBe(want);
  });
});

describe('the limit is per SecretSync', () => {
  test('two finds within the limit each, over it together: FindLimitExceeded, nothing read', async () => {
    const { provider, calls } = memoryProvider({ 'a/1': { x: '1' }, 'a/2': { y: '2' }, 'b/1': { z: '3' } });
    const listed: number[] = [];
    const list = provider.listSecrets!;
    provider.listSecrets = (find, opts) => {
      listed.push(opts.maxListed);
      return list(find, opts);
    };
    const ss = aSecretSync({ data: undefined, dataFrom: [{ find: { path: 'a/' } }, { find: { path: 'b/' } }] });
    await expect(fetchContent(ss, provider, undefined, { maxSecrets: 2 })).rejects.toThrow(/2 finds found 3 secrets in all, more than the 2 .* per SecretSync/);
    expect(calls.read).toEqual([]);
    expect(listed).toEqual([20, 20]); // 20 x 2 names, shared by the two finds
  });
});
