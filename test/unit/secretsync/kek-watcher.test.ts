// KekWatcher on the fake clock: one version check per KEK in use per interval (however many
// SecretSyncs share it), the users of a KEK enqueued when its version moves, refused or
// broken KEKs never asked, passes counted from the end of the previous one, and stop()
// leaving no timer behind.
import type { AnySource, SecretSync } from '../../../src/api/types.js';
import type { KeyEncrypter } from '../../../src/crypto/key-encrypter.js';
import { createLogger } from '../../../src/observability/logger.js';
import { FakeClock } from '../../../src/runtime/testing/fake-clock.js';
import { KekVersions } from '../../../src/secretsync/kek-versions.js';
import { KekWatcher } from '../../../src/secretsync/kek-watcher.js';
import type { KekRef } from '../../../src/secretsync/kek.js';
import { LogSink } from '../../helpers/log-sink.js';

const MIN = 60_000;

type Ref = SecretSync['spec']['sourceRef'];
const sync = (name: string, namespace: string, keyId: string | undefined, extra: Partial<SecretSync['metadata']> = {}, kekSource: Ref = { name: 'aws' }): SecretSync => ({
  apiVersion: 'secretsync.io/v1alpha1',
  kind: 'SecretSync',
  metadata: { name, namespace, ...extra },
  spec: {
    sourceRef: { name: 'aws' },
    data: [],
    ...(keyId ? { target: { encryption: { kek: { awsKms: { sourceRef: kekSource, keyId } } } } } : {}),
  } as SecretSync['spec'],
});
const source = (namespace: string): AnySource => ({ apiVersion: 'secretsync.io/v1alpha1', kind: 'SecretSource', metadata: { name: 'aws', namespace }, spec: { aws: { region: 'eu-west-1' } } }) as AnySource;
/** A ClusterSecretSource admitting namespace b only. */
const shared = { apiVersion: 'secretsync.io/v1alpha1', kind: 'ClusterSecretSource', metadata: { name: 'shared' }, spec: { aws: { region: 'eu-west-1' }, allowedNamespaces: ['b'] } } as AnySource;

function setup(syncs: SecretSync[], sources: AnySource[] = [source('a'), source('b')]) {
  const clock = new FakeClock(0);
  const sink = new LogSink();
  const versions = new KekVersions();
  /** Current version of each key id; a missing id makes currentVersion() fail. */
  const current = new Map<string, string>();
  const asked: string[] = [];
  const enqueued: string[] = [];
  let hold: Promise<void> | undefined;
  const encrypter = (_src: AnySource, ref: KekRef): KeyEncrypter =>
    ({
      currentVersion: async () => {
        asked.push(ref.id);
        await hold;
        const v = current.get(ref.spec.kind === 'awsKms' ? ref.spec.keyId : '');
        if (v === undefined) throw new Error('AccessDeniedException: not allowed');
        return v;
      },
    }) as KeyEncrypter;
  const watcher = new KekWatcher({
    listSecretSyncs: () => syncs,
    getSource: (ref) => sources.find((s) => s.kind === ref.kind && (s.metadata.namespace ?? '') === ref.namespace && s.metadata.name === ref.name),
    encrypter,
    versions,
    enqueue: (k) => enqueued.push(k),
    intervalMs: 5 * MIN,
    log: createLogger({ destination: sink, level: 'info' }),
    clock,
  });
  return { clock, sink, versions, current, asked, enqueued, watcher, holdWith: (p: Promise<void> | undefined) => (hold = p) };
}

test('nothing before the first interval; then one check per KEK, its users enqueued on first sight', async () => {
  const t = setup([sync('x', 'a', 'k1'), sync('y', 'a', 'k1'), sync('z', 'a', 'k2'), sync('plain', 'a', undefined)]);
  t.current.set('k1', '1').set('k2', '7');
  t.watcher.start();
  await t.clock.advance(5 * MIN - 1);
  expect(t.asked).toEqual([]);
  await t.clock.advance(1);
  expect(t.asked).toEqual(['SecretSource/a/aws|kms:k1', 'SecretSource/a/aws|kms:k2']);
  expect(t.enqueued).toEqual(['a/x', 'a/y', 'a/z']);
  expect(t.versions.get('SecretSource/a/aws|kms:k1')).toBe('1');
  expect(t.sink.text()).not.toMatch(/KEK rotated/); // first sight is not a rotation
  await t.watcher.stop();
});

test('a moved version enqueues that KEK’s users only, and says so; an unmoved one nothing', async () => {
  const t = setup([sync('x', 'a', 'k1'), sync('z', 'a', 'k2')]);
  t.current.set('k1', '1').set('k2', '7');
  t.watcher.start();
  await t.clock.advance(5 * MIN);
  t.enqueued.length = 0;
  t.current.set('k1', '2');
  await t.clock.advance(5 * MIN);
  expect(t.enqueued).toEqual(['a/x']);
  expect(t.sink.text()).toMatch(/"kek":"SecretSource\/a\/aws\|kms:k1","version":"2","secretsyncs":1,"msg":"KEK rotated: re-wrapping its data keys"/);
  await t.clock.advance(5 * MIN);
  expect(t.enqueued).toEqual(['a/x']);
  await t.watcher.stop();
});

