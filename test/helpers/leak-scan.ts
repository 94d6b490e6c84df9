// The suite-wide leak scan: looks for the suite's canary core (test/helpers/canary.ts) in
// every form leakForms knows, in named places (text in memory) and in every file the suite
// recorded (test/helpers/leak-record.ts). A finding names the place and the form, never
// the value.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { leakForms } from './canary.js';

export interface Finding {
  place: string;
  form: string;
}

export const describeFinding = (f: Finding) => `${f.form} in ${f.place}`;

/** The forms of `value` in `text`, each with the 1-based line of its first occurrence. */
function find(text: string, value: string): { form: string; line: number }[] {
  const out: { form: string; line: number }[] = [];
  for (const [form, s] of leakForms(value)) {
    const at = text.indexOf(s);
    if (at >= 0) out.push({ form, line: text.slice(0, at).split('\n').length });
  }
  return out;
}

/** Findings in named texts: `[place, text]` pairs. */
export function scanPlaces(places: Iterable<readonly [string, string]>, value: string): Finding[] {
  return [...places].flatMap(([place, text]) => find(text, value).map(({ form }) => ({ place, form })));
}

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('_')) continue; // the scan's own bookkeeping (leak-record.ts recordCost)
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile()) yield p;
  }
}

export interface DirScan {
  /** Recorded places (files) by kind (their folder: operator, agent, metrics, cluster...). */
  places: Record<string, number>;
  /** Lines by kind (a cluster file holds one object a line). */
  lines: Record<string, number>;
  bytes: number;
  findings: Finding[];
}

/** Scans every file under `dir` (a place each, named by its path and the line of the find). */
export function scanDir(dir: string, value: string): DirScan {
  const scan: DirScan = { places: {}, lines: {}, bytes: 0, findings: [] };
  for (const file of files(dir)) {
    const name = relative(dir, file);
    const kind = name.split(/[\\/]/)[0] ?? name;
    scan.places[kind] = (scan.places[kind] ?? 0) + 1;
    scan.bytes += statSync(file).size;
    const text = readFileSync(file, 'utf8');
    scan.lines[kind] = (scan.lines[kind] ?? 0) + text.split('\n').filter(Boolean).length;
    scan.findings.push(...find(text, value).map(({ form, line }) => ({ place: `${name} line ${line}`, form })));
  }
  return scan;
}
