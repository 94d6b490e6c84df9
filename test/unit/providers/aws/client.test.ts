// The Secrets Manager client against a local HTTP server answering what a misconfigured or
// hostile endpoint might: an answer that parses but is not Secrets Manager's is refused as
// MalformedAnswer (errors.ts says to check spec.aws.endpoint), never read as a secret
// without a value or passed on to crash the caller; a real answer's shape still reads.
import { createServer, type Server } from 'node:http';
import { createSecretsApi } from '../../../../src/providers/aws/client.js';

let server: Server;
let body = '';
let url = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const a = server.address();
  url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const api = () => createSecretsApi({ region: 'us-east-1', endpoint: url, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }, timeoutMs: 5000 });
const nameOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (e as Error).name);

test.each([
  ['SecretValues a string', '{"SecretValues":"not a list"}'],
  ['SecretValues nested lists (deep JSON)', `{"SecretValues":${'['.repeat(50)}${']'.repeat(50)}}`],
  ['an entry naming no secret', '{"SecretValues":[{"SecretString":"x"}]}'],
  ['Errors an object', '{"SecretValues":[],"Errors":{"a":1}}'],
])('BatchGetSecretValue: %s is a MalformedAnswer', async (_what, answer) => {
  body = answer;
  expect(await nameOf(api().batchGetSecretValue(['a']))).toBe('MalformedAnswer');
});

test.each([
  ['an empty body', ''],
  ['JSON null', 'null'],
  ['an object without ARN or Name', '{"SecretString":"x"}'],
])('GetSecretValue: %s is a MalformedAnswer', async (_what, answer) => {
  body = answer;
  expect(await nameOf(api().getSecretValue('a'))).toBe('MalformedAnswer');
});

test('real answers still read (an empty batch, errors naming their secret, a value)', async () => {
  body = '{"SecretValues":[],"Errors":[{"SecretId":"a","ErrorCode":"ResourceNotFoundException","Message":"no"}]}';
  expect(await api().batchGetSecretValue(['a'])).toEqual({ values: [], errors: [{ secretId: 'a', errorCode: 'ResourceNotFoundException', message: 'no' }] });
  body = '{"SecretValues":[{"ARN":"arn:x","Name":"a","VersionId":"v1","SecretString":"s"}]}';
  expect((await api().batchGetSecretValue(['a'])).values).toEqual([{ arn: 'arn:x', name: 'a', versionId: 'v1', secretString: 's', secretBinary: undefined }]);
  body = '{}';
  expect(await api().batchGetSecretValue(['a'])).toEqual({ values: [], errors: [] });
  body = '{"ARN":"arn:x","Name":"a","VersionId":"v1","SecretString":"s"}';
  expect((await api().getSecretValue('a')).secretString).toBe('s');
});
