// whatIsDue's freshness bound (Due.notBefore: how old a read may answer a reconcile) and
// the refresh seed that decides which syncs share a tick, and so a read.
import { FORCE_SYNC_ANNOTATION } from '../../../src/api/annotations.js';
import type { AnySource, SecretSync } from '../../../src/api/types.js';
import { IdentityNotAllowedError } from '../../../src/errors.js';
import { kekRefOf, type KekRef } from '../../../src/secretsync/kek.js';
import { refreshSeed, whatIsDue } from '../../../src/secretsync/due.js';
import type { Observed } from '../../../src/secretsync/observe.js';
import { latestRefreshAtOrBefore, nextRefreshAfter } from '../../../src/secretsync/schedule.js';
import { aSecretSync, content, observed, remembered, syncedStatus, T0, writtenSecret } from './fixtures.js';

const C1 = content({ password: 'p1' });
const at = (ms: number) => new Date(T0.getTime() + ms);

function healthy(ss: SecretSync = aSecretSync(), o: Partial<Observed> = {}): Observed {
  const s = { ...ss, status: syncedStatus(ss, C1) };
  return observed({ ss: s, target: writtenSecret(s, C1), ...o });
}

describe('notBefore of a refresh: the tick that made it due', () => {
  test('reconciled after its tick: reads started since the tick answer it', () => {
    const o = healthy(aSecretSync(), { memory: remembered(T0) });
    const tick = whatIsDue(o).nextRefresh;
    const due = whatIsDue({ ...o, now: new Date(tick.getTime() + 2_500) });
    expect(due.read).toBe('refresh due');
    expect(due.notBefore).toBe(tick.getTime());
  });

  test('several ticks missed (a backlog, a pause): the latest tick at or before now', () => {
    const o = healthy(aSecretSync(), { memory: remembered(T0) });
    const first = whatIsDue(o).nextRefresh.getTime();
    const due = whatIsDue({ ...o, now: new Date(first + 3 * 30_000 + 10) });
    expect(due.notBefore).toBe(first + 3 * 30_000);
  });

  test('every sync of one remote secret due at a tick asks the same notBefore, whenever it is reconciled', () => {
    const bound = (uid: string, lastCheck: Date, now: Date) =>
      whatIsDue(healthy(aSecretSync({}, { name: uid, uid }), { memory: remembered(lastCheck), now })).notBefore;
    const tick = whatIsDue(healthy(aSecretSync(), { memory: remembered(T0) })).nextRefresh.getTime();
    const a = bound('a', T0, new Date(tick + 1));
    const b = bound('b', at(-10_000), new Date(tick + 900));
    expect(a).toBe(tick);
    expect(b).toBe(tick);
  });

  test('a cron schedule: the latest cron tick (with its jitter) at or before now', () => {
    const ss = aSecretSync({ refresh: { schedule: '*/5 * * * *' } });
    const o = healthy(ss, { memory: remembered(T0) });
    const first = whatIsDue(o).nextRefresh;
    const third = nextRefreshAfter(ss.spec.refresh, nextRefreshAfter(ss.spec.refresh, first, refreshSeed(o)), refreshSeed(o));
    const due = whatIsDue({ ...o, now: new Date(third.getTime() + 60_000) });
    expect(due.read).toBe('refresh due');
    expect(due.notBefore).toBe(third.getTime());
  });

  test('a cron search that would step too far gives up (the caller then uses now)', () => {
    const every = { schedule: '* * * * *' };
    expect(latestRefreshAtOrBefore(every, at(100 * 60_000), 's', T0)).toBeUndefined();
    expect(latestRefreshAtOrBefore(every, T0, 's', at(1))).toBeUndefined();
  });
});

describe('notBefore of a first sync', () => {
  const created = '2026-01-01T00:00:00Z'; // T0

  test('never tried: a read started after the object was created (stamp + 1 s: whole seconds)', () => {
    const due = whatIsDue(observed({ ss: aSecretSync({}, { creationTimestamp: created }), now: at(7_000) }));
    expect(due.read).toBe('first sync');
    expect(due.notBefore).toBe(T0.getTime() + 1_000);
  });

  test('within the creation second: capped at now', () => {
    expect(whatIsDue(observed({ ss: aSecretSync({}, { creationTimestamp: created }), now: at(300) })).notBefore).toBe(T0.getTime() + 300);
  });

  test.each([
    ['a failure was recorded (the source may have been fixed since)', { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'KeyNotFound', message: 'x', lastTransitionTime: created }] } }, {}],
    ['this process tried before', {}, { memory: remembered(at(1_000)) }],
  ] as const)('%s: now', (_name, ssExtra, oExtra) => {
    const ss = { ...aSecretSync({}, { creationTimestamp: created }), ...ssExtra } as SecretSync;
    const due = whatIsDue(observed({ ss, now: at(7_000), ...oExtra }));
    expect(due.read).toBe('first sync');
    expect(due.notBefore).toBe(at(7_000).getTime());
  });

  test('edited before it ever synced (generation 2), or no creationTimestamp: now', () => {
    expect(whatIsDue(observed({ ss: aSecretSync({}, { creationTimestamp: created, generation: 2 }), now: at(7_000) })).notBefore).toBe(at(7_000).getTime());
    expect(whatIsDue(observed({ ss: aSecretSync(), now: at(7_000) })).notBefore).toBe(at(7_000).getTime());
  });
});

