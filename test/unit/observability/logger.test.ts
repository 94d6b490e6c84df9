import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { NAME_KEYS, SECRET_KEYS, createLogger } from '../../../src/observability/logger.js';
import { repoRoot } from '../../testenv/config.js';
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

describe('values are redacted, object names are not', () => {
  test('a value under any secret-ish key is redacted, at the top level and one level down', () => {
    const sink = new LogSink();
    const log = createLogger({ destination: sink });
    for (const key of SECRET_KEYS) {
      log.info({ [key]: CANARY }, 'top');
      log.info({ response: { [key]: CANARY } }, 'nested');
    }
    // Objects under those keys go whole, whatever they hold.
    log.info({ secret: { name: 'db', data: CANARY } }, 'an object under secret');
    log.info({ SecretString: JSON.stringify({ password: CANARY }) }, 'an AWS answer');
    sink.assertNever(CANARY);
    for (const line of sink.lines) expect(line).toContain('[redacted]');
  });

  test("an object's name under a name key stays readable: `webhook certificates written secretName=secretsync-webhook-tls`", () => {
    const sink = new LogSink();
    createLogger({ destination: sink }).info({ secretName: 'secretsync-webhook-tls', ca: true }, 'webhook certificates written');
    expect(JSON.parse(sink.lines[0] ?? '{}')).toMatchObject({ secretName: 'secretsync-webhook-tls', msg: 'webhook certificates written' });
    const text = new LogSink();
    createLogger({ destination: text, format: 'text' }).info({ secretName: 'secretsync-webhook-tls' }, 'webhook certificates written');
    expect(text.text()).toContain('secretName=secretsync-webhook-tls');
    expect(text.text()).not.toContain('[redacted]');
    for (const key of NAME_KEYS) {
      const s = new LogSink();
      createLogger({ destination: s }).info({ [key]: 'payments/db-creds', nested: { [key]: 'x' } }, 'named');
      expect(JSON.parse(s.lines[0] ?? '{}')).toMatchObject({ [key]: 'payments/db-creds', nested: { [key]: 'x' } });
    }
  });

  test('no name and no secret key overlap', () => {
    expect(NAME_KEYS.filter((k) => (SECRET_KEYS as readonly string[]).includes(k))).toEqual([]);
  });

  // The bug this guards against: `log.info({ secret: this.o.secretName })` printed
  // `secret=[redacted]`, hiding which Secret a line was about.
  test('no log call in src/ puts a name under a redacted key', () => {
    const files = readdirSync(join(repoRoot, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const call = /\blog\??\.(?:trace|debug|info|warn|error|fatal)\(\s*\{([^}]*)\}/g;
    const found: string[] = [];
    for (const f of files) {
      const text = readFileSync(join(repoRoot, 'src', f), 'utf8');
      for (const m of text.matchAll(call)) {
        for (const pair of (m[1] ?? '').split(',')) {
          const [k, v] = pair.split(':').map((x) => x.trim());
          if (k && v && (SECRET_KEYS as readonly string[]).includes(k) && /(name|Name|\.key|ref|Ref)$/.test(v)) found.push(`${f}: ${k}: ${v}`);
        }
      }
    }
    expect(found).toEqual([]);
    expect(files.length).toBeGreaterThan(50);
  });
});
