// `--log-format text`: the readable rendering of pino's records, and that it shows no more
// than the JSON form (redaction runs before it).
import { createLogger } from '../../../src/observability/logger.js';
import { formatLine } from '../../../src/observability/log-text.js';
import { LogSink } from '../../helpers/log-sink.js';

const CANARY = 'canary-5b1e77d0-do-not-log';

test('a record is time, level, message, then its own fields as key=value', () => {
  const line = JSON.stringify({
    level: 'info',
    time: '2026-12-02T04:12:03.456Z',
    name: 'secretsync',
    identity: 'host_1_abc',
    msg: 'synced',
    secretsync: 'demo/db-creds',
    version: 2,
    ok: true,
  });
  expect(formatLine(line)).toBe('04:12:03.456 INFO  synced secretsync=demo/db-creds version=2 ok=true');
});

test('strings with spaces, quotes or = are quoted; objects print as JSON; errors as type, message and code', () => {
  const line = JSON.stringify({
    level: 'warn',
    time: '2026-12-02T04:12:03.456Z',
    msg: 'delivery failed',
    why: 'no such key',
    empty: '',
    target: { kind: 'Deployment', name: 'web' },
    err: { type: 'VaultError', message: 'permission denied', code: 'SourceAuthFailed' },
  });
  expect(formatLine(line)).toBe(
    '04:12:03.456 WARN  delivery failed why="no such key" empty="" target={"kind":"Deployment","name":"web"} ' +
      'err="VaultError: permission denied (SourceAuthFailed)"',
  );
});

test('colour only when asked; lines that are not JSON pass through', () => {
  const line = JSON.stringify({ level: 'error', time: '2026-12-02T04:12:03.456Z', msg: 'x' });
  expect(formatLine(line, { color: true })).toBe('04:12:03.456 \x1b[31mERROR\x1b[0m x');
  expect(formatLine(line)).not.toContain('\x1b[');
  expect(formatLine('plain text\n')).toBe('plain text');
  expect(formatLine('[1,2]')).toBe('[1,2]');
});

test('the text logger writes one readable line per record, redacted as the JSON one is', () => {
  const sink = new LogSink();
  const log = createLogger({ destination: sink, format: 'text', level: 'debug' });
  log.info({ secretsync: 'demo/db-creds', token: CANARY, data: { password: CANARY } }, 'synced');
  log.debug({ req: { headers: { authorization: `Bearer ${CANARY}` } } }, 'request');
  log.error({ err: Object.assign(new Error('boom'), { config: { headers: { 'X-Vault-Token': CANARY } } }) }, 'failed');
  expect(sink.lines).toHaveLength(3);
  sink.assertNever(CANARY);
  expect(sink.lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}synced secretsync=demo\/db-creds token=\[redacted\] data=\[redacted\]$/);
  expect(sink.lines[2]).toMatch(/ERROR failed err="Error: boom"$/);
});
