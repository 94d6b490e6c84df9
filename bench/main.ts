// `npm run bench -- <name> [flags]`: the benchmarks by name (none is part of make test).
//   scale       N SecretSyncs against the floor (bench/scale.ts; make bench-scale)
//   table       the saved scale records (bench/results/) as the markdown table of docs/benchmarks.md
import { runBench } from './run.js';
import { scale, scaleTable } from './scale.js';

const benches: Record<string, (argv: string[]) => Promise<number>> = { scale, table: scaleTable };

const [name, ...rest] = process.argv.slice(2);
const bench = name ? benches[name] : undefined;
if (!bench) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [flags]\n`);
  process.exit(2);
}
runBench(() => bench(rest));
