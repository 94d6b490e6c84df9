// Rotation writes to the stack's real moto through the AWS provider, with static keys kept
// in a Kubernetes Secret: a new version (ClientRequestToken = the rotation id) with the set
// properties changed and the others kept byte for byte, promoted to AWSCURRENT with the old
// one AWSPREVIOUS and no AWSPENDING left; a repeat that writes nothing; a put whose
// promotion never happened (a crash) finished by the next call; `moved`; plain strings.
// Reads after a rotation pin the new VersionId, and the stage is checked apart (moto 5.2.5
// needed hack/testenv/moto-patch.py to serve un-pinned reads from AWSCURRENT as AWS does).
// That the provider forgets reads sent before the write is covered by the unit tests.
import { DescribeSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { randomUUID } from 'node:crypto';
import { InvalidValueError } from '../../../src/errors.js';
import type { RemoteMap, SecretProvider } from '../../../src/providers/provider.js';
import { awsCallLog, createSecret, putSecret } from '../../helpers/aws.js';
import { awsProviderSuite } from './aws-fixtures.js';

const { sm, failure, name, value, provider } = awsProviderSuite('rot-prov-aws');

/** Every version of the secret (deprecated ones too) and its labels, sorted. */
async function stages(secret: string): Promise<Record<string, string[]>> {
  const out = await sm.send(new ListSecretVersionIdsCommand({ SecretId: secret, IncludeDeprecated: true }));
  return Object.fromEntries((out.Versions ?? []).map((v) => [v.VersionId ?? '', [...(v.VersionStages ?? [])].sort()]));
}

/** Whether `got` is exactly `want` (a boolean, so a failure never prints a secret value). */
function same(got: Buffer | undefined, want: Buffer | string | undefined): boolean {
  return got !== undefined && want !== undefined && got.equals(typeof want === 'string' ? Buffer.from(want) : want);
}

/** The provider's read of version `id`, after checking that `id` carries AWSCURRENT (see the note at the top). */
async function current(aws: SecretProvider, path: string, id: string): Promise<RemoteMap> {
  const labelled = await sm.send(new GetSecretValueCommand({ SecretId: path, VersionStage: 'AWSCURRENT' }));
  expect(labelled.VersionId).toBe(id);
  return aws.getSecretMap({ path, version: id });
}

test('written: a new version with the set properties changed, the others byte for byte; AWSCURRENT on it, AWSPREVIOUS on the old', async () => {
  const db = name('db');
  const old = await createSecret(sm, db, { username: 'app', password: value(), port: 5432, tls: { mode: 'verify-full', ca: value() }, note: 'ünïcode ✓' });
  const log = awsCallLog();
  const aws = provider(log);
  const before = await aws.getSecretMap({ path: db });
  expect(before.version).toBe(old);

  const id = randomUUID();
  const password = value();
  expect(await aws.rotate!({ path: db, id, basedOn: old, set: { password: Buffer.from(password) } })).toEqual({ outcome: 'written', version: id });

  const after = await current(aws, db, id);
  expect(after.version).toBe(id);
  expect(same(after.values.password, password)).toBe(true);
  expect(Object.keys(after.values).sort()).toEqual(Object.keys(before.values).sort());
  for (const key of ['username', 'port', 'tls', 'note']) expect([key, same(after.values[key], before.values[key])]).toEqual([key, true]);
  expect(await stages(db)).toEqual({ [old]: ['AWSPREVIOUS'], [id]: ['AWSCURRENT'] });
  for (const op of ['describe-secret', 'get-secret-value', 'put-secret-value']) expect(log.count(op, 'success')).toBe(1);
  expect(log.count('update-secret-version-stage', 'success')).toBe(2);
});

test('called twice with the same arguments: already-written, still exactly one new version, no AWSPENDING left', async () => {
  const db = name('twice');
  const old = await createSecret(sm, db, { password: value(), user: 'app' });
  const w = { path: db, id: randomUUID(), basedOn: old, set: { password: Buffer.from(value()) } };
  expect(await provider().rotate!(w)).toEqual({ outcome: 'written', version: w.id });
  const log = awsCallLog();
  // As after a crash between the write and recording it: a fresh provider, the same call.
  expect(await provider(log).rotate!(w)).toEqual({ outcome: 'already-written', version: w.id });
  expect(log.count('put-secret-value')).toBe(0);
  expect(log.count('update-secret-version-stage')).toBe(0);
  expect(await stages(db)).toEqual({ [old]: ['AWSPREVIOUS'], [w.id]: ['AWSCURRENT'] });
});

test('put done but never promoted (a crash): the next call promotes it, writes nothing, already-written', async () => {
  const db = name('pending');
  const old = await createSecret(sm, db, { password: value() });
  const id = randomUUID();
  const planned = value();
  await sm.send(
    new PutSecretValueCommand({ SecretId: db, ClientRequestToken: id, SecretString: JSON.stringify({ password: planned }), VersionStages: ['AWSPENDING'] }),
  );
  const aws = provider();
  expect((await aws.getSecretMap({ path: db })).version).toBe(old);
  const log = awsCallLog();
  const result = await provider(log).rotate!({ path: db, id, basedOn: old, set: { password: Buffer.from(value()) } });
  expect(result).toEqual({ outcome: 'already-written', version: id });
  expect(log.count('put-secret-value')).toBe(0);
  expect(await stages(db)).toEqual({ [old]: ['AWSPREVIOUS'], [id]: ['AWSCURRENT'] });
  const now = await current(aws, db, id);
  expect(now.version).toBe(id);
  expect(same(now.values.password, planned)).toBe(true); // the value that was put, not a second one
});

test('moved: AWSCURRENT is no longer basedOn and no version of this id exists; nothing written', async () => {
  const db = name('moved');
  const old = await createSecret(sm, db, { password: value() });
  const theirs = await putSecret(sm, db, { password: value() }); // another writer
  const id = randomUUID();
  const result = await provider().rotate!({ path: db, id, basedOn: old, set: { password: Buffer.from(value()) } });
  expect(result).toEqual({ outcome: 'moved', version: theirs });
  expect(Object.keys(await stages(db))).not.toContain(id);
});

test('a plain-string secret is replaced whole; without `whole` it is an InvalidValueError naming it', async () => {
  const plain = name('plain');
  const old = await createSecret(sm, plain, value());
  const aws = provider();
  const refused = await failure(aws.rotate!({ path: plain, id: randomUUID(), basedOn: old, set: { password: Buffer.from(value()) } }));
  expect(refused).toBeInstanceOf(InvalidValueError);
  expect(refused.message).toContain(`"${plain}" is not a JSON object`);

  const id = randomUUID();
  const next = value();
  expect(await aws.rotate!({ path: plain, id, basedOn: old, set: {}, whole: Buffer.from(next) })).toEqual({ outcome: 'written', version: id });
  expect((await sm.send(new GetSecretValueCommand({ SecretId: plain, VersionStage: 'AWSCURRENT' }))).VersionId).toBe(id);
  const now = await aws.getSecret({ path: plain, version: id });
  expect(now.version).toBe(id);
  expect(same(now.value, next)).toBe(true);
  const d = await sm.send(new DescribeSecretCommand({ SecretId: plain }));
  expect(d.VersionIdsToStages).toEqual({ [old]: ['AWSPREVIOUS'], [id]: ['AWSCURRENT'] });
});
