// dataFrom find on AWS over a scripted SecretsApi port (moto covers the real calls in
// test/integration/operator/find.test.ts): the ListSecrets filters sent, paging, the exact
// case-sensitive name prefix and tag match made here (AWS's own name filter ignores case
// and its tag filters match any tag), and the bound on names listed.
import { FindLimitError, SourceAuthError } from '../../../../src/errors.js';
import type { SecretListPage, SecretsApi } from '../../../../src/providers/aws/client.js';
import { createAwsProviderFactory } from '../../../../src/providers/aws/index.js';
import { FakeClock } from '../../../../src/runtime/testing/fake-clock.js';
import { awsSource, keysKube } from './fixtures.js';

const notScripted = () => Promise.reject(new Error('not scripted'));

function setup(pages: SecretListPage[], fail?: Error) {
  const sent: { filters: unknown; nextToken?: string }[] = [];
  const api: SecretsApi = {
    batchGetSecretValue: notScripted,
    getSecretValue: notScripted,
    describeSecret: notScripted,
    putSecretValue: notScripted,
    updateSecretVersionStage: notScripted,
    async listSecrets(filters, nextToken) {
      sent.push({ filters, nextToken });
      if (fail) throw fail;
      return pages[Number(nextToken ?? 0)] ?? { secrets: [] };
    },
    destroy: () => undefined,
  };
  const calls: string[] = [];
  const provider = createAwsProviderFactory({ clock: new FakeClock(0), random: () => 0.5, wrapSecretsApi: () => api }).create(awsSource, {
    kube: keysKube(),
    secretNamespace: 'apps',
    onCall: (op, r) => calls.push(`${op}:${r}`),
  });
  return { provider, sent, calls };
}

const s = (name: string, tags: Record<string, string> = {}) => ({ name, tags });

test('name prefix and tags go to AWS as filters; the exact match is made here, over every page', async () => {
  const { provider, sent, calls } = setup([
    { secrets: [s('team-a/db', { env: 'prod' }), s('TEAM-A/shouted', { env: 'prod' })], nextToken: '1' },
    { secrets: [s('team-a/api', { env: 'dev', x: 'prod' }), s('team-a/web', { env: 'prod' })] },
  ]);
  expect(await provider.listSecrets!({ path: 'team-a/', tags: { env: 'prod' } }, { maxListed: 100 })).toEqual(['team-a/db', 'team-a/web']);
  expect(sent).toEqual([
    {
      filters: [
        { key: 'name', values: ['team-a/'] },
        { key: 'tag-key', values: ['env'] },
        { key: 'tag-value', values: ['prod'] },
      ],
      nextToken: undefined,
    },
    { filters: expect.any(Array), nextToken: '1' },
  ]);
  expect(calls).toEqual(['ListSecrets:success', 'ListSecrets:success']);
  await provider.close();
});

test('more names than the bound stops paging with FindLimitExceeded', async () => {
  const { provider, sent } = setup([
    { secrets: [s('a/1'), s('a/2')], nextToken: '1' },
    { secrets: [s('a/3'), s('a/4')], nextToken: '2' },
    { secrets: [s('a/5')] },
  ]);
  await expect(provider.listSecrets!({ path: 'a/' }, { maxListed: 3 })).rejects.toThrow(FindLimitError);
  expect(sent).toHaveLength(2);
  await provider.close();
});

test('a denial names the permission find needs', async () => {
  const denied = Object.assign(new Error('User is not authorized to perform: secretsmanager:ListSecrets'), {
    name: 'AccessDeniedException',
    $metadata: { httpStatusCode: 400 },
  });
  const { provider } = setup([], denied);
  const err = await provider.listSecrets!({ path: 'a/' }, { maxListed: 10 }).catch((e: Error) => e);
  expect(err).toBeInstanceOf(SourceAuthError);
  expect((err as Error).message).toContain('secretsmanager:ListSecrets');
  await provider.close();
});