test('deleted SecretSyncs, broken KEK blocks, missing or refused sources are never asked about', async () => {
  const brokenKek = { ...sync('broken', 'a', undefined), spec: { sourceRef: { name: 'aws' }, data: [], target: { encryption: { kek: { vaultTransit: { key: 'k' } } } } } } as unknown as SecretSync;
  const t = setup(
    [
      sync('gone', 'a', 'k1', { deletionTimestamp: '2026-01-01T00:00:00Z' }),
      brokenKek,
      sync('nosource', 'c', 'k1'), // no SecretSource aws in namespace c
      sync('refused', 'a', 'k1', {}, { kind: 'ClusterSecretSource', name: 'shared' }), // not admitted from a
      sync('ok', 'b', 'k1'),
      sync('admitted', 'b', 'k1', {}, { kind: 'ClusterSecretSource', name: 'shared' }),
    ],
    [source('a'), source('b'), shared],
  );
  t.current.set('k1', '1');
  t.watcher.start(); // a pass asks nothing while the watcher is stopped
  await t.watcher.checkAll();
  expect(t.asked).toEqual(['SecretSource/b/aws|kms:k1', 'ClusterSecretSource/shared|kms:k1']);
  expect(t.enqueued).toEqual(['b/ok', 'b/admitted']);
  await t.watcher.stop();
});

test('a KEK no longer used is forgotten; a failed check is logged and the others still run', async () => {
  const syncs = [sync('x', 'a', 'k1'), sync('y', 'a', 'denied'), sync('z', 'a', 'k2')];
  const t = setup(syncs);
  t.current.set('k1', '1').set('k2', '1');
  t.watcher.start();
  await t.watcher.checkAll();
  expect(t.asked).toHaveLength(3);
  expect(t.enqueued).toEqual(['a/x', 'a/z']);
  expect(t.sink.text()).toMatch(/"kek":"SecretSource\/a\/aws\|kms:denied","reason":"\w+".*"msg":"could not check the KEK version"/);
  syncs.splice(0, 1);
  await t.watcher.checkAll();
  expect(t.versions.ids()).toEqual(['SecretSource/a/aws|kms:k2']);
  await t.watcher.stop();
});

test('the next pass starts an interval after the previous one ended; stop() waits for a pass and leaves no timer', async () => {
  const t = setup([sync('x', 'a', 'k1')]);
  t.current.set('k1', '1');
  let release!: () => void;
  t.holdWith(new Promise<void>((r) => (release = r)));
  t.watcher.start();
  await t.clock.advance(5 * MIN); // the first pass starts and hangs in the key service
  expect(t.asked).toHaveLength(1);
  await t.clock.advance(10 * MIN);
  expect(t.asked).toHaveLength(1); // no overlapping pass
  t.holdWith(undefined);
  release();
  await t.clock.flush(); // the pass ends at 15 min: the next is due at 20
  await t.clock.advance(5 * MIN - 1);
  expect(t.asked).toHaveLength(1);
  await t.clock.advance(1);
  expect(t.asked).toHaveLength(2);
  await t.watcher.stop();
  expect(t.clock.pendingTimers()).toBe(0);
  await t.clock.advance(60 * MIN);
  expect(t.asked).toHaveLength(2);
});

test('stop() during a pass: the pass finishes, no further pass is scheduled', async () => {
  const t = setup([sync('x', 'a', 'k1'), sync('y', 'a', 'k2')]);
  t.current.set('k1', '1').set('k2', '1');
  let release!: () => void;
  t.holdWith(new Promise<void>((r) => (release = r)));
  t.watcher.start();
  await t.clock.advance(5 * MIN);
  const stopped = t.watcher.stop();
  release();
  await stopped;
  expect(t.asked).toEqual(['SecretSource/a/aws|kms:k1']); // stopped before the second KEK
  expect(t.clock.pendingTimers()).toBe(0);
});

test('KekVersions tells onMoved of a version that moved, never of one first learned; the watcher enqueues that KEK’s users', () => {
  const moved: string[] = [];
  const v = new KekVersions((id) => moved.push(id));
  expect(v.observe('k', '1')).toBe(true);
  expect(v.observe('k', '1')).toBe(false);
  expect(moved).toEqual([]);
  expect(v.observe('k', '2')).toBe(true);
  expect(moved).toEqual(['k']);

  const t = setup([sync('x', 'a', 'k1'), sync('y', 'b', 'k1'), sync('z', 'a', 'k2'), sync('gone', 'a', 'k1', { deletionTimestamp: '2026-01-01T00:00:00Z' }), sync('plain', 'a', undefined)]);
  t.watcher.enqueueUsers('SecretSource/a/aws|kms:k1');
  expect(t.enqueued).toEqual(['a/x']); // y reads k1 through namespace b's own source: another KEK
  expect(t.asked).toEqual([]); // no key-service call
});
