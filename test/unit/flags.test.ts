// Flags of `secretsync operator` that have no feature test of their own.
import { UsageError } from '../../src/errors.js';
import { OPERATOR_HELP, parseOperatorFlags } from '../../src/flags.js';

describe('--log-format', () => {
  test('json by default, text on request', () => {
    expect(parseOperatorFlags([])).toMatchObject({ logFormat: 'json' });
    expect(parseOperatorFlags(['--log-format', 'text'])).toMatchObject({ logFormat: 'text' });
    expect(parseOperatorFlags(['--log-format=json'])).toMatchObject({ logFormat: 'json' });
  });

  test('anything else is a usage error naming both formats', () => {
    expect(() => parseOperatorFlags(['--log-format', 'pretty'])).toThrow(UsageError);
    expect(() => parseOperatorFlags(['--log-format', 'pretty'])).toThrow('--log-format must be json or text, got "pretty"');
  });

  test('is documented in --help', () => {
    expect(OPERATOR_HELP).toMatch(/^ {2}--log-format FORMAT\s+json \(default: .*\) or text/m);
  });
});

describe('--webhook-client-ca / --webhook-client-names', () => {
  const webhook = (args: string[]) => {
    const o = parseOperatorFlags(args);
    if (o === 'help') throw new Error('help');
    return o.webhook;
  };
  test('off by default; the CA file and the names when given', () => {
    expect(webhook([])).toMatchObject({ clientCaFile: undefined, clientNames: [] });
    expect(webhook(['--webhook-client-ca=/etc/ca.crt', '--webhook-client-names', 'kube-apiserver, front-proxy'])).toMatchObject({
      clientCaFile: '/etc/ca.crt',
      clientNames: ['kube-apiserver', 'front-proxy'],
    });
  });
  test('names without a CA are refused', () => {
    expect(() => parseOperatorFlags(['--webhook-client-names=x'])).toThrow(UsageError);
  });
});

describe('--watch-silence-timeout', () => {
  test('5m by default, a duration when given, at least 1s', () => {
    expect(parseOperatorFlags([])).toMatchObject({ watchSilenceMs: 300_000 });
    expect(parseOperatorFlags(['--watch-silence-timeout=75s'])).toMatchObject({ watchSilenceMs: 75_000 });
    expect(() => parseOperatorFlags(['--watch-silence-timeout=500ms'])).toThrow('--watch-silence-timeout must be a duration of at least 1s like 5m, got "500ms"');
  });

  test('is documented in --help', () => {
    expect(OPERATOR_HELP).toMatch(/^ {2}--watch-silence-timeout DURATION\n\s+a watch that delivers nothing/m);
  });
});
