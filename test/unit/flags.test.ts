// Flags of `secretsync operator` that have no feature test of their own.
import { OPERATOR_HELP, UsageError, parseOperatorFlags } from '../../src/flags.js';

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
