// Reading from the stack's real moto through the AWS provider, with static keys kept in a
// Kubernetes Secret: SecretString whole and by (dotted) property, SecretBinary, pinned
// VersionIds and stages (AWSPREVIOUS, a custom stage moved with UpdateSecretVersionStage),
// reads by ARN, and the errors for values that cannot be used as asked.
import { DeleteSecretCommand, DescribeSecretCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { randomUUID } from 'node:crypto';
import { InvalidSpecError, InvalidValueError, KeyNotFoundError, SourceAuthError, SourceNotFoundError } from '../../../src/errors.js';
import { awsCallLog, awsOverHttp, awsSource, createSecret, keysRef, putSecret } from '../../helpers/aws.js';
import { awsProviderSuite } from './aws-fixtures.js';
import { deps } from './vault-fixtures.js';

const { sm, failure, name, value, provider, own, namespace: ns } = awsProviderSuite('aws-read');

describe('SecretString', () => {
  let db: string;
  let json: { password: string; tls: { mode: string; ca: string }; 'tls.mode': string; port: number };
  let versionId: string;

  beforeAll(async () => {
    db = name('db');
    json = { password: value(), tls: { mode: 'verify-full', ca: value() }, 'tls.mode': 'literal-key-wins', port: 5432 };
    versionId = await createSecret(sm, db, json);
  });

  test('without property the string comes back as stored, with its VersionId', async () => {
    const text = `  ${JSON.stringify(json)}\n`; // not re-encoded: whitespace kept
    const raw = name('raw');
    const v = await createSecret(sm, raw, text);
    const got = await provider().getSecret({ path: raw });
    expect(got.value.toString('utf8')).toBe(text);
    expect(got.version).toBe(v);
  });

  test('properties: strings as UTF-8, others as JSON, dotted paths into nested JSON, a literal key first', async () => {
    const p = provider();
    expect((await p.getSecret({ path: db, property: 'password' })).value.toString()).toBe(json.password);
    expect((await p.getSecret({ path: db, property: 'port' })).value.toString()).toBe('5432');
    expect((await p.getSecret({ path: db, property: 'tls.ca' })).value.toString()).toBe(json.tls.ca);
    expect((await p.getSecret({ path: db, property: 'tls.mode' })).value.toString()).toBe('literal-key-wins');
    expect(JSON.parse((await p.getSecret({ path: db, property: 'tls' })).value.toString())).toEqual(json.tls);
    expect((await p.getSecret({ path: db, property: 'password' })).version).toBe(versionId);
  });

  test('dataFrom takes every top-level property', async () => {
    const map = await provider().getSecretMap({ path: db });
    expect(Object.keys(map.values).sort()).toEqual(['password', 'port', 'tls', 'tls.mode']);
    expect(map.values.password?.toString()).toBe(json.password);
    expect(map.version).toBe(versionId);
  });

  test('a secret can be read by its ARN', async () => {
    const { ARN } = await sm.send(new DescribeSecretCommand({ SecretId: db }));
    const got = await provider().getSecret({ path: ARN ?? '', property: 'password' });
    expect(got.value.toString()).toBe(json.password);
  });

  test('a missing property is KeyNotFound; a property of a non-JSON value is InvalidValue naming path and property', async () => {
    const p = provider();
    expect(await failure(p.getSecret({ path: db, property: 'tls.nope' }))).toBeInstanceOf(KeyNotFoundError);
    const plain = name('plain');
    await createSecret(sm, plain, value());
    const err = await failure(p.getSecret({ path: plain, property: 'password' }));
    expect(err).toBeInstanceOf(InvalidValueError);
    expect(err.message).toContain(plain);
    expect(err.message).toContain('"password"');
    expect((err as InvalidValueError).reason).toBe('InvalidValue');
    expect(await failure(p.getSecretMap({ path: plain }))).toBeInstanceOf(InvalidValueError);
    const list = name('list');
    await createSecret(sm, list, JSON.stringify([value()]));
    expect(await failure(p.getSecretMap({ path: list }))).toBeInstanceOf(InvalidValueError);
  });
});

describe('SecretBinary', () => {
  test('comes back as its bytes; a property of it is InvalidValue', async () => {
    const bin = name('bin');
    const bytes = new Uint8Array([0, 1, 2, 0xfe, 0xff]);
    const v = await createSecret(sm, bin, bytes);
    const p = provider();
    const got = await p.getSecret({ path: bin });
    expect([...got.value]).toEqual([...bytes]);
    expect(got.version).toBe(v);
    expect(await failure(p.getSecret({ path: bin, property: 'x' }))).toBeInstanceOf(InvalidValueError);
    expect(await failure(p.getSecretMap({ path: bin }))).toBeInstanceOf(InvalidValueError);
  });
});

describe('versions and stages', () => {
  let rotating: string;
  let v1: string;
  let v2: string;
  let v3: string;
  const vals: string[] = [];

  beforeAll(async () => {
    rotating = name('rotating');
    vals.push(value(), value(), value());
    v1 = await createSecret(sm, rotating, { key: vals[0] });
    v2 = await putSecret(sm, rotating, { key: vals[1] });
    v3 = await putSecret(sm, rotating, { key: vals[2] });
    // A custom stage on the first version.
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: rotating, VersionStage: 'blue', MoveToVersionId: v1 }));
  });

  test('unpinned and AWSCURRENT read the current version (batched)', async () => {
    const log = awsCallLog();
    const p = provider(log);
    const [a, b] = await Promise.all([p.getSecret({ path: rotating, property: 'key' }), p.getSecret({ path: rotating, property: 'key', version: 'AWSCURRENT' })]);
    expect([a.value.toString(), a.version]).toEqual([vals[2], v3]);
    expect(b.version).toBe(v3);
    expect(log.count('BatchGetSecretValue')).toBe(1);
    expect(log.count('GetSecretValue')).toBe(0);
  });

  test('AWSPREVIOUS, a custom stage and a VersionId read those versions with GetSecretValue', async () => {
    const log = awsCallLog();
    const p = provider(log);
    const prev = await p.getSecret({ path: rotating, property: 'key', version: 'AWSPREVIOUS' });
    expect([prev.value.toString(), prev.version]).toEqual([vals[1], v2]);
    const blue = await p.getSecretMap({ path: rotating, version: 'blue' });
    expect([blue.values.key?.toString(), blue.version]).toEqual([vals[0], v1]);
    const byId = await p.getSecret({ path: rotating, property: 'key', version: v2 });
    expect([byId.value.toString(), byId.version]).toEqual([vals[1], v2]);
    expect(log.count('GetSecretValue', 'success')).toBe(3);
    expect(log.count('BatchGetSecretValue')).toBe(0);
  });

  test('an unknown stage or VersionId is SourceNotFound naming it', async () => {
    const p = provider();
    const stage = await failure(p.getSecret({ path: rotating, version: 'green' }));
    expect(stage).toBeInstanceOf(SourceNotFoundError);
    expect(stage.message).toContain('"green"');
    const id = randomUUID();
    expect(await failure(p.getSecret({ path: rotating, version: id }))).toBeInstanceOf(SourceNotFoundError);
  });
});

