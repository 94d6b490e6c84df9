// The suite-wide leak scan: looks for the suite's canary core (test/helpers/canary.ts) in
// every form leakForms knows, in named places (text in memory), in every file the suite
// recorded (test/helpers/leak-record.ts), and in what the stack's own components logged
// during the run (the logs under .testenv/logs/). A finding names the place and the form,
// never the value.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { leakForms } from './canary.js';
import { REGISTERED_VALUES_FILE } from './leak-record.js';

export interface Finding {
  place: string;
  form: string;
}

export const describeFinding = (f: Finding) => `${f.form} in ${f.place}`;

/**
 * What to look for: the suite's canary core, or it and values the suite registered
 * (leak-record.ts registerValue: values a test could not make with canary(), such as the
 * ones the operator generates when it rotates). A finding of a registered value says so
 * ("raw (registered value 2)"), never the value.
 */
export type Wanted = string | readonly string[];

/** The forms of each wanted value in `text`, each with the 1-based line of its first occurrence. */
function find(text: string, wanted: Wanted): { form: string; line: number }[] {
  const out: { form: string; line: number }[] = [];
  const values = typeof wanted === 'string' ? [wanted] : wanted;
  values.forEach((value, i) => {
    for (const [form, s] of leakForms(value)) {
      const at = text.indexOf(s);
      if (at >= 0) out.push({ form: i === 0 ? form : `${form} (registered value ${i})`, line: text.slice(0, at).split('\n').length });
    }
  });
  return out;
}

/** The values registered under `dir` (leak-record.ts registerValue), in order. */
export function registeredValues(dir: string): string[] {
  const file = join(dir, REGISTERED_VALUES_FILE);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as string);
}

/** Findings in named texts: `[place, text]` pairs. */
export function scanPlaces(places: Iterable<readonly [string, string]>, value: Wanted): Finding[] {
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

/**
 * The JSON Patch of each AdmissionReview answer of a webhook record (one JSON line each,
 * test/helpers/leak-record.ts recordFile), decoded from its base64: `[line, patch]`. The
 * raw answer is scanned too; decoding finds what base64 inside base64 would hide (a value
 * the patch carried base64-encoded, say in an annotation).
 */
export function decodedPatches(text: string): [number, string][] {
  const out: [number, string][] = [];
  text.split('\n').forEach((l, i) => {
    if (!l) return;
    let patch: unknown;
    try {
      patch = (JSON.parse(l) as { response?: { patch?: unknown } }).response?.patch;
    } catch {
      return; // a line cut short: the raw scan still covers it
    }
    if (typeof patch === 'string') out.push([i + 1, Buffer.from(patch, 'base64').toString('utf8')]);
  });
  return out;
}

/** Scans every file under `dir` (a place each, named by its path and the line of the find). */
export function scanDir(dir: string, value: Wanted): DirScan {
  const scan: DirScan = { places: {}, lines: {}, bytes: 0, findings: [] };
  for (const file of files(dir)) {
    const name = relative(dir, file);
    const kind = name.split(/[\\/]/)[0] ?? name;
    scan.places[kind] = (scan.places[kind] ?? 0) + 1;
    scan.bytes += statSync(file).size;
    const text = readFileSync(file, 'utf8');
    scan.lines[kind] = (scan.lines[kind] ?? 0) + text.split('\n').filter(Boolean).length;
    scan.findings.push(...find(text, value).map(({ form, line }) => ({ place: `${name} line ${line}`, form })));
    if (kind === 'admission') {
      for (const [line, patch] of decodedPatches(text)) {
        scan.findings.push(...find(patch, value).map(({ form }) => ({ place: `${name} line ${line} (its JSON Patch, decoded)`, form })));
      }
    }
  }
  return scan;
}

/**
 * The stack's log files (etcd, kube-apiserver, kube-controller-manager, OpenBao, moto, and
 * with the node containerd, kubelet, kube-proxy, kube-scheduler: everything under
 * `<state dir>/logs`) and how long each was when the run began: only what they wrote after
 * is the run's (a reused stack's logs go back further). Kept by the integration global
 * setup in the leak directory as STACK_LOGS_FILE.
 */
export interface StackLogs {
  dir: string;
  from: Record<string, number>;
}

export const STACK_LOGS_FILE = '_stack-logs.json';

export function stackLogsNow(dir: string): StackLogs {
  const from: Record<string, number> = {};
  if (existsSync(dir)) for (const f of files(dir)) from[relative(dir, f)] = statSync(f).size;
  return { dir, from };
}

export interface StackLogScan {
  /** Bytes scanned per log file (what it wrote during the run). */
  files: Record<string, number>;
  findings: Finding[];
}

/**
 * Scans what each stack log wrote since `s.from` (all of a file that is new, or shorter
 * than it was: started again). A finding names the file and its line.
 */
export function scanStackLogs(s: StackLogs, value: Wanted): StackLogScan {
  const out: StackLogScan = { files: {}, findings: [] };
  if (!existsSync(s.dir)) return out;
  for (const file of files(s.dir)) {
    const name = relative(s.dir, file);
    const buf = readFileSync(file);
    const from = (s.from[name] ?? 0) <= buf.length ? (s.from[name] ?? 0) : 0;
    out.files[name] = buf.length - from;
    const linesBefore = buf.subarray(0, from).toString('utf8').split('\n').length - 1;
    const text = buf.subarray(from).toString('utf8');
    out.findings.push(...find(text, value).map(({ form, line }) => ({ place: `stack log ${name} line ${linesBefore + line}`, form })));
  }
  return out;
}
