// Batching and de-duplication against the stack's real moto, counted through onCall:
// concurrent reads of distinct secrets go out 20 to a BatchGetSecretValue call, identical
// reads in flight are one call, and one secret's failure inside a batch reaches only its
// own callers.
import { SourceNotFoundError } from '../../../src/errors.js';
import type { SecretProvider } from '../../../src/providers/provider.js';
import { awsCallLog, awsOverHttp, awsSource, createSecret, deleteSecrets, keysData, keysRef, secretsAdmin, type AwsCallLog } from '../../helpers/aws.js';
import { awsConfig, uniqueName } from '../../helpers/stack.js';
import { createNamespace, createSecret as createKubeSecret, deleteNamespace, deps } from './vault-fixtures.js';

const sm = secretsAdmin();
const prefix = uniqueName('aws-batch');
const names = Array.from({ length: 45 }, (_, i) => `${prefix}/s${String(i).padStart(2, '0')}`);
const providers: SecretProvider[] = [];
let namespace: string;

function provider(log: AwsCallLog): SecretProvider {
  const p = awsOverHttp.create(awsSource(namespace, { auth: keysRef('aws-keys') }), deps(namespace, log));
  providers.push(p);
  return p;
}

beforeAll(async () => {
  namespace = await createNamespace('aws-batch');
  await createKubeSecret(namespace, 'aws-keys', keysData(awsConfig().credentials));
  for (const [i, n] of names.entries()) await createSecret(sm, n, { index: String(i), name: n });
});

afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await deleteSecrets(sm, names);
  sm.destroy();
  await deleteNamespace(namespace);
});

test('45 concurrent reads of 45 secrets are exactly 3 BatchGetSecretValue calls', async () => {
  const log = awsCallLog();
  const p = provider(log);
  const got = await Promise.all(names.map((n) => p.getSecret({ path: n, property: 'name' })));
  expect(got.map((g) => g.value.toString())).toEqual(names);
  expect(got.every((g) => /^[0-9a-f-]{36}$/.test(g.version))).toBe(true);
  expect(log.count('BatchGetSecretValue', 'success')).toBe(3);
  expect(log.count('BatchGetSecretValue', 'error')).toBe(0);
  expect(log.count('GetSecretValue')).toBe(0);
});

test('10 concurrent identical reads (getSecret and getSecretMap alike) are 1 call', async () => {
  const log = awsCallLog();
  const p = provider(log);
  const one = names[7] ?? '';
  const got = await Promise.all([
    ...Array.from({ length: 8 }, () => p.getSecret({ path: one, property: 'index' })),
    p.getSecretMap({ path: one }),
    p.getSecret({ path: one }),
  ]);
  expect(got.slice(0, 8).map((g) => ('value' in g ? g.value.toString() : ''))).toEqual(Array(8).fill('7'));
  expect(log.count('BatchGetSecretValue')).toBe(1);
});

test("a missing secret inside a batch fails only its own readers", async () => {
  const log = awsCallLog();
  const p = provider(log);
  const missing = `${prefix}/absent`;
  const results = await Promise.allSettled([
    p.getSecret({ path: names[0] ?? '', property: 'index' }),
    p.getSecret({ path: missing }),
    p.getSecretMap({ path: names[1] ?? '' }),
    p.getSecret({ path: missing, property: 'x' }),
  ]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
  for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(SourceNotFoundError);
  expect((results[1] as PromiseRejectedResult).reason.message).toContain(missing);
  expect(log.count('BatchGetSecretValue')).toBe(1);
});

test('reads arriving while a batch is in flight form the next batch', async () => {
  const log = awsCallLog();
  const p = provider(log);
  const first = Promise.all(names.slice(0, 20).map((n) => p.getSecret({ path: n })));
  const second = Promise.all(names.slice(20, 25).map((n) => p.getSecret({ path: n })));
  await Promise.all([first, second]);
  expect(log.count('BatchGetSecretValue')).toBe(2);
});
