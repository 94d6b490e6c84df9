// AWS rotation: the new SecretString (pure), and AwsProvider.rotate over a scripted
// Secrets Manager that keeps versions and staging labels as AWS does (ClientRequestToken
// as VersionId, AWSPREVIOUS following AWSCURRENT, RemoveFromVersionId checked). Behaviour
// against moto is in test/integration/providers/aws-rotate.test.ts.
import type { AnySource } from '../../../../src/api/types.js';
import { InvalidSpecError, InvalidValueError, SourceAuthError } from '../../../../src/errors.js';
import type { SecretDescription, SecretsApi, SecretValue } from '../../../../src/providers/aws/client.js';
import { ROTATION_ACTIONS, toAwsError } from '../../../../src/providers/aws/errors.js';
import { createAwsProviderFactory } from '../../../../src/providers/aws/index.js';
import { rotatedSecretString, versionWithStage } from '../../../../src/providers/aws/rotate.js';
import type { ProviderKube, RotationWrite } from '../../../../src/providers/provider.js';
import { FakeClock } from '../../../../src/runtime/testing/fake-clock.js';

const WHAT = 'SecretSource/apps/aws: rotating AWS secret "app/db"';
const w = (over: Partial<RotationWrite> = {}): RotationWrite => ({
  path: 'app/db',
  id: 'rot-1',
  basedOn: 'v1',
  set: { password: Buffer.from('new') },
  ...over,
});

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe('the new SecretString', () => {
  const json = (s: string): SecretValue => ({ versionId: 'v1', secretString: s });

  test('a JSON object gets the set properties; the others keep their values', () => {
    const out = rotatedSecretString(json('{"user":"app","password":"old","port":5432,"tls":{"ca":"x"}}'), w(), WHAT);
    expect(JSON.parse(out)).toEqual({ user: 'app', password: 'new', port: 5432, tls: { ca: 'x' } });
  });

  test('a plain string is replaced by `whole`; without it, an InvalidValueError naming the path', () => {
    expect(rotatedSecretString(json('old-plain'), w({ set: {}, whole: Buffer.from('new-plain') }), WHAT)).toBe('new-plain');
    const err = thrown(() => rotatedSecretString(json('old-plain'), w(), WHAT));
    expect(err).toBeInstanceOf(InvalidValueError);
    expect(err.message).toContain('"app/db" is not a JSON object');
    expect(err.message).not.toContain('old-plain');
  });

  test('SecretBinary, a whole value for a JSON object, and bytes that are not UTF-8 are InvalidValueErrors', () => {
    expect(thrown(() => rotatedSecretString({ versionId: 'v1', secretBinary: new Uint8Array([1]) }, w(), WHAT))).toBeInstanceOf(InvalidValueError);
    expect(thrown(() => rotatedSecretString(json('{"a":"b"}'), w({ set: {}, whole: Buffer.from('x') }), WHAT)).message).toContain(
      'rotate its properties',
    );
    const bad = thrown(() => rotatedSecretString(json('{"a":"b"}'), w({ set: { a: Buffer.from([0xff]) } }), WHAT));
    expect(bad).toBeInstanceOf(InvalidValueError);
    expect(bad.message).toContain('property "a" is not valid UTF-8');
  });

  test('the version carrying a stage', () => {
    const d: SecretDescription = { versionIdsToStages: { a: ['AWSPREVIOUS'], b: ['AWSCURRENT', 'custom'] } };
    expect(versionWithStage(d, 'AWSCURRENT')).toBe('b');
    expect(versionWithStage(d, 'AWSPENDING')).toBeUndefined();
  });

  test('a denial during rotation names every action rotation needs', () => {
    const denied = Object.assign(new Error('User: arn:aws:iam::123456789012:user/x is not authorized'), { name: 'AccessDeniedException' });
    const err = toAwsError(denied, { source: 'SecretSource/apps/aws', operation: 'PutSecretValue', target: 'app/db', rotation: true });
    expect(err).toBeInstanceOf(SourceAuthError);
    for (const action of ROTATION_ACTIONS) expect(err.message).toContain(action);
  });
});

