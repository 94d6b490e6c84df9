// spec.namespaceScopes of a ClusterSecretSource: the scope of a namespace (union of its
// entries), path shapes refused under scopes, read, rotation and KEK decisions, and how
// they show in whatIsDue / rotationStep / withRotation (no provider call for a refusal).
import type { AnySource, ClusterSecretSource, NamespaceScopeEntry, SecretSync } from '../../../src/api/types.js';
import { KekNotAllowedError, PathNotAllowedError, Reason, RotationNotAllowedError } from '../../../src/errors.js';
import { whatIsDue } from '../../../src/secretsync/due.js';
import { kekRefOf } from '../../../src/secretsync/kek.js';
import { rotationStep, withRotation } from '../../../src/secretsync/rotate.js';
import {
  kekScopeName,
  kekScopeProblem,
  kekUsable,
  pathShapeProblem,
  readScopeProblem,
  rotationScopeProblem,
  scopeOf,
} from '../../../src/secretsync/scope.js';
import { aSecretSync, content, observed, syncedStatus, vaultSource } from './fixtures.js';

const css = (namespaceScopes?: NamespaceScopeEntry[], provider: 'vault' | 'aws' = 'vault'): ClusterSecretSource => ({
  apiVersion: 'secretsync.io/v1alpha1',
  kind: 'ClusterSecretSource',
  metadata: { name: 'shared', uid: 'c1', generation: 1 },
  spec: {
    ...(provider === 'vault'
      ? { vault: { address: 'https://v', auth: { token: { secretRef: { name: 't', key: 'k' } } } } }
      : { aws: { region: 'eu-west-1' } }),
    allowedNamespaces: ['team-a', 'team-b'],
    ...(namespaceScopes ? { namespaceScopes } : {}),
  },
});

const TEAMS: NamespaceScopeEntry[] = [
  { namespaces: ['team-a'], paths: ['team-a/'], rotationPaths: ['team-a/'], keys: ['transit/team-a'] },
  { namespaces: ['team-b'], paths: ['team-b/'], keys: ['transit/team-b'] },
];

const reading = (namespace: string, ...paths: string[]): SecretSync =>
  aSecretSync(
    { sourceRef: { kind: 'ClusterSecretSource', name: 'shared' }, data: paths.map((p, i) => ({ key: `k${i}`, remoteRef: { path: p } })) },
    { namespace },
  );

describe('scopeOf', () => {
  test.each<[string, NamespaceScopeEntry[] | undefined, string, Record<string, string>, Partial<ReturnType<typeof scopeOf>>]>([
    ['no namespaceScopes: any path, any key, no rotation', undefined, 'team-a', {}, { paths: undefined, keys: undefined, rotationPaths: [], scoped: false, unmatched: false }],
    ['an entry by name', TEAMS, 'team-b', {}, { paths: ['team-b/'], keys: ['transit/team-b'], rotationPaths: [], unmatched: false }],
    ['no entry for the namespace: nothing', TEAMS, 'team-c', {}, { paths: [], keys: [], rotationPaths: [], scoped: true, unmatched: true }],
    [
      'an entry by labels',
      [{ namespaceSelector: { matchLabels: { team: 'a' } }, paths: ['a/'] }],
      'x',
      { team: 'a' },
      { paths: ['a/'], unmatched: false },
    ],
    ['an empty selector matches nothing (as for admission)', [{ namespaceSelector: {}, paths: ['a/'] }], 'x', { team: 'a' }, { unmatched: true }],
    [
      'the union of matching entries',
      [
        { namespaces: ['x'], paths: ['a/'], rotationPaths: ['a/r/'], keys: ['transit/a'] },
        { namespaceSelector: { matchLabels: { team: 'x' } }, paths: ['b/'], rotationPaths: ['b/'], keys: ['transit/b'] },
      ],
      'x',
      { team: 'x' },
      { paths: ['a/', 'b/'], rotationPaths: ['a/r/', 'b/'], keys: ['transit/a', 'transit/b'] },
    ],
    [
      'an entry without paths or keys grants any, whatever the others say',
      [{ namespaces: ['x'], paths: ['a/'], keys: ['transit/a'] }, { namespaces: ['x'] }],
      'x',
      {},
      { paths: undefined, keys: undefined, rotationPaths: [] },
    ],
  ])('%s', (_what, scopes, ns, labels, want) => {
    expect(scopeOf(css(scopes), ns, labels)).toMatchObject(want);
  });
});

