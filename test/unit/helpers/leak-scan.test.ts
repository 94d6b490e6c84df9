// The suite-wide leak scan can fail: the suite's canary planted in each kind of place the
// suite records, in each form, is found and reported by place and form, never by value.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canary, leakForms, suiteCanary } from '../../helpers/canary.js';
import { LEAK_DIR_ENV, recordCost, recordPlace, recordStream } from '../../helpers/leak-record.js';
import { describeFinding, scanDir, scanPlaces } from '../../helpers/leak-scan.js';

const core = suiteCanary();
const planted = canary('planted');
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'leak-scan-test-'));
  process.env[LEAK_DIR_ENV] = dir;
});
afterEach(() => {
  delete process.env[LEAK_DIR_ENV];
  rmSync(dir, { recursive: true, force: true });
});

// Every form leakForms knows, each as a place would carry it: whole (raw, escaped) or
// inside a base64 blob at each of the three alignments.
const carriers: [string, string][] = [
  ['raw', `level=debug msg=value ${planted}`],
  ['JSON-escaped', JSON.stringify({ level: 20, msg: `read ${planted}` })],
  ['JSON-escaped twice', JSON.stringify({ err: JSON.stringify({ body: planted }) })],
  ['JSON-escaped (\\u)', JSON.stringify({ v: planted }).replace('ü', '\\u00fc')],
  ['byte array', JSON.stringify({ got: { password: Buffer.from(planted) } })],
  ['hex', `digest-input=${Buffer.from(planted).toString('hex')}`],
  ...[0, 1, 2].flatMap((pad): [string, string][] => [
    [`base64${pad ? ` (+${pad})` : ''}`, Buffer.from(`${'p'.repeat(pad)}${core}!`).toString('base64')],
    [`base64url${pad ? ` (+${pad})` : ''}`, Buffer.from(`${'p'.repeat(pad)}${core}!`).toString('base64url')],
    [`base64 of JSON-escaped${pad ? ` (+${pad})` : ''}`, Buffer.from(`${'p'.repeat(pad)}${JSON.stringify(core).slice(1, -1)}}`).toString('base64')],
    [`base64url of JSON-escaped${pad ? ` (+${pad})` : ''}`, Buffer.from(`${'p'.repeat(pad)}${JSON.stringify(core).slice(1, -1)}}`).toString('base64url')],
  ]),
];

test('the carriers cover every form the scan knows', () => {
  expect(new Set(carriers.map(([f]) => f))).toEqual(new Set(leakForms(core).keys()));
});

test.each(carriers)('an operator log line, an agent output, a /metrics scrape, a cluster object and test output carrying it %s: each found, by place and form', (form, text) => {
  const op = recordStream('operator');
  op('{"level":30,"msg":"started"}\n');
  op(`${text}\n`);
  recordStream('agent')(`agent: ${text}\n`);
  recordPlace('metrics', 'port-1', `secretsync_sync_errors_total{reason="${text}"} 1\n`);
  recordPlace('cluster', 'objects', `Event ns/e1\t${JSON.stringify({ message: 'fine' })}\nSecretSync ns/s\t{"status":{"message":"${text}"}}`); // the text as the place holds it
  recordPlace('jest-output', 'file', `expect(received).toBe(expected)\n${text}`);
  const scan = scanDir(dir, core);
  expect(scan.places).toEqual({ operator: 1, agent: 1, metrics: 1, cluster: 1, 'jest-output': 1 });
  const found = new Map(scan.findings.map((f) => [f.place.split(/[\\/]/)[0], f]));
  expect([...found.keys()].sort()).toEqual(['agent', 'cluster', 'jest-output', 'metrics', 'operator']);
  expect(scan.findings.filter((f) => f.form === form).length).toBe(5);
  expect(found.get('operator')?.place).toMatch(/ line 2$/);
  expect(found.get('cluster')?.place).toMatch(/ line 2$/);
  for (const f of scan.findings) expect(describeFinding(f)).not.toContain(core);
});

test('an envelope Secret holding it (the plaintext beside the ciphertext) is found and named', () => {
  const secret = { kind: 'Secret', type: 'secretsync.io/envelope', data: { 'envelope.json': Buffer.from(JSON.stringify({ ct: 'AAAA', debug: planted })).toString('base64') } };
  const found = scanPlaces([['envelope Secret ns/db', JSON.stringify(secret)]], core);
  expect(found.map(describeFinding)[0]).toMatch(/^base64 of JSON-escaped.* in envelope Secret ns\/db$/);
});

test('nothing found where it is not (another value in a plain Secret\'s data)', () => {
  recordStream('operator')('{"msg":"reconciled","secretsync":"ns/db"}\n');
  recordCost(12); // bookkeeping, not a place
  recordPlace('cluster', 'objects', `Secret ns/db\t${JSON.stringify({ data: { password: Buffer.from('other').toString('base64') } })}`);
  expect(scanDir(dir, core)).toEqual({ places: { operator: 1, cluster: 1 }, lines: { operator: 1, cluster: 1 }, bytes: expect.any(Number), findings: [] });
});

test('without a leak directory nothing is recorded', () => {
  delete process.env[LEAK_DIR_ENV];
  recordStream('operator')('x');
  recordPlace('metrics', 'p', 'x');
  process.env[LEAK_DIR_ENV] = dir;
  expect(scanDir(dir, core).places).toEqual({});
});