/** Secrets Manager's versions and labels for one secret, as the calls change them. */
function fakeSecretsManager(initial: string) {
  const versions = new Map<string, { text: string; stages: Set<string> }>([['v1', { text: initial, stages: new Set(['AWSCURRENT']) }]]);
  const calls: string[] = [];
  const o: { failMove?: 'after-applying'; deny?: boolean } = {};
  const holder = (stage: string) => [...versions].find(([, v]) => v.stages.has(stage))?.[0];
  const awsError = (name: string, message: string) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
  const api: SecretsApi = {
    batchGetSecretValue: () => Promise.reject(new Error('not used')),
    async describeSecret() {
      calls.push('describe');
      if (o.deny) throw awsError('AccessDeniedException', 'not authorized');
      return { name: 'app/db', arn: 'arn:app/db', versionIdsToStages: Object.fromEntries([...versions].map(([id, v]) => [id, [...v.stages]])) };
    },
    async getSecretValue(_id, pin) {
      calls.push(`get ${pin?.versionStage}`);
      const id = holder(pin?.versionStage ?? 'AWSCURRENT') as string;
      return { name: 'app/db', versionId: id, secretString: versions.get(id)?.text };
    },
    async putSecretValue(_id, put) {
      calls.push(`put ${put.clientRequestToken} ${put.versionStages.join(',')}`);
      const had = versions.get(put.clientRequestToken);
      if (had && had.text !== put.secretString) throw awsError('ResourceExistsException', 'different value');
      if (!had) {
        for (const v of versions.values()) for (const s of put.versionStages) v.stages.delete(s);
        versions.set(put.clientRequestToken, { text: put.secretString, stages: new Set(put.versionStages) });
      }
      return put.clientRequestToken;
    },
    listSecrets: () => Promise.reject(new Error('not scripted')),
    async updateSecretVersionStage(_id, m) {
      calls.push(`stage ${m.versionStage} ${m.removeFromVersionId ?? '-'} -> ${m.moveToVersionId ?? '-'}`);
      const now = holder(m.versionStage);
      if (now && now !== m.removeFromVersionId && now !== m.moveToVersionId) throw awsError('InvalidParameterException', 'label elsewhere');
      if (m.removeFromVersionId && now !== m.removeFromVersionId) throw awsError('InvalidParameterException', 'not on that version');
      if (m.removeFromVersionId) versions.get(m.removeFromVersionId)?.stages.delete(m.versionStage);
      if (m.moveToVersionId) versions.get(m.moveToVersionId)?.stages.add(m.versionStage);
      if (m.versionStage === 'AWSCURRENT' && m.removeFromVersionId) {
        for (const v of versions.values()) v.stages.delete('AWSPREVIOUS');
        versions.get(m.removeFromVersionId)?.stages.add('AWSPREVIOUS');
      }
      if (o.failMove === 'after-applying') {
        o.failMove = undefined;
        throw awsError('InvalidParameterException', 'answer lost: a retry found the label moved');
      }
    },
    destroy: () => undefined,
  };
  const stages = () => Object.fromEntries([...versions].map(([id, v]) => [id, [...v.stages].sort()]));
  return { api, calls, o, versions, stages };
}

const source: AnySource = {
  apiVersion: 'secretsync.io/v1alpha1',
  kind: 'SecretSource',
  metadata: { name: 'aws', namespace: 'apps', uid: 'u1', generation: 1 },
  spec: { aws: { region: 'eu-west-1', endpoint: 'https://127.0.0.1:1', auth: { secretRef: { accessKeyIdRef: { name: 'aws', key: 'id' }, secretAccessKeyRef: { name: 'aws', key: 'secret' } } } } },
};

