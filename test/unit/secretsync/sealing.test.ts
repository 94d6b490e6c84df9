// What one reconcile does to an envelope (keep, re-wrap, mint), and how the operator
// recognises an envelope it wrote: pure functions, no key service.
import { ENVELOPE_MAC_ANNOTATION } from '../../../src/api/annotations.js';
import { encodeEnvelope, type Envelope, type KekCoordinates, type VersionEnvelope } from '../../../src/crypto/envelope.js';
import type { RolloutTargetStatus } from '../../../src/api/types.js';
import { envelopeMac, heldEnvelope, heldEnvelopeKey, keptVersions, sealAction } from '../../../src/secretsync/sealing.js';
import { hmacKey, objectMacKeys } from '../../../src/secretsync/content.js';
import type { KubeSecret } from '../../../src/secretsync/ports.js';

const transit = (version = '1', key = 'secretsync'): KekCoordinates => ({
  type: 'vault-transit', address: 'https://v', mount: 'transit', key, version, agentAuth: { mount: 'kubernetes', role: 'app' },
});
const kms = (keyId: string, version: string, region = 'eu-west-1'): KekCoordinates => ({ type: 'aws-kms', region, keyId, version });
const entry = (version: number, kek: KekCoordinates): VersionEnvelope => ({ version, kek, wrappedKey: `w${version}`, values: { a: 'x' } });
const env = (cur: VersionEnvelope, ...prev: VersionEnvelope[]): Envelope => ({ current: cur, ...(prev.length ? { previous: prev } : {}) });

test('same version under the same KEK version: keep, whatever the refresh', () => {
  const e = env(entry(2, transit('1')), entry(1, transit('1')));
  expect(sealAction(e, true, 2, transit(''), '1')).toEqual({ kind: 'keep', envelope: e });
  expect(sealAction(e, true, 2, transit(''), undefined)).toEqual({ kind: 'keep', envelope: e }); // nothing known newer
});

test('a newer Transit key version: re-wrap the entries under the old one', () => {
  const e = env(entry(2, transit('1')), entry(1, transit('2')));
  expect(sealAction(e, true, 2, transit(''), '2')).toEqual({ kind: 'rewrap', envelope: e, versions: [2] });
});

test('a new content version: mint, the held current becomes the previous', () => {
  const e = env(entry(2, transit('1')), entry(1, transit('1')));
  expect(sealAction(e, true, 3, transit(''), '1')).toEqual({ kind: 'mint', version: 3, previous: [e.current] });
});

test('another Transit key: mint for the same version (rewrap cannot leave its key); the previous entry keeps its own KEK', () => {
  const e = env(entry(2, transit('1', 'old')), entry(1, transit('1', 'old')));
  expect(sealAction(e, true, 2, transit('', 'new'), undefined)).toEqual({ kind: 'mint', version: 2, previous: e.previous });
});

test('another KMS key (spec keyId edited) or an alias now naming another key: re-wrap with ReEncrypt, no new data key', () => {
  const e = env(entry(2, kms('alias/a', 'arn:key/1')), entry(1, kms('alias/a', 'arn:key/1')));
  expect(sealAction(e, true, 2, kms('alias/b', ''), undefined)).toEqual({ kind: 'rewrap', envelope: e, versions: [2, 1] });
  expect(sealAction(e, true, 2, kms('alias/a', ''), 'arn:key/2')).toEqual({ kind: 'rewrap', envelope: e, versions: [2, 1] });
  // Another region is another KMS: a fresh data key.
  expect(sealAction(e, true, 2, kms('alias/a', '', 'us-east-1'), undefined).kind).toBe('mint');
});

test('the operator recognises its envelope by the MAC; an edited one is not held', () => {
  const keys = objectMacKeys(hmacKey(Buffer.alloc(32, 7)), 'ns', 'u1');
  const data = encodeEnvelope(env(entry(1, transit('1'))));
  const s: KubeSecret = { metadata: { name: 'db', namespace: 'ns', annotations: { [ENVELOPE_MAC_ANNOTATION]: envelopeMac(keys.envelope, data) } }, type: 'secretsync.io/envelope', data };
  expect(s.metadata.annotations?.[ENVELOPE_MAC_ANNOTATION]).toMatch(/^v2:hmac-sha256:/);
  expect(heldEnvelope(s, keys)?.current.version).toBe(1);
  expect(heldEnvelope({ ...s, data: { ...data, current: Buffer.from('2').toString('base64') } }, keys)).toBeUndefined();
  expect(heldEnvelope({ ...s, metadata: { ...s.metadata, annotations: {} } }, keys)).toBeUndefined();
  expect(heldEnvelope({ ...s, type: 'Opaque' }, keys)).toBeUndefined();
});

