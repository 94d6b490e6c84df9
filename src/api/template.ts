// spec.target.template: the target's keys built from the synced values (docs/templates.md).
// A small evaluator over a grammar with no logic and no property access, shared by the
// operator (plain mode, and the content HMAC in envelope mode) and the agent (envelope
// mode renders inside the pod):
//
//   template := ( text | "{{" expr "}}" )*   in a run of braces, the last two open the expression
//   expr     := term ( "~" term )* ( "|" filter )*
//   term     := KEY | STRING            KEY: [-._a-zA-Z0-9]+, a synced key; STRING: a JSON string literal
//   filter   := b64enc | b64dec | json | yaml | trim | upper | lower
//
// Sandboxed by construction: a KEY is looked up in a Map of the synced keys (never a
// JavaScript property, so constructor, __proto__ and friends are unknown keys), filters
// are a fixed table, there are no loops, includes or calls out; every intermediate result
// and the whole output are bounded. Errors name the template key, line and column, never
// a value.
import { TemplateError } from '../errors.js';

export interface TargetTemplate {
  /** Target key → template text. */
  data: Record<string, string>;
}

type Filter = (v: Buffer) => Buffer;

const utf8 = new TextDecoder('utf-8', { fatal: true });
function text(v: Buffer): string {
  try {
    return utf8.decode(v);
  } catch {
    throw new FilterFailure('its input is not UTF-8 text (b64enc it instead)');
  }
}
const str = (s: string) => Buffer.from(s, 'utf8');

class FilterFailure extends Error {}