describe('notBefore of everything else: now', () => {
  const now = at(5_000);
  test.each<[string, () => Observed]>([
    ['spec changed', () => healthy(aSecretSync({}, { generation: 2 }), { now })],
    ['target missing', () => healthy(aSecretSync(), { target: undefined, memory: remembered(T0), now })],
    ['source changed', () => healthy(aSecretSync(), { memory: remembered(T0, 's1/0'), now })],
    [
      'force-sync',
      () => {
        const o = healthy(aSecretSync(), { now });
        o.ss.metadata.annotations = { [FORCE_SYNC_ANNOTATION]: '1' };
        return o;
      },
    ],
  ])('%s', (reason, make) => {
    const o = make();
    if (reason === 'spec changed') o.ss.status = { ...o.ss.status, observedGeneration: 1 };
    const due = whatIsDue(o);
    expect(due.read).toBe(reason);
    expect(due.notBefore).toBe(now.getTime());
  });

  test('nothing due: no notBefore', () => {
    expect(whatIsDue(healthy(aSecretSync(), { memory: remembered(T0), now: at(1) }))).not.toHaveProperty('notBefore');
  });
});

describe('refreshSeed', () => {
  const seed = (spec: Partial<SecretSync['spec']>, uid = 'u1', alignRefreshes = false) =>
    refreshSeed(observed({ ss: aSecretSync(spec, { uid, name: uid }), alignRefreshes }));

  test('a provider that reads one secret a call: per source and smallest remote path, not per object', () => {
    expect(seed({}, 'a')).toBe('SecretSource/ns/vault#db');
    expect(seed({}, 'b')).toBe(seed({}, 'a'));
    const both = [
      { key: 'u', remoteRef: { path: 'users', property: 'name' } },
      { key: 'p', remoteRef: { path: '/db/', property: 'password' } },
    ];
    expect(seed({ data: both })).toBe('SecretSource/ns/vault#db');
    expect(seed({ data: [...both].reverse() })).toBe(seed({ data: both }));
    expect(seed({ data: [], dataFrom: [{ remoteRef: { path: 'api' } }] })).toBe('SecretSource/ns/vault#api');
  });

  test('a spec that names no path: per object', () => {
    expect(seed({ data: [] }, 'u7')).toBe('SecretSync/u7');
  });

  test('a batching provider: per source, whatever the paths', () => {
    expect(seed({ data: [{ key: 'k', remoteRef: { path: 'x' } }] }, 'a', true)).toBe('SecretSource/ns/vault');
  });
});

describe('a source its provider refuses (issue 18: stored without credentials of its own)', () => {
  const refused = new IdentityNotAllowedError('spec.aws.auth is missing: a SecretSource is never served with the operator\'s own AWS identity');

  test('fails a healthy sync at once, even right after a restart when nothing else is due', () => {
    const o = healthy(aSecretSync(), { sourceInvalid: refused }); // no memory: a fresh process
    expect(whatIsDue(healthy(aSecretSync())).read).toBeUndefined(); // without the refusal nothing would happen
    const due = whatIsDue(o);
    expect(due.failure).toBe(refused);
    expect(due.read).toBeUndefined();
  });

  test('a refused KEK source fails an envelope sync before any key-service call', () => {
    const ss = aSecretSync({ target: { encryption: { kek: { awsKms: { sourceRef: { name: 'legacy' }, keyId: 'alias/k' } } } } });
    const legacy: AnySource = {
      apiVersion: 'secretsync.io/v1alpha1',
      kind: 'SecretSource',
      metadata: { name: 'legacy', namespace: ss.metadata.namespace, uid: 'l1', generation: 2 },
      spec: { aws: { region: 'eu-west-1' } },
    };
    const o = observed({ ss, kek: { ref: kekRefOf(ss) as KekRef, source: legacy, latest: undefined, sourceInvalid: refused } });
    expect(whatIsDue(o).failure).toBe(refused);
  });
});

describe('kekCheck: a read that handles a new force-sync value in envelope mode asks for the KEK version first', () => {
  const env = aSecretSync({ target: { encryption: { kek: { vaultTransit: { sourceRef: { name: 'vault' }, key: 'k', agentAuth: { kubernetes: { role: 'app' } } } } } } });
  /** Ready=False (so the read is a retry and needs no envelope to compare), with these annotations and status fields. */
  const failing = (ss: SecretSync, annotations: Record<string, string>, st: Partial<SecretSync['status']> = {}): Observed => {
    const s: SecretSync = {
      ...ss,
      metadata: { ...ss.metadata, annotations },
      status: { ...syncedStatus(ss, C1), conditions: [{ type: 'Ready', status: 'False', reason: 'SourceUnavailable', message: 'down', lastTransitionTime: T0.toISOString() }], ...st },
    };
    const ref = kekRefOf(s);
    return observed({ ss: s, now: at(60_000), memory: remembered(T0), ...(ref ? { kek: { ref, source: observed({ ss: s }).source, latest: '1' } } : {}) });
  };

  test.each<[string, Observed, boolean]>([
    ['envelope mode, a new force-sync value', failing(env, { [FORCE_SYNC_ANNOTATION]: '1' }), true],
    ['envelope mode, the value already handled', failing(env, { [FORCE_SYNC_ANNOTATION]: '1' }, { forceSyncHandled: '1' }), false],
    ['envelope mode, no force-sync', failing(env, {}), false],
    ['plain mode, a new force-sync value', failing(aSecretSync(), { [FORCE_SYNC_ANNOTATION]: '1' }), false],
    // Within 10 s of the last one: the value waits, and the retry with it.
    ['envelope mode, a force-sync that waits for its window', failing(env, { [FORCE_SYNC_ANNOTATION]: '2' }, { forceSyncHandled: '1', lastForceSyncTime: at(55_000).toISOString() }), false],
  ])('%s', (_what, o, check) => {
    const due = whatIsDue(o);
    expect(due.kekCheck === true).toBe(check);
    if (check) expect(due.read).toBe('retry after failure');
  });
});
