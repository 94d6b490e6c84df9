// The bad-input corpus (test/fixtures/bad/, issue 21 item 2): one YAML file per hostile or
// malformed input, a few comment lines first saying what it tries and what must happen:
//
//   # tries: <what the input attempts>
//   # expect: refused | Ready=False <Reason> | <Condition>=False <Reason> (e.g. Rotated)
//   # message: <text the API server's refusal or the condition's message must contain>
//   # check: <Kind>/<name>   (optional: which object's Ready to check; default the last one)
//
// Documents may hold placeholders filled in per run: ${ID} (unique per run, for remote
// paths and cluster-scoped names), ${NS}, ${OTHER_NS}, addresses such as ${VAULT_ADDR},
// ${HOSTILE} (startHostileVault) and ${HOSTILE_AWS} (startHostileAws: `<url>/<mode>`), and
// ${REPEAT:<n>:<c>} (the character c, n times: sizes at and over a limit without a
// megabyte in the repository). They are filled in after parsing, so a value (a PEM) needs
// no YAML quoting.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../testenv/config.js';

export const CORPUS_DIR = join(repoRoot, 'test', 'fixtures', 'bad');

export type Expectation = { kind: 'refused' } | { kind: 'condition-false'; condition: string; reason: string };

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export interface CorpusEntry {
  file: string;
  tries: string;
  expect: Expectation;
  message: string;
  /** Which object the expectation is about: index into docs. */
  check: number;
  docs: KubeObject[];
}

function header(text: string, field: string, file: string): string {
  const m = new RegExp(`^# ${field}: (.*)$`, 'm').exec(text);
  if (!m?.[1]?.trim()) throw new Error(`${file}: no "# ${field}:" line`);
  return m[1].trim();
}

function parseExpect(text: string, file: string): Expectation {
  if (text === 'refused') return { kind: 'refused' };
  const m = /^([A-Z][A-Za-z]+)=False ([A-Z][A-Za-z]+)$/.exec(text);
  if (m?.[1] && m[2]) return { kind: 'condition-false', condition: m[1], reason: m[2] };
  throw new Error(`${file}: "# expect: ${text}" is neither "refused" nor "<Condition>=False <Reason>"`);
}

export function parseEntry(file: string, text: string): CorpusEntry {
  const docs = parseAllDocuments(text).map((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]?.message}`);
    return d.toJS() as KubeObject;
  }).filter((d) => d !== null);
  if (docs.length === 0) throw new Error(`${file}: no object`);
  const checkText = /^# check: (.*)$/m.exec(text)?.[1]?.trim();
  const check = checkText === undefined ? docs.length - 1 : docs.findIndex((d) => `${d.kind}/${d.metadata?.name}` === checkText);
  if (check < 0) throw new Error(`${file}: "# check: ${checkText}" names no object of the file`);
  return {
    file,
    tries: header(text, 'tries', file),
    expect: parseExpect(header(text, 'expect', file), file),
    message: header(text, 'message', file),
    check,
    docs,
  };
}

export function loadCorpus(dir = CORPUS_DIR): CorpusEntry[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => parseEntry(f, readFileSync(join(dir, f), 'utf8')));
}

/** `text` with its placeholders filled in; an unknown placeholder is an error, not left in. */
export function fill(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{([A-Z_]+)(?::([0-9]+):(.))?\}/g, (whole, name: string, n?: string, c?: string) => {
    if (name === 'REPEAT' && n !== undefined && c !== undefined) return c.repeat(Number(n));
    const v = vars[name];
    if (v === undefined) throw new Error(`no value for placeholder ${whole}`);
    return v;
  });
}

/** A deep copy of `value` with every string (keys too) filled in. */
export function instantiate<T>(value: T, vars: Readonly<Record<string, string>>): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return fill(v, vars);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [fill(k, vars), walk(x)]));
    return v;
  };
  return walk(value) as T;
}
