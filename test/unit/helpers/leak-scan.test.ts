// The suite-wide leak scan can fail: the suite's canary planted in each kind of place the
// suite records, in each form, is found and reported by place and form, never by value.
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canary, leakForms, suiteCanary } from '../../helpers/canary.js';
import { LEAK_DIR_ENV, recordCost, recordFile, recordPlace, recordStream, registerValue } from '../../helpers/leak-record.js';
import { decodedPatches, describeFinding, registeredValues, scanDir, scanPlaces, scanStackLogs, stackLogsNow } from '../../helpers/leak-scan.js';

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

/** An AdmissionReview answer as the webhook sends it: the JSON Patch base64-encoded. */
const answer = (patch: unknown[]) =>
  JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'u', allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') } });

test('webhook answers: the raw answer and its decoded JSON Patch are both scanned (base64 inside the base64 patch found only decoded)', () => {
  const file = recordFile('admission', 'webhook-1');
  expect(file).toBeDefined();
  appendFileSync(file as string, `${answer([{ op: 'add', path: '/metadata/labels/a', value: 'b' }])}\n`);
  appendFileSync(file as string, `${answer([{ op: 'add', path: '/spec/containers/0/env/-', value: { name: 'P', value: planted } }])}\n`);
  appendFileSync(file as string, `${answer([{ op: 'add', path: '/metadata/annotations/x', value: Buffer.from(planted).toString('base64') }])}\n`);
  expect(decodedPatches('{"response":{"allowed":true}}\nnot json\n').length).toBe(0);
  const scan = scanDir(dir, core);
  expect(scan.places).toEqual({ admission: 1 });
  const places = scan.findings.map((f) => f.place.replace(/^admission\/\S+ /, ''));
  // Line 2: in the raw answer (the patch's base64 of the JSON-escaped value) and decoded.
  expect(places.filter((p) => p === 'line 2').length).toBeGreaterThan(0);
  expect(scan.findings.some((f) => f.place.endsWith('line 2 (its JSON Patch, decoded)') && f.form === 'JSON-escaped')).toBe(true);
  // Line 3: base64 in the patch, base64 again in the answer: only the decoded patch shows it.
  expect(new Set(places.filter((p) => p.startsWith('line 3')))).toEqual(new Set(['line 3 (its JSON Patch, decoded)']));
  expect(places).not.toContain('line 1');
  expect(places).not.toContain('line 1 (its JSON Patch, decoded)');
  for (const f of scan.findings) expect(describeFinding(f)).not.toContain(core);
});

test('stack logs: only what each wrote since the run began is scanned, a find named by file and line', () => {
  const logs = join(dir, 'logs');
  mkdirSync(join(logs, 'node'), { recursive: true });
  writeFileSync(join(logs, 'kube-apiserver.log'), `I1 started\nan earlier run's ${planted}\n`);
  writeFileSync(join(logs, 'openbao.log'), 'core: unsealed\n');
  const at = stackLogsNow(logs);
  expect(scanStackLogs(at, core)).toEqual({ files: { 'kube-apiserver.log': 0, 'openbao.log': 0 }, findings: [] });
  appendFileSync(join(logs, 'kube-apiserver.log'), 'I2 GET /readyz\n');
  appendFileSync(join(logs, 'openbao.log'), `request ${JSON.stringify({ v: planted })}\n`);
  writeFileSync(join(logs, 'node', 'kubelet.log'), `x\ny\n${planted}\n`); // new since: scanned whole
  const scan = scanStackLogs(at, core);
  expect(Object.keys(scan.files).sort()).toEqual(['kube-apiserver.log', 'node/kubelet.log', 'openbao.log']);
  expect(scan.files['kube-apiserver.log']).toBe('I2 GET /readyz\n'.length);
  expect(scan.findings.map(describeFinding).sort()).toEqual(['JSON-escaped in stack log openbao.log line 2', 'raw in stack log node/kubelet.log line 3']);
  // A log shorter than it was (its component started again) is scanned whole.
  writeFileSync(join(logs, 'kube-apiserver.log'), `${planted}\n`);
  expect(scanStackLogs(at, core).findings.map(describeFinding)).toContain('raw in stack log kube-apiserver.log line 1');
});

test('registered values (a rotation\'s generated password, a needed literal) are looked for too, named by number, never by value', () => {
  const generated = 'c0ffee1234567890';
  registerValue(generated);
  registerValue('known-answer-literal');
  expect(() => registerValue('short')).toThrow(/under 6 bytes/);
  expect(registeredValues(dir)).toEqual([generated, 'known-answer-literal']);
  recordStream('operator')(`{"msg":"rotated","password":"${generated}"}\n`);
  recordPlace('metrics', 'port-1', `x{v="${Buffer.from('known-answer-literal').toString('base64')}"} 1\n`);
  const scan = scanDir(dir, [core, ...registeredValues(dir)]);
  expect(scan.places).toEqual({ operator: 1, metrics: 1 }); // the registration file is bookkeeping, not a place
  // A plain ASCII value has several identical forms (raw = JSON-escaped, base64 = base64url): each is listed.
  expect(scan.findings.map((f) => f.form)).toEqual(expect.arrayContaining(['raw (registered value 1)', 'base64 (registered value 2)']));
  for (const f of scan.findings) expect(f.place.startsWith(f.form.endsWith('value 1)') ? 'operator/' : 'metrics/')).toBe(true);
  for (const f of scan.findings) expect(describeFinding(f)).not.toContain(generated);
});