function setup(initial = '{"user":"app","password":"old"}') {
  const sm = fakeSecretsManager(initial);
  const ops: string[] = [];
  const kube: ProviderKube = { readSecretKey: async () => Buffer.from('key'), requestServiceAccountToken: async () => ({ token: '', expiresAt: new Date() }) };
  const factory = createAwsProviderFactory({ clock: new FakeClock(0), random: () => 0.5, wrapSecretsApi: () => sm.api });
  const provider = factory.create(source, { kube, secretNamespace: 'apps', onCall: (op, r) => ops.push(`${op}:${r}`) });
  return { ...sm, ops, provider };
}

test('written: put staged AWSPENDING, promoted to AWSCURRENT (old one AWSPREVIOUS), AWSPENDING removed', async () => {
  const s = setup();
  expect(await s.provider.rotate!(w())).toEqual({ outcome: 'written', version: 'rot-1' });
  expect(s.calls).toEqual(['describe', 'get AWSCURRENT', 'put rot-1 AWSPENDING', 'stage AWSCURRENT v1 -> rot-1', 'stage AWSPENDING rot-1 -> -']);
  expect(s.ops).toEqual([
    'describe-secret:success',
    'get-secret-value:success',
    'put-secret-value:success',
    'update-secret-version-stage:success',
    'update-secret-version-stage:success',
  ]);
  expect(s.stages()).toEqual({ v1: ['AWSPREVIOUS'], 'rot-1': ['AWSCURRENT'] });
  expect(JSON.parse(s.versions.get('rot-1')?.text ?? '')).toEqual({ user: 'app', password: 'new' });
});

test('called again: already-written with nothing more to do, one DescribeSecret', async () => {
  const s = setup();
  await s.provider.rotate!(w());
  s.calls.length = 0;
  expect(await s.provider.rotate!(w())).toEqual({ outcome: 'already-written', version: 'rot-1' });
  expect(s.calls).toEqual(['describe']);
});

test('a crash after the put: the pending version is promoted, not written again', async () => {
  const s = setup();
  await s.api.putSecretValue('app/db', { clientRequestToken: 'rot-1', secretString: '{"x":"y"}', versionStages: ['AWSPENDING'] });
  s.calls.length = 0;
  expect(await s.provider.rotate!(w())).toEqual({ outcome: 'already-written', version: 'rot-1' });
  expect(s.calls).toEqual(['describe', 'stage AWSCURRENT v1 -> rot-1', 'stage AWSPENDING rot-1 -> -']);
  expect(s.stages()).toEqual({ v1: ['AWSPREVIOUS'], 'rot-1': ['AWSCURRENT'] });
});

test('a promotion whose answer was lost: the stages show it took effect, and the rotation completes', async () => {
  const s = setup();
  s.o.failMove = 'after-applying';
  expect(await s.provider.rotate!(w())).toEqual({ outcome: 'written', version: 'rot-1' });
  expect(s.stages()).toEqual({ v1: ['AWSPREVIOUS'], 'rot-1': ['AWSCURRENT'] });
});

test('moved: AWSCURRENT is not basedOn, nothing read or written', async () => {
  const s = setup();
  expect(await s.provider.rotate!(w({ basedOn: 'v0' }))).toEqual({ outcome: 'moved', version: 'v1' });
  expect(s.calls).toEqual(['describe']);
});

test('denied: SourceAuthError naming the actions; refusals that need no call make none', async () => {
  const s = setup();
  s.o.deny = true;
  const err = await s.provider.rotate!(w()).catch((e: Error) => e);
  expect(err).toBeInstanceOf(SourceAuthError);
  expect((err as Error).message).toContain('secretsmanager:UpdateSecretVersionStage');
  s.calls.length = 0;
  await expect(s.provider.rotate!(w({ whole: Buffer.from('x') }))).rejects.toBeInstanceOf(InvalidSpecError);
  await expect(s.provider.rotate!(w({ id: ' ' }))).rejects.toBeInstanceOf(InvalidSpecError);
  expect(s.calls).toEqual([]);
});