describe('pathShapeProblem', () => {
  test.each<[string, 'vault' | 'aws', boolean, string | undefined]>([
    ['team-a/db', 'vault', true, undefined],
    ['team-a/db.prod/x_y-z', 'vault', true, undefined],
    ['team-a/../team-b/db', 'vault', true, 'has a "." or ".." segment'],
    ['team-a/./db', 'vault', false, 'has a "." or ".." segment'],
    ['..', 'vault', true, 'has a "." or ".." segment'],
    ['team-a//db', 'vault', true, 'has an empty segment ("//" or a trailing "/")'],
    ['team-a/', 'vault', true, 'has an empty segment ("//" or a trailing "/")'],
    ['/team-a/db', 'vault', true, 'starts with "/"'],
    ['team-a\\..\\team-b', 'vault', true, 'has a backslash'],
    ['team-a/%2e%2e/team-b/db', 'vault', true, 'has a "%" (percent-encoding)'],
    ['team-a/db\u0000', 'vault', true, 'has a control character'],
    ['team-a/db\n', 'aws', true, 'has a control character'],
    ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:team-b/db-AbCdEf', 'aws', true, 'is an ARN'],
    ['ARN:aws:secretsmanager:eu-west-1:123456789012:secret:team-b/db', 'aws', true, 'is an ARN'],
    ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:team-b/db-AbCdEf', 'aws', false, undefined],
    ['arn:x', 'vault', true, undefined],
  ])('%j (%s, restricted %s)', (path, provider, restricted, want) => {
    expect(pathShapeProblem(path, provider, restricted)).toBe(want);
  });
});

