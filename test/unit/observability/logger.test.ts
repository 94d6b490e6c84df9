import { createLogger } from '../../../src/observability/logger.js';
import { LogSink } from '../../helpers/log-sink.js';

const CANARY = 'canary-7f3a9c1e-do-not-log';

test('secret-bearing fields are redacted wherever they are logged', () => {
  const sink = new LogSink();
  const log = createLogger({ destination: sink, level: 'trace' });
  log.info({ token: CANARY, password: CANARY, value: CANARY, data: { k: CANARY } }, 'top level');
  log.info({ req: { token: CANARY, headers: { authorization: `Bearer ${CANARY}` } } }, 'nested');
  log.info({ auth: { client_token: CANARY }, body: { secret_id: CANARY, jwt: CANARY } }, 'vault shapes');
  expect(sink.lines).toHaveLength(3);
  sink.assertNever(CANARY);
  expect(sink.text()).toContain('[redacted]');
});

test('errors are logged by type, code and message only, never their request or response', () => {
  const sink = new LogSink();
  const log = createLogger({ destination: sink });
  const err = Object.assign(new Error('request failed with status 403'), {
    code: 'ERR_BAD_REQUEST',
    config: { headers: { 'X-Vault-Token': CANARY }, data: CANARY },
    response: { data: { data: { password: CANARY } } },
  });
  log.error({ err }, 'read failed');
  sink.assertNever(CANARY);
  const line = JSON.parse(sink.lines[0] ?? '{}') as { err: Record<string, unknown> };
  expect(line.err).toEqual({ type: 'Error', message: 'request failed with status 403', code: 'ERR_BAD_REQUEST' });
});

test('the sink itself detects a leak (the test can fail)', () => {
  const sink = new LogSink();
  createLogger({ destination: sink }).info({ note: CANARY }, 'not a redacted key');
  expect(() => sink.assertNever(CANARY)).toThrow(/canary found/);
});
