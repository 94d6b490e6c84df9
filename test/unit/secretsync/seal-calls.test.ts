// The key-service calls a seal plan asks for, counted on the in-memory FakeKek: none to
// keep, one re-wrap per listed version, one data key per new version, and a failed call
// as the outcome's error. Which plan a reconcile makes is in plan-features.test.ts.
import type { AnySource } from '../../../src/api/types.js';
import { open, type Envelope, type KekCoordinates } from '../../../src/crypto/envelope.js';
import { SourceAuthError } from '../../../src/errors.js';
import { createLogger } from '../../../src/observability/logger.js';
import { kekRefOf } from '../../../src/secretsync/kek.js';
import { KekVersions } from '../../../src/secretsync/kek-versions.js';
import { carryOutSeal, type SealDeps } from '../../../src/secretsync/seal-calls.js';
import type { KekVia } from '../../../src/secretsync/seal-plan.js';
import { LogSink } from '../../helpers/log-sink.js';
import { FakeKek } from './fake-kek.js';
import { aSecretSync, content, vaultSource } from './fixtures.js';

const ss = aSecretSync({ target: { encryption: { kek: { vaultTransit: { sourceRef: { name: 'vault' }, key: 'k', agentAuth: { kubernetes: { role: 'app' } } } } } } });
const ref = kekRefOf(ss)!;
const want: KekCoordinates = { type: 'vault-transit', address: 'https://v', mount: 'transit', key: 'k', version: '', agentAuth: { mount: 'kubernetes', role: 'app' } };
const kek: KekVia = { source: vaultSource as AnySource, ref, want };
const ctx = { namespace: 'ns', secretsync: 'db' };

function deps() {
  const fake = new FakeKek();
  const kekVersions = new KekVersions();
  const d: SealDeps = { encrypter: () => fake, kekVersions, log: createLogger({ destination: new LogSink(), level: 'trace' }) };
  return { fake, kekVersions, d };
}

async function minted(d: SealDeps, version: number, value: string): Promise<Envelope> {
  const out = await carryOutSeal('ns/db', { kind: 'mint', content: content({ password: value }), contentHmac: 'h', kek, ctx, binding: { ...ctx, uid: 'u1', version } }, d);
  if (!out?.ok) throw new Error('mint failed');
  return out.envelope;
}

test('nothing to seal, or the held envelope kept: no call', async () => {
  const { fake, d } = deps();
  expect(await carryOutSeal('ns/db', { kind: 'none' }, d)).toBeUndefined();
  const e = await minted(d, 1, 'one');
  fake.calls.length = 0;
  expect(await carryOutSeal('ns/db', { kind: 'keep', envelope: e, contentHmac: 'h' }, d)).toEqual({ ok: true, envelope: e, contentHmac: 'h' });
  expect(fake.calls).toEqual([]);
});

test('a mint: one data key, the content sealed to the version it is, the KEK version recorded', async () => {
  const { fake, kekVersions, d } = deps();
  const e = await minted(d, 3, 'three');
  expect(fake.calls).toEqual(['generateDataKey']);
  expect(e.current).toMatchObject({ version: 3, kek: { ...want, version: '1' } });
  const key = await fake.decrypt(e.current.wrappedKey, ctx);
  expect(open(key, { ...ctx, uid: 'u1', version: 3 }, e.current.values).password?.toString()).toBe('three');
  expect(kekVersions.get(ref.id)).toBe('1');
});

test('a re-wrap: one call per listed version, the others and all ciphertext untouched', async () => {
  const { fake, d } = deps();
  const v1 = (await minted(d, 1, 'one')).current;
  const v2 = (await minted(d, 2, 'two')).current;
  const held: Envelope = { current: v2, previous: [v1] };
  fake.rotate();
  fake.calls.length = 0;
  const out = await carryOutSeal('ns/db', { kind: 'rewrap', envelope: held, versions: [2], contentHmac: 'h', kek, ctx }, d);
  expect(fake.calls).toEqual(['rewrap']);
  if (!out?.ok) throw new Error('rewrap failed');
  expect(out.envelope.current).toMatchObject({ version: 2, kek: { version: '2' }, values: v2.values });
  expect(out.envelope.previous).toEqual([v1]);
});

test('a key service that refuses: the outcome carries its error (planSync reports it)', async () => {
  const { fake, d } = deps();
  fake.generateDataKey = async () => {
    throw new SourceAuthError('permission denied');
  };
  const out = await carryOutSeal('ns/db', { kind: 'mint', content: content({ password: 'x' }), contentHmac: 'h', kek, ctx, binding: { ...ctx, uid: 'u1', version: 1 } }, d);
  expect(out).toMatchObject({ ok: false, error: expect.any(SourceAuthError) });
});
