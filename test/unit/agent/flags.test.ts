// Flags of `secretsync agent init|watch`: defaults, --sync NAME[=SECRET], what may not be
// combined, and that --help documents every flag the parser accepts.
import { AGENT_HELP, DEFAULT_DIR, DEFAULT_VAULT_TOKEN_FILE, parseAgentFlags, parseSyncFlag } from '../../../src/agent/flags.js';
import { UsageError } from '../../../src/errors.js';

const parse = (...argv: string[]) => {
  const o = parseAgentFlags(argv);
  if (o === 'help') throw new Error('unexpected help');
  return o;
};

test('defaults: /run/secrets, the projected Vault token, 30s, the pod namespace (undefined), no overrides', () => {
  expect(parse('init', '--sync', 'db')).toEqual({
    command: 'init',
    syncs: [{ name: 'db' }],
    dir: DEFAULT_DIR,
    namespace: undefined,
    version: undefined,
    vaultTokenFile: DEFAULT_VAULT_TOKEN_FILE,
    vaultAddr: undefined,
    vaultCacert: undefined,
    awsEndpoint: undefined,
    intervalMs: 30_000,
    logLevel: 'info',
    insecureAllowHttp: false,
  });
  expect(DEFAULT_DIR).toBe('/run/secrets');
  expect(DEFAULT_VAULT_TOKEN_FILE).toBe('/var/run/secrets/secretsync.io/vault/token');
});

test('every flag', () => {
  const o = parse(
    'watch',
    '--sync', 'db=db-target',
    '--dir', '/tmp/s',
    '--namespace', 'payments',
    '--version', '7',
    '--vault-token-file', '/t',
    '--vault-addr', 'https://vault:8200',
    '--vault-cacert', '/ca.pem',
    '--aws-endpoint', 'https://kms.local',
    '--interval', '1m30s',
    '--insecure-allow-http',
    '--log-level', 'debug',
  );
  expect(o).toMatchObject({
    command: 'watch',
    syncs: [{ name: 'db', secret: 'db-target' }],
    dir: '/tmp/s',
    namespace: 'payments',
    version: 7,
    vaultTokenFile: '/t',
    vaultAddr: 'https://vault:8200',
    vaultCacert: '/ca.pem',
    awsEndpoint: 'https://kms.local',
    intervalMs: 90_000,
    logLevel: 'debug',
    insecureAllowHttp: true,
  });
});

test('--sync is repeatable; without SECRET the agent reads the target from the SecretSync', () => {
  expect(parse('init', '--sync', 'a', '--sync', 'b=other').syncs).toEqual([
    { name: 'a' },
    { name: 'b', secret: 'other' },
  ]);
  expect(parseSyncFlag('db.prod=x')).toEqual({ name: 'db.prod', secret: 'x' });
});

test.each([
  [['init'], /at least one --sync/],
  [['init', '--sync', 'a', '--sync', 'a=b'], /given twice/],
  [['init', '--sync', 'a', '--sync', 'b', '--version', '2'], /exactly one --sync/],
  [['init', '--sync', 'a', '--version', '0'], /version number/],
  [['init', '--sync', 'a', '--version', 'v2'], /version number/],
  [['init', '--sync', '../etc'], /not a Kubernetes object name/],
  [['init', '--sync', 'Db'], /not a Kubernetes object name/],
  [['init', '--sync', 'a=..'], /not a Kubernetes object name/],
  [['init', '--sync', 'a='], /not a Kubernetes object name/],
  [['init', '--sync', 'a', '--interval', '500ms'], /at least 1s/],
  [['init', '--sync', 'a', '--interval', 'soon'], /--interval/],
  [['init', '--sync', 'a', '--vault-addr', 'vault:8200'], /https:\/\//],
  [['init', '--sync', 'a', '--aws-endpoint', 'https://u:p@kms'], /credentials/],
  [['init', '--sync', 'a', '--dir', ''], /--dir must not be empty/],
  [['init', '--sync', 'a', '--namespace', 'Bad_NS'], /not a namespace name/],
  [['init', '--sync', 'a', '--namespace', 'a.b'], /not a namespace name/],
  [['init', '--sync', 'a', '--log-level', 'loud'], /--log-level/],
  [['init', '--sync', 'a', '--unknown'], /Unknown option/],
  [['init', '--sync', 'a', 'extra'], /positional/],
  [['fetch', '--sync', 'a'], /unknown command "fetch"/],
])('%p is a usage error', (argv, message) => {
  expect(() => parseAgentFlags(argv)).toThrow(UsageError);
  expect(() => parseAgentFlags(argv)).toThrow(message);
});

test.each([[[]], [['--help']], [['help']], [['init', '--help']], [['watch', '-h']]])('%p asks for help', (argv) => {
  expect(parseAgentFlags(argv)).toBe('help');
});

test('--help documents every flag the parser accepts, and the exit codes', () => {
  for (const flag of ['sync', 'dir', 'namespace', 'version', 'vault-token-file', 'vault-addr', 'vault-cacert', 'aws-endpoint', 'interval', 'insecure-allow-http', 'log-level', 'help']) {
    expect(AGENT_HELP).toContain(`--${flag}`);
  }
  // Nothing documented that the parser rejects.
  for (const m of AGENT_HELP.matchAll(/^ {2}(--[a-z-]+)/gm)) {
    const flag = m[1] as string;
    if (flag === '--help') continue;
    const args = ['init', '--sync', 'a'];
    const value = { '--sync': 'b', '--version': '1', '--interval': '5s', '--log-level': 'warn', '--namespace': 'ns', '--vault-addr': 'https://v', '--aws-endpoint': 'https://k' }[flag] ?? '/x';
    expect(() => parseAgentFlags(flag === '--insecure-allow-http' ? [...args, flag] : [...args, flag, value])).not.toThrow();
  }
  expect(AGENT_HELP).toMatch(/Exit status: 0 .* 1 .* 2 a usage error/s);
});