/** YAML 1.2 double-quoted scalar: JSON's escapes, plus the characters YAML does not allow unescaped. */
function yamlQuote(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\u009f\u2028\u2029\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function b64dec(v: Buffer): Buffer {
  const s = text(v).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(s) || s.replace(/=+$/, '').length % 4 === 1) {
    throw new FilterFailure('its input is not base64');
  }
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** The filters, by name: each takes and returns bytes. */
export const FILTERS: ReadonlyMap<string, Filter> = new Map<string, Filter>([
  ['b64enc', (v) => str(v.toString('base64'))],
  ['b64dec', b64dec],
  ['json', (v) => str(JSON.stringify(text(v)))],
  ['yaml', (v) => str(yamlQuote(text(v)))],
  ['trim', (v) => str(text(v).trim())],
  ['upper', (v) => str(text(v).toUpperCase())],
  ['lower', (v) => str(text(v).toLowerCase())],
]);

/** Longest template text per key, in characters (the CRD says the same). */
export const MAX_TEMPLATE_CHARS = 65_536;
/** Most keys one template builds (the CRD says the same). */
export const MAX_TEMPLATE_KEYS = 100;

interface Pos {
  key: string;
  line: number;
  column: number;
}

function fail(p: Pos, what: string): never {
  throw new TemplateError(`spec.target.template.data["${p.key}"] line ${p.line} column ${p.column}: ${what}`);
}

/** Line and column (1-based) of offset `i` in `src`. */
function position(key: string, src: string, i: number): Pos {
  const before = src.slice(0, i);
  const line = before.split('\n').length;
  return { key, line, column: i - (before.lastIndexOf('\n') + 1) + 1 };
}

type Term = { kind: 'key'; name: string; at: number } | { kind: 'literal'; value: string; at: number };
interface Expr {
  terms: Term[];
  filters: { name: string; at: number }[];
}
type Part = { kind: 'text'; value: string; at: number } | { kind: 'expr'; expr: Expr; at: number };

const KEY = /[-._a-zA-Z0-9]+/y;
const FILTER = /[a-zA-Z0-9_]+/y;
const SPACE = /\s*/y;

/** Parses one template; TemplateError at the first thing that is not the grammar. */
export function parseTemplate(key: string, src: string): Part[] {
  const at = (i: number) => position(key, src, i);
  if (src.length > MAX_TEMPLATE_CHARS) fail(at(0), `the template is longer than ${MAX_TEMPLATE_CHARS} characters`);
  const parts: Part[] = [];
  let i = 0;
  const skip = () => {
    SPACE.lastIndex = i;
    SPACE.exec(src);
    i = SPACE.lastIndex;
  };
  const word = (re: RegExp): string | undefined => {
    re.lastIndex = i;
    const m = re.exec(src);
    if (!m) return undefined;
    i = re.lastIndex;
    return m[0];
  };
  const term = (): Term => {
    const start = i;
    if (src[i] === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"' && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      if (src[j] !== '"') fail(at(start), 'a string literal is not closed with " on its line');
      let value: unknown;
      try {
        value = JSON.parse(src.slice(i, j + 1));
      } catch {
        fail(at(start), 'a string literal is not a valid JSON string');
      }
      i = j + 1;
      return { kind: 'literal', value: value as string, at: start };
    }
    const name = word(KEY);
    if (name === undefined) fail(at(start), 'expected a key name or a "string" here');
    return { kind: 'key', name, at: start };
  };
  while (i < src.length) {
    let open = src.indexOf('{{', i);
    // In a run of braces the expression opens at the last two ({"a":{{{ k | json }}:1}}): the others are text.
    while (open >= 0 && src[open + 2] === '{') open += 1;
    if (open < 0) {
      parts.push({ kind: 'text', value: src.slice(i), at: i });
      break;
    }
    if (open > i) parts.push({ kind: 'text', value: src.slice(i, open), at: i });
    i = open + 2;
    skip();
    const terms = [term()];
    skip();
    while (src[i] === '~') {
      i += 1;
      skip();
      terms.push(term());
      skip();
    }
    const filters: Expr['filters'] = [];
    while (src[i] === '|') {
      i += 1;
      skip();
      const start = i;
      const name = word(FILTER);
      if (name === undefined) fail(at(start), 'expected a filter name after |');
      if (!FILTERS.has(name)) fail(at(start), `unknown filter "${name.slice(0, 40)}" (filters: ${[...FILTERS.keys()].join(', ')})`);
      filters.push({ name, at: start });
      skip();
    }
    if (!src.startsWith('}}', i)) {
      fail(at(i), i >= src.length ? 'the expression opened with {{ is not closed with }}' : 'expected ~, | or }} here');
    }
    parts.push({ kind: 'expr', expr: { terms, filters }, at: open });
    i += 2;
  }
  return parts;
}

/** The synced keys the templates of `t` name (TemplateError when one does not parse). */
export function referencedKeys(t: TargetTemplate): Set<string> {
  const keys = new Set<string>();
  for (const [key, src] of Object.entries(t.data)) {
    for (const p of parseTemplate(key, src)) {
      if (p.kind === 'expr') for (const term of p.expr.terms) if (term.kind === 'key') keys.add(term.name);
    }
  }
  return keys;
}

/**
 * Renders every key of `t` from `values` (the synced keys). The output is at most
 * `maxBytes` in all (keys and values, as spec.target.maxSizeBytes counts them); so is
 * every intermediate result. Throws TemplateError naming the key, line and column.
 */
export function renderTemplate(t: TargetTemplate, values: Record<string, Buffer>, maxBytes: number): Record<string, Buffer> {
  const lookup = new Map(Object.entries(values));
  const keys = Object.keys(t.data);
  if (keys.length > MAX_TEMPLATE_KEYS) throw new TemplateError(`spec.target.template.data has ${keys.length} keys; at most ${MAX_TEMPLATE_KEYS}`);
  const known = () => {
    const names = [...lookup.keys()].sort();
    return names.length === 0 ? 'none' : names.slice(0, 20).join(', ') + (names.length > 20 ? `, … (${names.length} in all)` : '');
  };
  let total = 0;
  const over = (p: Pos) => fail(p, `the rendered content is over ${maxBytes} bytes (spec.target.maxSizeBytes)`);
  const out: [string, Buffer][] = [];
  for (const key of keys) {
    const src = t.data[key] ?? '';
    const at = (i: number) => position(key, src, i);
    total += Buffer.byteLength(key);
    const chunks: Buffer[] = [];
    for (const part of parseTemplate(key, src)) {
      let v: Buffer;
      if (part.kind === 'text') {
        v = str(part.value);
      } else {
        const pieces = part.expr.terms.map((term) => {
          if (term.kind === 'literal') return str(term.value);
          const found = lookup.get(term.name);
          if (found === undefined) fail(at(term.at), `unknown key "${term.name.slice(0, 253)}" (the synced keys: ${known()})`);
          return found;
        });
        v = Buffer.concat(pieces);
        if (total + v.length > maxBytes) over(at(part.at));
        for (const f of part.expr.filters) {
          try {
            v = (FILTERS.get(f.name) as Filter)(v);
          } catch (err) {
            if (err instanceof FilterFailure) fail(at(f.at), `filter ${f.name}: ${err.message}`);
            throw err;
          }
          if (total + v.length > maxBytes) over(at(f.at));
        }
      }
      total += v.length;
      if (total > maxBytes) over(at(part.at));
      chunks.push(v);
    }
    out.push([key, Buffer.concat(chunks)]);
  }
  // Object.fromEntries defines own properties, whatever the key's name.
  return Object.fromEntries(out);
}