describe('readScopeProblem', () => {
  test('a SecretSource, or a ClusterSecretSource without scopes, reads any path', () => {
    expect(readScopeProblem(reading('team-b', 'team-a/db'), vaultSource, {})).toBeUndefined();
    expect(readScopeProblem(reading('team-b', 'team-a/db'), css(), {})).toBeUndefined();
  });

  test('a path under the namespace prefix is read; another team path is refused, naming only its own prefixes', () => {
    expect(readScopeProblem(reading('team-b', 'team-b/db', 'team-b/api/key'), css(TEAMS), {})).toBeUndefined();
    const err = readScopeProblem(reading('team-b', 'team-b/db', 'team-a/db'), css(TEAMS), {});
    expect(err).toBeInstanceOf(PathNotAllowedError);
    expect(err?.reason).toBe(Reason.PathNotAllowed);
    expect(err?.retryable).toBe(false);
    expect(err?.message).toBe(
      'spec.data[1].remoteRef.path "team-a/db" is outside the paths namespace team-b may read through ClusterSecretSource shared (prefixes "team-b/"): ' +
        'read a path under one of them, or the platform team must add its prefix to a namespaceScopes entry for team-b',
    );
    expect(err?.message).not.toContain('team-a/"');
  });

  test('dataFrom paths are checked too', () => {
    const ss = { ...reading('team-b', 'team-b/db'), spec: { ...reading('team-b', 'team-b/db').spec, dataFrom: [{ remoteRef: { path: 'team-a/api' } }] } };
    expect(readScopeProblem(ss, css(TEAMS), {})?.message).toMatch(/^spec\.dataFrom\[0\]\.remoteRef\.path "team-a\/api" is outside/);
  });

  test('the ".." trick and its cousins are refused before any prefix is compared', () => {
    for (const p of ['team-b/../team-a/db', 'team-b/%2e%2e/team-a/db', 'team-b\\..\\team-a\\db', 'team-b//db', 'team-b/./db']) {
      const err = readScopeProblem(reading('team-b', p), css(TEAMS), {});
      expect(err).toBeInstanceOf(PathNotAllowedError);
      expect(err?.message).toContain('which ClusterSecretSource shared refuses because it scopes paths per namespace: write the path as plain segments');
    }
  });

  test('"team-b" as a prefix also matches team-bb/: the plain string prefix, as documented', () => {
    const loose = css([{ namespaces: ['team-b'], paths: ['team-b'] }]);
    expect(readScopeProblem(reading('team-b', 'team-bb/db'), loose, {})).toBeUndefined();
    expect(readScopeProblem(reading('team-b', 'team-bb/db'), css(TEAMS), {})).toBeInstanceOf(PathNotAllowedError);
  });

  test('no entry for the namespace: nothing is read, and the message says the platform team must add one', () => {
    const err = readScopeProblem(reading('team-c', 'team-c/db'), css(TEAMS), {});
    expect(err?.message).toBe(
      'ClusterSecretSource shared has spec.namespaceScopes and none of its entries applies to namespace team-c, so nothing may be read through it from here: ' +
        'the platform team must add a namespaceScopes entry for team-c (namespaces or namespaceSelector) with the paths it may read',
    );
  });

  test('AWS: an ARN under restricted paths is refused ("write the secret name"); a name under the prefix is read', () => {
    const aws = css(TEAMS, 'aws');
    expect(readScopeProblem(reading('team-b', 'team-b/db'), aws, {})).toBeUndefined();
    const err = readScopeProblem(reading('team-b', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:team-a/db-AbCdEf'), aws, {});
    expect(err?.message).toContain('is an ARN');
    expect(err?.message).toContain('write the secret name instead');
    // An entry that grants any path accepts an ARN (nothing to compare it with).
    expect(readScopeProblem(reading('team-b', 'arn:aws:secretsmanager:eu-west-1:1:secret:x'), css([{ namespaces: ['team-b'] }], 'aws'), {})).toBeUndefined();
  });

  test('messages never carry a control character', () => {
    expect(readScopeProblem(reading('team-b', 'team-b/db\u0007x'), css(TEAMS), {})?.message).toContain('"team-b/db?x"');
  });
});

describe('rotationScopeProblem', () => {
  const rotating = (namespace: string, path: string): SecretSync => ({
    ...reading(namespace, path),
    spec: { ...reading(namespace, path).spec, rotation: { schedule: '0 * * * *', keys: ['k0'] } },
  });

  test.each<[string, AnySource, string, string, string | undefined]>([
    ['a SecretSource rotates as before', vaultSource, 'team-b', 'team-a/db', undefined],
    ['no namespaceScopes: no rotation through a shared source', css(), 'team-a', 'team-a/db', 'allows no rotation from namespace team-a: the platform team must add rotationPaths for team-a'],
    ['an entry without rotationPaths: none', css(TEAMS), 'team-b', 'team-b/db', 'allows no rotation from namespace team-b'],
    ['under rotationPaths: allowed', css(TEAMS), 'team-a', 'team-a/db', undefined],
    ['outside rotationPaths: refused', css([{ namespaces: ['team-b'], rotationPaths: ['team-b/'] }]), 'team-b', 'team-a/db', 'is outside the paths namespace team-b may rotate'],
    ['a ".." rotation path: refused', css([{ namespaces: ['team-b'], rotationPaths: ['team-b/'] }]), 'team-b', 'team-b/../team-a/db', 'has a "." or ".." segment'],
    ['no entry: none', css(TEAMS), 'team-c', 'team-c/db', 'allows no rotation from namespace team-c'],
  ])('%s', (_what, src, ns, path, want) => {
    const err = rotationScopeProblem(rotating(ns, path), src, {});
    if (want === undefined) expect(err).toBeUndefined();
    else {
      expect(err).toBeInstanceOf(RotationNotAllowedError);
      expect(err?.message).toContain(want);
    }
  });

  test('without spec.rotation there is nothing to refuse', () => {
    expect(rotationScopeProblem(reading('team-a', 'team-a/db'), css(), {})).toBeUndefined();
  });
});

describe('kekScopeProblem', () => {
  const transit = (namespace: string, key: string, mount?: string): SecretSync =>
    aSecretSync(
      {
        sourceRef: { kind: 'ClusterSecretSource', name: 'shared' },
        data: [{ key: 'k', remoteRef: { path: `${namespace}/db` } }],
        target: { encryption: { kek: { vaultTransit: { sourceRef: { kind: 'ClusterSecretSource', name: 'shared' }, key, ...(mount ? { mount } : {}), agentAuth: { kubernetes: { role: 'app' } } } } } },
      },
      { namespace },
    );
  const kms = (namespace: string, keyId: string): SecretSync =>
    aSecretSync(
      {
        sourceRef: { kind: 'ClusterSecretSource', name: 'shared' },
        target: { encryption: { kek: { awsKms: { sourceRef: { kind: 'ClusterSecretSource', name: 'shared' }, keyId } } } },
      },
      { namespace },
    );
  const problem = (ss: SecretSync, src: ClusterSecretSource) => kekScopeProblem(ss, kekRefOf(ss)!, src, {});

  test('the Transit name is <mount>/<key> with the default mount; KMS the keyId as written', () => {
    expect(kekScopeName(kekRefOf(transit('a', 'k1'))!)).toBe('transit/k1');
    expect(kekScopeName(kekRefOf(transit('a', 'k1', 'transit-x'))!)).toBe('transit-x/k1');
    expect(kekScopeName(kekRefOf(kms('a', 'alias/a'))!)).toBe('alias/a');
  });

  test('own key allowed; another namespace key refused with the keys it may use; no scopes: any key', () => {
    expect(problem(transit('team-b', 'team-b'), css(TEAMS))).toBeUndefined();
    const err = problem(transit('team-b', 'team-a'), css(TEAMS));
    expect(err).toBeInstanceOf(KekNotAllowedError);
    expect(err?.message).toBe(
      'spec.target.encryption.kek.vaultTransit names Transit key "transit/team-a" (<mount>/<key>), which namespace team-b may not use through ClusterSecretSource shared (keys "transit/team-b"): ' +
        'use one of those, or the platform team must add it to the keys of a namespaceScopes entry for team-b',
    );
    expect(problem(transit('team-b', 'team-a', 'other'), css(TEAMS))).toBeInstanceOf(KekNotAllowedError);
    expect(problem(transit('team-b', 'team-a'), css())).toBeUndefined();
  });

  test('KMS keyIds compare exactly as written', () => {
    const src = css([{ namespaces: ['team-b'], keys: ['alias/team-b'] }], 'aws');
    expect(problem(kms('team-b', 'alias/team-b'), src)).toBeUndefined();
    expect(problem(kms('team-b', 'alias/team-a'), src)?.message).toContain('names KMS key "alias/team-a"');
  });

  test('kekUsable (the KEK watcher asks it): admitted and within keys; a SecretSource of the same namespace only', () => {
    const ss = transit('team-b', 'team-b');
    expect(kekUsable(ss, kekRefOf(ss)!, css(TEAMS), {})).toBe(true);
    const theirs = transit('team-b', 'team-a');
    expect(kekUsable(theirs, kekRefOf(theirs)!, css(TEAMS), {})).toBe(false);
    const stranger = transit('team-z', 'team-b');
    expect(kekUsable(stranger, kekRefOf(stranger)!, css(), {})).toBe(false); // not admitted
    expect(kekUsable(transit('ns', 'k'), kekRefOf(transit('ns', 'k'))!, vaultSource, {})).toBe(true);
  });

  test('no entry for the namespace: no key', () => {
    expect(problem(transit('team-c', 'team-c'), css(TEAMS))?.message).toContain('none of its entries applies to namespace team-c, so no key may be used through it');
  });
});

describe('in the reconcile pipeline', () => {
  test('whatIsDue: a refused path is a failure before any read; an allowed one is read', () => {
    const src = css(TEAMS);
    const bad = whatIsDue(observed({ ss: reading('team-b', 'team-a/db'), source: src }));
    expect(bad.failure).toBeInstanceOf(PathNotAllowedError);
    expect(bad.read).toBeUndefined();
    const good = whatIsDue(observed({ ss: reading('team-b', 'team-b/db'), source: src }));
    expect(good.failure).toBeUndefined();
    expect(good.read).toBe('first sync');
  });

  test('whatIsDue: a KEK the namespace may not use is a failure before any key-service call', () => {
    const ss = aSecretSync(
      {
        sourceRef: { kind: 'ClusterSecretSource', name: 'shared' },
        data: [{ key: 'k', remoteRef: { path: 'team-b/db' } }],
        target: { encryption: { kek: { vaultTransit: { sourceRef: { kind: 'ClusterSecretSource', name: 'shared' }, key: 'team-a', agentAuth: { kubernetes: { role: 'app' } } } } } },
      },
      { namespace: 'team-b' },
    );
    const src = css(TEAMS);
    const due = whatIsDue(observed({ ss, source: src, kek: { ref: kekRefOf(ss)!, source: src, latest: undefined } }));
    expect(due.failure).toBeInstanceOf(KekNotAllowedError);
  });

  test('rotationStep: a refused rotation starts nothing, not on rotate-now, and does not finish a pending one', () => {
    const base = { ...reading('team-b', 'team-b/db'), spec: { ...reading('team-b', 'team-b/db').spec, rotation: { schedule: '0 * * * *', keys: ['k0'] } } };
    const ss: SecretSync = {
      ...base,
      metadata: { ...base.metadata, creationTimestamp: '2026-03-01T10:00:00Z', annotations: { 'secretsync.io/rotate-now': 'x' } },
      status: syncedStatus(base, content({ k0: 'v' })),
    };
    const now = new Date('2026-03-01T12:00:00Z');
    expect(rotationStep(ss, css(TEAMS), now, {})).toEqual({ kind: 'none' });
    expect(rotationStep(ss, css([{ namespaces: ['team-b'], rotationPaths: ['team-b/'] }]), now, {})).toMatchObject({ kind: 'start', trigger: 'rotate-now' });
    const pending = { id: 'r1', trigger: 'schedule' as const, startedAt: now.toISOString(), basedOn: { 'team-b/db': '1' } };
    const withPending: SecretSync = { ...ss, status: { ...ss.status, pendingRotation: pending } };
    expect(rotationStep(withPending, css(TEAMS), now, {})).toEqual({ kind: 'none' });
    // withRotation says why and drops the pending rotation; Ready is not touched.
    const s = withRotation(withPending, css(TEAMS), withPending.status!, now, undefined, undefined, {});
    expect(s.pendingRotation).toBeUndefined();
    expect(s.rotateNowHandled).toBe('x'); // refused, so it does not fire once rotation is allowed
    const beforeTick = new Date('2026-03-01T10:30:00Z');
    expect(rotationStep({ ...withPending, status: s }, css([{ namespaces: ['team-b'], rotationPaths: ['team-b/'] }]), beforeTick, {})).toEqual({ kind: 'none' });
    expect(s.conditions?.find((c) => c.type === 'Rotated')).toMatchObject({ status: 'False', reason: 'RotationNotAllowed' });
    expect(s.conditions?.find((c) => c.type === 'Rotated')?.message).toContain('the platform team must add rotationPaths for team-b');
    expect(s.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
    // Allowed later: the condition goes back to Scheduled.
    const allowed = withRotation({ ...withPending, status: s }, css([{ namespaces: ['team-b'], rotationPaths: ['team-b/'] }]), s, now, undefined, undefined, {});
    expect(allowed.conditions?.find((c) => c.type === 'Rotated')).toMatchObject({ status: 'Unknown', reason: 'Scheduled' });
  });
});