describe('not found and spec errors', () => {
  test('a missing secret is SourceNotFound; a secret scheduled for deletion too', async () => {
    const p = provider();
    const absent = name('absent');
    const err = await failure(p.getSecret({ path: absent }));
    expect(err).toBeInstanceOf(SourceNotFoundError);
    expect(err.message).toContain(absent);
    const doomed = name('doomed');
    await createSecret(sm, doomed, { k: value() });
    await sm.send(new DeleteSecretCommand({ SecretId: doomed, RecoveryWindowInDays: 7 }));
    expect(await failure(p.getSecret({ path: doomed, property: 'k' }))).toBeInstanceOf(SourceNotFoundError);
    expect(await failure(p.getSecret({ path: doomed, property: 'k', version: 'AWSPREVIOUS' }))).toBeInstanceOf(SourceNotFoundError);
  });

  test('an unusable path or version is InvalidSpec, before any call', async () => {
    const log = awsCallLog();
    const p = provider(log);
    expect(await failure(p.getSecret({ path: 'a\u0000b' }))).toBeInstanceOf(InvalidSpecError);
    expect(await failure(p.getSecret({ path: 'x', version: 'two words' }))).toBeInstanceOf(InvalidSpecError);
    expect(log.count('BatchGetSecretValue') + log.count('GetSecretValue')).toBe(0);
  });

  test('a missing key Secret is SourceAuthFailed naming it', async () => {
    const p = own(awsOverHttp.create(awsSource(ns(), { auth: keysRef('no-such-secret') }), deps(ns())));
    const err = await failure(p.getSecret({ path: name('absent-too') }));
    expect(err).toBeInstanceOf(SourceAuthError);
    expect(err.message).toContain('no-such-secret');
  });
});
