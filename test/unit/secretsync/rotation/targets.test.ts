import type { RotationSpec, SecretSync } from '../../../../src/api/types.js';
import { InvalidSpecError } from '../../../../src/errors.js';
import { rotationTargets } from '../../../../src/secretsync/rotation/targets.js';
import { aSecretSync } from '../fixtures.js';

const rotation = (keys: string[]): RotationSpec => ({ schedule: '0 3 * * *', keys });
const withRotation = (keys: string[], spec: Partial<SecretSync['spec']> = {}) => aSecretSync({ ...spec, rotation: rotation(keys) });

function refusal(ss: SecretSync): string {
  try {
    rotationTargets(ss);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidSpecError);
    return (err as Error).message;
  }
  throw new Error('expected an InvalidSpecError');
}

describe('rotationTargets', () => {
  test('no spec.rotation: nothing', () => {
    expect(rotationTargets(aSecretSync())).toEqual([]);
  });

  test('a spec.data key with a property rotates that property of its path', () => {
    expect(rotationTargets(withRotation(['password']))).toEqual([{ path: 'db', properties: ['password'], whole: false, keys: ['password'] }]);
  });

  test('a spec.data key without a property rotates the whole value', () => {
    const ss = withRotation(['token'], { data: [{ key: 'token', remoteRef: { path: 'api/token' } }] });
    expect(rotationTargets(ss)).toEqual([{ path: 'api/token', properties: [], whole: true, keys: ['token'] }]);
  });

  test('grouped by remote path, in key order; a property read by two keys is written once', () => {
    const ss = withRotation(['pw', 'apiKey', 'user', 'pw2'], {
      data: [
        { key: 'pw', remoteRef: { path: 'db', property: 'password' } },
        { key: 'user', remoteRef: { path: 'db', property: 'username' } },
        { key: 'apiKey', remoteRef: { path: 'api', property: 'key' } },
        { key: 'pw2', remoteRef: { path: 'db', property: 'password' } },
      ],
    });
    expect(rotationTargets(ss)).toEqual([
      { path: 'db', properties: ['password', 'username'], whole: false, keys: ['pw', 'user', 'pw2'] },
      { path: 'api', properties: ['key'], whole: false, keys: ['apiKey'] },
    ]);
  });

  test('two keys reading the same whole value: one whole target', () => {
    const ss = withRotation(['a', 'b'], { data: [{ key: 'a', remoteRef: { path: 't' } }, { key: 'b', remoteRef: { path: 't' } }] });
    expect(rotationTargets(ss)).toEqual([{ path: 't', properties: [], whole: true, keys: ['a', 'b'] }]);
  });

  test('a key not in spec.data is a property of the single spec.dataFrom secret', () => {
    const ss = withRotation(['password', 'apiKey'], { dataFrom: [{ remoteRef: { path: 'app' } }] });
    expect(rotationTargets(ss)).toEqual([
      { path: 'db', properties: ['password'], whole: false, keys: ['password'] },
      { path: 'app', properties: ['apiKey'], whole: false, keys: ['apiKey'] },
    ]);
  });

  test('spec.data wins over spec.dataFrom for a key both provide (as in the synced content)', () => {
    const ss = withRotation(['password'], { dataFrom: [{ remoteRef: { path: 'app' } }] });
    expect(rotationTargets(ss)).toEqual([{ path: 'db', properties: ['password'], whole: false, keys: ['password'] }]);
  });

  test('refused: an empty key list', () => {
    expect(refusal(withRotation([]))).toMatch(/^spec\.rotation\.keys is empty: list/);
  });

  test('refused: a key that is not in spec.data, without spec.dataFrom', () => {
    expect(refusal(withRotation(['password', 'nope']))).toBe(
      'spec.rotation.keys[1] "nope" is not a key of spec.data and there is no spec.dataFrom: rotate a spec.data key, or add a spec.data entry with key "nope" whose remoteRef names the secret to rotate',
    );
  });

  test('refused: a key not in spec.data with several spec.dataFrom entries', () => {
    const ss = withRotation(['apiKey'], { dataFrom: [{ remoteRef: { path: 'a' } }, { remoteRef: { path: 'b' } }] });
    expect(refusal(ss)).toBe(
      'spec.rotation.keys[0] "apiKey" is not a key of spec.data, and spec.dataFrom has 2 entries, so which secret holds it is ambiguous: add a spec.data entry with key "apiKey" and the remoteRef (path, property) to rotate',
    );
    // Listed in spec.data, the same key is fine.
    const listed = withRotation(['password'], { dataFrom: [{ remoteRef: { path: 'a' } }, { remoteRef: { path: 'b' } }] });
    expect(rotationTargets(listed)).toHaveLength(1);
  });

  test('refused: a key listed twice', () => {
    expect(refusal(withRotation(['password', 'password']))).toBe(
      'spec.rotation.keys[1] "password" is listed twice (also spec.rotation.keys[0]): list each key once',
    );
  });

  test('refused: a pinned version on a rotated path, by the rotated entry or another one', () => {
    const pinnedSelf = withRotation(['password'], { data: [{ key: 'password', remoteRef: { path: 'db', property: 'password', version: '3' } }] });
    expect(refusal(pinnedSelf)).toBe(
      'spec.data[0].remoteRef.version pins "db" to version 3, but spec.rotation writes new versions of "db" that a pinned read never sees: remove version',
    );
    const pinnedOther = withRotation(['password'], {
      data: [
        { key: 'password', remoteRef: { path: 'db', property: 'password' } },
        { key: 'user', remoteRef: { path: 'db', property: 'username', version: '3' } },
      ],
    });
    expect(refusal(pinnedOther)).toMatch(/^spec\.data\[1\]\.remoteRef\.version pins "db"/);
    const pinnedFrom = withRotation(['apiKey'], { dataFrom: [{ remoteRef: { path: 'app', version: 'AWSCURRENT' } }] });
    expect(refusal(pinnedFrom)).toMatch(/^spec\.dataFrom\[0\]\.remoteRef\.version pins "app" to version AWSCURRENT.*: remove version$/);
    // A pinned read of a path that is not rotated is fine.
    const elsewhere = withRotation(['password'], {
      data: [
        { key: 'password', remoteRef: { path: 'db', property: 'password' } },
        { key: 'ca', remoteRef: { path: 'pki', property: 'ca', version: '2' } },
      ],
    });
    expect(rotationTargets(elsewhere)).toHaveLength(1);
  });

  test('refused: the whole value and properties of the same path', () => {
    const mixed = withRotation(['raw', 'password'], {
      data: [
        { key: 'password', remoteRef: { path: 'db', property: 'password' } },
        { key: 'raw', remoteRef: { path: 'db' } },
      ],
    });
    expect(refusal(mixed)).toBe(
      'spec.rotation.keys: "raw" rotates the whole value of "db" (spec.data[1] has no property), but spec.data[0] reads properties of it, which a whole new value would replace: rotate properties of "db" instead (set spec.data[1].remoteRef.property), or keep the whole value at a path of its own',
    );
    // Also when the property reader is not rotated itself: the whole new value would break it.
    expect(refusal(withRotation(['raw'], { data: mixed.spec.data }))).toMatch(/"raw" rotates the whole value of "db".*spec\.data\[0\] reads properties/);
    const viaDataFrom = withRotation(['raw'], { data: [{ key: 'raw', remoteRef: { path: 'app' } }], dataFrom: [{ remoteRef: { path: 'app' } }] });
    expect(refusal(viaDataFrom)).toMatch(/spec\.dataFrom\[0\] reads properties of it/);
  });
});
