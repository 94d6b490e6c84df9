// The suite's figures: one line per fault as it finishes (`fault → invariants → recovery`),
// and at the end a markdown table written to bench/results/reliability.md (and printed), for
// pasting into a note or a doc. A suite run elsewhere (the pod faults, in make test; the load,
// in load.test.ts) keeps its figures in a section of the same file (writeSection), which
// writeTable leaves in place.
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

/** The markdown table of `list`: fault, invariants, recovery, bound, notes. */
export const tableOf = (list: FaultRow[]): string[] => [
  '| fault | invariants | recovery | bound | notes |',
  '|---|---|---|---|---|',
  ...list.map((r) => `| ${r.fault} | ${r.invariants} | ${s(r.recoveryMs)} | ${s(r.boundMs)} | ${r.notes} |`),
];

/** What the table measures, written above it on every run (the figures change, this does not). */
const INTRO =
  'Produced by `make test-reliability` (`node --experimental-vm-modules node_modules/jest/bin/jest.js --selectProjects reliability --runInBand`) on a 2-core machine; ' +
  'the fault table by test/reliability/faults.test.ts, the sections below by the files named in them. ' +
  'Recovery: from the moment the fault cleared (the component healthy again, the process resumed, the new operator process started; for the killed leader, the kill; ' +
  'for the silent watch, the change made as the connections froze, which only a relist can bring) to every SecretSync Ready with the change made at the fault synced ' +
  '(status at a new version, the Secret holding it; an envelope Secret, its new version).';

export function writeTable(file = join(repoRoot, 'bench', 'results', 'reliability.md')): string {
  const lines = [
    `# make test-reliability, ${new Date().toISOString().slice(0, 16)}Z`,
    '',
    INTRO,
    '',
    ...tableOf(rows),
    '',
  ];
  const text = lines.join('\n');
  mkdirSync(join(repoRoot, 'bench', 'results'), { recursive: true });
  // Sections other files wrote (writeSection) stay.
  const prev = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const at = prev.search(/^## /m);
  writeFileSync(file, at < 0 ? text : `${text}\n${prev.slice(at)}`);
  process.stdout.write(`\n${text}\n(written to ${file})\n`);
  return text;
}

/**
 * Writes `## title` and `body` into the results file in place of a section of that title
 * (or after everything), leaving the fault table and the other sections as they are.
 */
export function writeSection(title: string, body: string, file = join(repoRoot, 'bench', 'results', 'reliability.md')): void {
  const prev = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const head = `## ${title}\n`;
  const start = prev.indexOf(head);
  const section = `${head}\n${body.trim()}\n`;
  let next: string;
  if (start < 0) next = `${prev.trimEnd()}\n\n${section}`;
  else {
    const end = prev.slice(start + head.length).search(/^## /m);
    next = `${prev.slice(0, start)}${section}${end < 0 ? '' : `\n${prev.slice(start + head.length + end)}`}`;
  }
  mkdirSync(join(repoRoot, 'bench', 'results'), { recursive: true });
  writeFileSync(file, next);
  process.stdout.write(`\n${section}(written to ${file})\n`);
}
