#!/usr/bin/env node
// `secretsync <command>`: the entrypoint of the npm package and the container image.
import { AGENT_HELP, parseAgentFlags } from './agent/index.js';
import { renderCrds } from './api/crds.js';
import { UsageError } from './errors.js';
import { OPERATOR_HELP, parseOperatorFlags } from './flags.js';
import { readVersion } from './version.js';

const HELP = `Usage: secretsync <command> [flags]

Commands:
  operator   run the controller (see: secretsync operator --help)
  agent      deliver SecretSyncs into a pod as files: agent init | agent watch (see: secretsync agent --help)
  crds       print the CustomResourceDefinitions (kubectl apply -f - to install them)
  version    print the version (also: secretsync --version)
  help       show this help
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'operator': {
      const opts = parseOperatorFlags(rest);
      if (opts === 'help') {
        process.stdout.write(OPERATOR_HELP);
        return 0;
      }
      const { runOperator } = await import('./main.js');
      return runOperator(opts);
    }
    case 'agent': {
      const opts = parseAgentFlags(rest);
      if (opts === 'help') {
        process.stdout.write(AGENT_HELP);
        return 0;
      }
      const { runAgent } = await import('./agent/run.js');
      return runAgent(opts);
    }
    case 'crds':
      process.stdout.write(renderCrds().map((c) => c.yaml).join('---\n'));
      return 0;
    case 'version':
    case '--version':
      process.stdout.write(`secretsync ${readVersion()}\n`);
      return 0;
    case undefined:
    case 'help':
    case '-h':
    case '--help':
      process.stdout.write(HELP);
      return 0;
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      // The help of the command whose flags were wrong, so the fix is on the same screen.
      const cmd = process.argv[2];
      const help = cmd === 'agent' ? AGENT_HELP : cmd === 'operator' ? OPERATOR_HELP : HELP;
      process.stderr.write(`secretsync: ${err.message}\n\n${help}`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`secretsync: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
