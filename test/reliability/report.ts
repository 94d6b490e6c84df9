// The suite's figures: one line per fault as it finishes (`fault → invariants → recovery`),
// and at the end a markdown table written to bench/results/reliability.md (and printed), for
// pasting into a note or a doc.
import { mkdirSync, writeFileSync } from 'node:fs';
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

export function writeTable(file = join(repoRoot, 'bench', 'results', 'reliability.md')): string {
  const lines = [
    `# make test-reliability, ${new Date().toISOString().slice(0, 16)}Z`,
    '',
    '| fault | invariants | recovery | bound | notes |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.fault} | ${r.invariants} | ${s(r.recoveryMs)} | ${s(r.boundMs)} | ${r.notes} |`),
    '',
  ];
  const text = lines.join('\n');
  mkdirSync(join(repoRoot, 'bench', 'results'), { recursive: true });
  writeFileSync(file, text);
  process.stdout.write(`\n${text}\n(written to ${file})\n`);
  return text;
}
