// The suite's figures: one line per fault as it finishes (`fault → invariants → recovery`),
// and at the end a markdown table written to bench/results/reliability.md (and printed), for
// pasting into a note or a doc. A suite run elsewhere (the pod faults, in make test) keeps its
// table in a marked section of the same file (writeSection), which writeTable leaves in place.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../testenv/config.js';

export interface FaultRow {
  fault: string;
  /** 'held', or what broke. */
  invariants: string;
  /** From the moment the fault cleared to every SecretSync Ready with the change made at the fault synced. */
  recoveryMs: number | undefined;
  boundMs: number;
  /** How long the fault lasted, what proved it bit. */
  notes: string;
}

export const rows: FaultRow[] = [];

const s = (ms: number | undefined) => (ms === undefined ? 'not recovered' : `${(ms / 1000).toFixed(1)} s`);

export function record(row: FaultRow): void {
  rows.push(row);
  process.stdout.write(`${row.fault} → invariants ${row.invariants} → recovery ${s(row.recoveryMs)} (bound ${s(row.boundMs)})\n`);
}

const resultsFile = join(repoRoot, 'bench', 'results', 'reliability.md');
const sectionRe = /<!-- section ([\w-]+) -->[\s\S]*?<!-- \/section \1 -->\n?/g;
const tableOf = (list: FaultRow[]) => [
  '| fault | invariants | recovery | bound | notes |',
  '|---|---|---|---|---|',
  ...list.map((r) => `| ${r.fault} | ${r.invariants} | ${s(r.recoveryMs)} | ${s(r.boundMs)} | ${r.notes} |`),
];
const sectionsIn = (file: string) => (existsSync(file) ? (readFileSync(file, 'utf8').match(sectionRe) ?? []) : []);

/** Replaces the file's section `name` (or appends it) with `heading`, `intro` and the table of `list`. */
export function writeSection(name: string, heading: string, intro: string, list: FaultRow[], file = resultsFile): string {
  const section = [`<!-- section ${name} -->`, `## ${heading}, ${new Date().toISOString().slice(0, 16)}Z`, '', intro, '', ...tableOf(list), `<!-- /section ${name} -->`, ''].join('\n');
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const others = old.replace(sectionRe, (m, n: string) => (n === name ? '' : m));
  const text = `${others.trimEnd()}\n\n${section}`;
  mkdirSync(join(repoRoot, 'bench', 'results'), { recursive: true });
  writeFileSync(file, text);
  process.stdout.write(`\n${section}(written to ${file})\n`);
  return text;
}

export function writeTable(file = resultsFile): string {
  const kept = sectionsIn(file);
  const lines = [
    `# make test-reliability, ${new Date().toISOString().slice(0, 16)}Z`,
    '',
    ...tableOf(rows),
    '',
    ...kept,
  ];
  const text = lines.join('\n');
  mkdirSync(join(repoRoot, 'bench', 'results'), { recursive: true });
  writeFileSync(file, text);
  process.stdout.write(`\n${text}\n(written to ${file})\n`);
  return text;
}
