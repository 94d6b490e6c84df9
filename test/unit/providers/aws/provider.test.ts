// The AWS provider's own logic over a scripted SecretsApi port (the SDK adapter is
// replaced; AWS behaviour itself is covered by the integration tests against moto):
// how reads are split into batches, matched to answers, paged, pinned, de-duplicated,
// shared by notBefore, and how refused credentials make the next call read the keys again.
import { jest } from '@jest/globals';
import { SourceAuthError, SourceNotFoundError, SourceUnavailableError } from '../../../../src/errors.js';
import type { BatchAnswer, SecretValue, SecretsApi } from '../../../../src/providers/aws/client.js';
import { createAwsProviderFactory } from '../../../../src/providers/aws/index.js';
import { FakeClock } from '../../../../src/runtime/testing/fake-clock.js';
import { awsSource, keysKube, readKeys } from './fixtures.js';

/** The error `p` rejects with (a value fails the test). */
function failure(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: Error) => e,
  );
}

const value = (name: string): SecretValue => ({ name, arn: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`, versionId: `ver-${name}`, secretString: `{"v":"${name}"}` });

/** A scripted port: answers every id, except those `omit` leaves out and `missing` reports. */
function fakeApi(
  o: { omit?: (id: string) => boolean; missing?: (id: string) => boolean; pageSize?: number; fail?: () => Error | undefined; failSingle?: (id: string) => Error | undefined } = {},
) {
  const batches: string[][] = [];
  const singles: { id: string; pin?: object }[] = [];
  let destroyed = 0;
  const api: SecretsApi = {
    async batchGetSecretValue(ids, nextToken) {
      const err = o.fail?.();
      if (err) throw err;
      batches.push([...ids]);
      const start = Number(nextToken ?? 0);
      const size = o.pageSize ?? ids.length;
      const page = ids.slice(start, start + size);
      const answer: BatchAnswer = { values: [], errors: [] };
      for (const id of page) {
        if (o.missing?.(id)) answer.errors.push({ secretId: id, errorCode: 'ResourceNotFoundException', message: "can't find it" });
        else if (!o.omit?.(id)) answer.values.push(value(id.replace(/^arn:.*:secret:/, '').replace(/-AbCdEf$/, '')));
      }
      if (start + size < ids.length) answer.nextToken = String(start + size);
      return answer;
    },
    async getSecretValue(id, pin) {
      singles.push({ id, pin });
      const err = o.failSingle?.(id);
      if (err) throw err;
      return { ...value(id), versionId: pin && 'versionId' in pin ? pin.versionId : 'ver-single' };
    },
    describeSecret: () => Promise.reject(new Error('not scripted: rotation is tested in rotate.test.ts')),
    putSecretValue: () => Promise.reject(new Error('not scripted')),
    updateSecretVersionStage: () => Promise.reject(new Error('not scripted')),
    listSecrets: () => Promise.reject(new Error('not scripted')),
    destroy: () => void destroyed++,
  };
  return { api, batches, singles, destroyed: () => destroyed };
}

function setup(api: SecretsApi) {
  const clock = new FakeClock(0);
  const calls: string[] = [];
  const reads = jest.fn(readKeys);
  const kube = keysKube(reads);
  const factory = createAwsProviderFactory({ clock, random: () => 0.5, wrapSecretsApi: () => api });
  const provider = factory.create(awsSource, { kube, secretNamespace: 'apps', onCall: (op, r) => calls.push(`${op}:${r}`) });
  return { clock, calls, reads, provider };
}

test('45 distinct concurrent reads are 3 batches of 20, 20 and 5', async () => {
  const f = fakeApi();
  const { clock, calls, provider } = setup(f.api);
  const all = Promise.all(Array.from({ length: 45 }, (_, i) => provider.getSecret({ path: `s${i}`, property: 'v' })));
  await clock.advance(100);
  expect(f.batches.map((b) => b.length)).toEqual([20, 20]); // after full batches the rest waits the longer gap
  await clock.advance(300);
  const got = await all;
  expect(got.map((g) => g.value.toString())).toEqual(Array.from({ length: 45 }, (_, i) => `s${i}`));
  expect(got[7]?.version).toBe('ver-s7');
  expect(f.batches.map((b) => b.length)).toEqual([20, 20, 5]);
  expect(calls).toEqual(Array(3).fill('BatchGetSecretValue:success'));
  await provider.close();
});

test('reads by ARN match the answer by ARN; a secret the answer omits is read on its own', async () => {
  const f = fakeApi({ omit: (id) => id === 'partial' });
  const { clock, calls, provider } = setup(f.api);
  const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:byarn-AbCdEf';
  const both = Promise.all([provider.getSecretMap({ path: arn }), provider.getSecret({ path: 'partial' })]);
  await clock.advance(100);
  const [map, single] = await both;
  expect(map.values.v?.toString()).toBe('byarn');
  expect(single.version).toBe('ver-single');
  expect(f.singles).toEqual([{ id: 'partial', pin: undefined }]);
  expect(calls).toEqual(['BatchGetSecretValue:success', 'GetSecretValue:success']);
  await provider.close();
});

test("a secret's own error in Errors[] fails only its readers", async () => {
  const f = fakeApi({ missing: (id) => id === 'gone' });
  const { clock, provider } = setup(f.api);
  const ok = provider.getSecret({ path: 'here' });
  const gone = provider.getSecret({ path: 'gone' });
  const settled = failure(gone);
  await clock.advance(100);
  await expect(ok).resolves.toMatchObject({ version: 'ver-here' });
  const err = await settled;
  expect(err).toBeInstanceOf(SourceNotFoundError);
  expect(err.message).toContain('secret "gone"');
  await provider.close();
});

test('a paged answer (NextToken) is followed', async () => {
  const f = fakeApi({ pageSize: 3 });
  const { clock, calls, provider } = setup(f.api);
  const all = Promise.all(Array.from({ length: 7 }, (_, i) => provider.getSecret({ path: `p${i}` })));
  await clock.advance(100);
  expect((await all).map((g) => g.version)).toEqual(Array.from({ length: 7 }, (_, i) => `ver-p${i}`));
  expect(calls).toEqual(Array(3).fill('BatchGetSecretValue:success'));
  await provider.close();
});

test('a batch denied as a whole is read secret by secret, and batching pauses for a while', async () => {
  const denied = () => Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
  const f = fakeApi({ fail: denied, failSingle: (id) => (id === 'blocked' ? denied() : undefined) });
  const { clock, calls, provider } = setup(f.api);
  const ok = provider.getSecret({ path: 'open' });
  const blocked = failure(provider.getSecret({ path: 'blocked' }));
  await clock.advance(100);
  await expect(ok).resolves.toMatchObject({ version: 'ver-single' });
  const err = await blocked;
  expect(err).toBeInstanceOf(SourceAuthError);
  expect(err.message).toContain('GetSecretValue of secret "blocked"');
  expect(calls.sort()).toEqual(['BatchGetSecretValue:error', 'GetSecretValue:error', 'GetSecretValue:success']);
  calls.length = 0;
  const later = provider.getSecret({ path: 'open' });
  await clock.advance(100);
  await later;
  expect(calls).toEqual(['GetSecretValue:success']);
  await clock.advance(10 * 60_000);
  const resumed = provider.getSecret({ path: 'open' });
  await clock.advance(100);
  await resumed;
  expect(calls.slice(1)).toEqual(['BatchGetSecretValue:error', 'GetSecretValue:success']); // tried again
  await provider.close();
});

test('pinned reads use GetSecretValue with a VersionId or a stage; identical ones share a call', async () => {
  const f = fakeApi();
  const { clock, provider } = setup(f.api);
  const id = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';
  const reads = await Promise.all([
    provider.getSecret({ path: 'db', version: id }),
    provider.getSecret({ path: 'db', version: id }),
    provider.getSecret({ path: 'db', version: 'AWSPREVIOUS' }),
    provider.getSecretMap({ path: 'db', version: 'AWSPREVIOUS' }),
  ]);
  expect(reads[0]?.version).toBe(id);
  expect(f.singles).toEqual([
    { id: 'db', pin: { versionId: id } },
    { id: 'db', pin: { versionStage: 'AWSPREVIOUS' } },
  ]);
  expect(f.batches).toEqual([]);
  // AWSCURRENT is what batched reads return anyway.
  const current = provider.getSecret({ path: 'db', version: 'AWSCURRENT' });
  await clock.advance(100);
  await current;
  expect(f.batches).toEqual([['db']]);
  await provider.close();
});

test('refused credentials make the next call read the keys again', async () => {
  let refuse = true;
  const f = fakeApi({
    fail: () => (refuse ? Object.assign(new Error('The security token included in the request is invalid.'), { name: 'UnrecognizedClientException', $metadata: { httpStatusCode: 400 } }) : undefined),
  });
  const { clock, calls, reads, provider } = setup(f.api);
  const first = failure(provider.getSecret({ path: 'db' }));
  await clock.advance(100);
  const err = await first;
  expect(err).toBeInstanceOf(SourceAuthError);
  expect(err.message).not.toContain('AKIDEXAMPLE');
  expect(reads).toHaveBeenCalledTimes(2);
  expect(f.destroyed()).toBe(1);
  refuse = false;
  const second = provider.getSecret({ path: 'db' });
  await clock.advance(100);
  await second;
  expect(reads).toHaveBeenCalledTimes(4);
  expect(calls).toEqual(['BatchGetSecretValue:error', 'BatchGetSecretValue:success']);
  await provider.close();
});

test('throttling is retried with backoff, then SourceUnavailable naming each secret', async () => {
  const f = fakeApi({ fail: () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }) });
  const { clock, calls, provider } = setup(f.api);
  const reads = ['a', 'b'].map((p) => failure(provider.getSecret({ path: p })));
  await clock.advance(20_000);
  const [a, b] = await Promise.all(reads);
  expect(a).toBeInstanceOf(SourceUnavailableError);
  expect(a?.message).toContain('secret "a"');
  expect(b?.message).toContain('secret "b"');
  expect(calls).toEqual(Array(4).fill('BatchGetSecretValue:error'));
  await provider.close();
});

test('close() fails reads not yet sent and destroys the client', async () => {
  const f = fakeApi();
  const { clock, provider } = setup(f.api);
  await clock.advance(0);
  const warm = provider.getSecret({ path: 'x' });
  await clock.advance(100);
  await warm;
  const pending = failure(provider.getSecret({ path: 'y' }));
  await provider.close();
  expect(await pending).toBeInstanceOf(SourceUnavailableError);
  expect(f.destroyed()).toBe(1);
  await expect(provider.getSecret({ path: 'z' })).rejects.toThrow(/closed/);
});

describe('shared reads (notBefore)', () => {
  test('a secret read since notBefore is not put into another batch; the others are, 20 a call', async () => {
    const f = fakeApi();
    const { clock, calls, provider } = setup(f.api);
    const tick = clock.now();
    const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `s${from + i}`);
    const first = Promise.all(ids(0, 20).map((path) => provider.getSecret({ path, property: 'v' }, { notBefore: tick })));
    await clock.advance(100);
    await first;
    await clock.advance(5_000);
    // Later syncs due at the same tick: 20 already read, 25 not yet.
    const later = Promise.all(ids(0, 45).map((path) => provider.getSecretMap({ path }, { notBefore: tick })));
    await clock.advance(1_000);
    const got = await later;
    expect(got[3]?.values.v?.toString()).toBe('s3');
    expect(f.batches.map((b) => b.length)).toEqual([20, 20, 5]);
    expect(f.batches[1]).toEqual(ids(20, 40));
    expect(calls).toHaveLength(3);
    await provider.close();
  });

  test('a notBefore after a read was sent reads again; a read still in the open batch is joined', async () => {
    const f = fakeApi();
    const { clock, provider } = setup(f.api);
    const a = provider.getSecret({ path: 'db' });
    await clock.advance(1);
    const b = provider.getSecret({ path: 'db' }, { notBefore: clock.now() }); // not sent yet: joins
    await clock.advance(100);
    await Promise.all([a, b]);
    expect(f.batches).toEqual([['db']]);
    const c = provider.getSecret({ path: 'db' }, { notBefore: clock.now() });
    await clock.advance(100);
    await c;
    expect(f.batches).toEqual([['db'], ['db']]);
    await provider.close();
  });

  test('pinned reads are shared by notBefore too', async () => {
    const f = fakeApi();
    const { clock, provider } = setup(f.api);
    const t = clock.now();
    await provider.getSecret({ path: 'db', version: 'AWSPREVIOUS' }, { notBefore: t });
    await clock.advance(1_000);
    await provider.getSecret({ path: 'db', version: 'AWSPREVIOUS' }, { notBefore: t });
    expect(f.singles).toHaveLength(1);
    await provider.getSecret({ path: 'db', version: 'AWSPREVIOUS' }, { notBefore: clock.now() });
    expect(f.singles).toHaveLength(2);
    await provider.close();
  });

  test('a rotation, even a failed one, drops the shared reads of its secret', async () => {
    const f = fakeApi();
    const { clock, provider } = setup(f.api);
    const t = clock.now();
    const first = provider.getSecret({ path: 'db' }, { notBefore: t });
    await clock.advance(100);
    await first;
    await failure(provider.rotate!({ path: 'db', id: 'r1', basedOn: 'ver-db', set: { v: Buffer.from('x') } }));
    const again = provider.getSecret({ path: 'db' }, { notBefore: t });
    await clock.advance(100);
    await again;
    expect(f.batches).toEqual([['db'], ['db']]);
    await provider.close();
  });

  test('a failed read is not shared with a later caller', async () => {
    let fail = true;
    const f = fakeApi({ missing: () => fail });
    const { clock, provider } = setup(f.api);
    const t = clock.now();
    const first = failure(provider.getSecret({ path: 'db' }, { notBefore: t }));
    await clock.advance(100);
    expect(await first).toBeInstanceOf(SourceNotFoundError);
    fail = false;
    const second = provider.getSecret({ path: 'db' }, { notBefore: t });
    await clock.advance(100);
    await second;
    expect(f.batches).toEqual([['db'], ['db']]);
    await provider.close();
  });
});