describe('envelope MACs that do not verify as this object\'s (issue 18, items 4 and 9)', () => {
  const root = hmacKey(Buffer.alloc(32, 7));
  const keys = objectMacKeys(root, 'ns', 'u1');
  const data = encodeEnvelope(env(entry(1, transit('1'))));
  const withMac = (mac: string): KubeSecret => ({ metadata: { name: 'db', namespace: 'ns', annotations: { [ENVELOPE_MAC_ANNOTATION]: mac } }, type: 'secretsync.io/envelope', data });
  const digest = (mac: string) => mac.split(':').at(-1) as string;

  test.each([
    // [what, MAC text, held?]
    ['per-object MAC of this SecretSync', envelopeMac(keys.envelope, data), true],
    ['legacy MAC under the operator key (written before the upgrade)', envelopeMac(keys.legacy, data), true],
    ['per-object MAC of another SecretSync (an envelope copied across objects)', envelopeMac(objectMacKeys(root, 'ns', 'u2').envelope, data), false],
    ['per-object MAC of the same name in another namespace', envelopeMac(objectMacKeys(root, 'other', 'u1').envelope, data), false],
    ['MAC naming a key id the operator does not hold', envelopeMac(objectMacKeys(hmacKey(Buffer.alloc(32, 8)), 'ns', 'u1').envelope, data), false],
    ['the right digest under an edited key id', `v2:hmac-sha256:AAAAAAAA:${digest(envelopeMac(keys.envelope, data))}`, false],
    ['a MAC in the format without a key id', `hmac-sha256:${digest(envelopeMac(keys.legacy, data))}`, false],
    ['a legacy MAC relabelled v2', `v2:${envelopeMac(keys.legacy, data)}`, false],
  ])('%s → held: %s', (_, mac, held) => {
    expect(heldEnvelope(withMac(mac), keys) !== undefined).toBe(held);
  });

  test('the key that verified is the one the drift check re-builds with', () => {
    expect(heldEnvelopeKey(withMac(envelopeMac(keys.legacy, data)), keys)).toBe(keys.legacy);
    expect(heldEnvelopeKey(withMac(envelopeMac(keys.envelope, data)), keys)).toBe(keys.envelope);
  });
});

test('the same version number over other content (a crash between the Secret and the status write, then a new value): mint, never keep', () => {
  const e = env(entry(2, transit('1')), entry(1, transit('1')));
  expect(sealAction(e, false, 2, transit(''), '1')).toEqual({ kind: 'mint', version: 2, previous: e.previous });
});

describe('keptVersions: an older version stays until the rollout replacing it completes', () => {
  const t = (version: number, state: RolloutTargetStatus['state'], name = 'api'): RolloutTargetStatus => ({ kind: 'Deployment', name, version, state });
  test.each<[string, number[], number, RolloutTargetStatus[], number[], number[]]>([
    ['no rollouts: the newest older version only (as before)', [2, 1], 3, [], [2], []],
    ['every rollout Complete on the current version: the newest older one only', [2, 1], 3, [t(2, 'Complete')], [2], []],
    ['a rollout to 2 still in progress when 3 arrives: 1 stays (its old pods), and 2', [2, 1], 3, [t(2, 'Progressing')], [2, 1], []],
    ['a Failed rollout (never available) keeps its old version too', [2, 1], 3, [t(2, 'Failed')], [2, 1], []],
    ['a workload waiting for minInterval, recorded Complete on 1', [2, 1], 3, [t(1, 'Complete'), t(2, 'Complete', 'web')], [2, 1], []],
    ['the workload was deleted (Missing) or is not rolled (NotUsing): nothing kept for it', [2, 1], 3, [t(2, 'Missing'), t(2, 'NotUsing', 'web')], [2], []],
    ['past the bound (3 versions in all): the oldest needed one is dropped', [3, 2, 1], 4, [t(3, 'Progressing')], [3, 2], [1]],
    ['a version at or above the new one is never "older" (a re-mint of the same version)', [2, 1], 2, [t(2, 'Progressing')], [1], []],
    ['nothing held: nothing kept', [], 1, [t(1, 'Progressing')], [], []],
  ])('%s', (_name, held, version, targets, keep, dropped) => {
    expect(keptVersions(held, version, targets)).toEqual({ keep, dropped });
  });

  test('sealAction: N+2 arrives while the rollout to N+1 runs: the mint keeps N+1 and N', () => {
    const e = env(entry(2, transit('1')), entry(1, transit('1')));
    expect(sealAction(e, true, 3, transit(''), '1', [t(2, 'Progressing')])).toEqual({ kind: 'mint', version: 3, previous: [e.current, ...(e.previous ?? [])] });
    // Without the rollout in progress, version 1 goes, as before.
    expect(sealAction(e, true, 3, transit(''), '1', [t(2, 'Complete')])).toEqual({ kind: 'mint', version: 3, previous: [e.current] });
  });

  test('sealAction past the bound names what it dropped', () => {
    const e = env(entry(3, transit('1')), entry(2, transit('1')), entry(1, transit('1')));
    expect(sealAction(e, true, 4, transit(''), '1', [t(3, 'Failed')])).toEqual({ kind: 'mint', version: 4, previous: [e.current, e.previous?.[0]], dropped: [1] });
  });

  test('a re-wrap re-wraps every held version', () => {
    const e = env(entry(3, transit('1')), entry(2, transit('1')), entry(1, transit('2')));
    expect(sealAction(e, true, 3, transit(''), '2')).toEqual({ kind: 'rewrap', envelope: e, versions: [3, 2] });
  });
});
