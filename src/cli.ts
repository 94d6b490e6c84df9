#!/usr/bin/env node
// `secretsync <command>`: the entrypoint of the npm package and the container image.
import { AGENT_HELP, parseAgentFlags } from './agent/index.js';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { renderCrds } from './api/crds.js';
import { convertTexts } from './convert/index.js';
import { UsageError } from './errors.js';
import { OPERATOR_HELP, parseOperatorFlags } from './flags.js';
import { readVersion } from './version.js';

const HELP = `Usage: secretsync <command> [flags]

Commands:
  operator   run the controller (see: secretsync operator --help)
  agent      deliver SecretSyncs into a pod as files: agent init | agent watch (see: secretsync agent --help)
  convert    convert External Secrets Operator YAML to ours: convert [FILE|DIR|-] (see README.md, "From External Secrets Operator")
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
    case 'convert':
      return convert(rest);
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

/** The *.yaml / *.yml files under a directory, recursively, in a stable order. */
function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? yamlFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : []));
}

/** `secretsync convert [FILE|DIR|-]`: ours on stdout, a line per field not carried over on stderr; 1 when nothing converted. */
function convert(args: string[]): number {
  if (args.length > 1) throw new UsageError('convert takes one FILE, DIR or - (stdin)');
  const arg = args[0] ?? '-';
  const files =
    arg === '-'
      ? [{ source: '-', text: readFileSync(0, 'utf8') }]
      : (statSync(arg).isDirectory() ? yamlFiles(arg) : [arg]).map((f) => ({ source: f, text: readFileSync(f, 'utf8') }));
  const out = convertTexts(files);
  process.stdout.write(out.yaml);
  for (const line of out.lines) process.stderr.write(`${line}\n`);
  process.stderr.write(`secretsync convert: ${out.converted} object(s) converted, ${out.lines.length} line(s) above\n`);
  return out.converted > 0 ? 0 : 1;
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
