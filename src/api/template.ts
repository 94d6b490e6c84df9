// spec.target.template: the target's keys built from the synced values (docs/templates.md).
// The templates are Mustache, parsed and rendered by mustache.js, shared by the operator
// (plain mode, and the content HMAC in envelope mode) and the agent (envelope mode renders
// inside the pod). What we add around the library is the sandbox and the bounds:
//
// - names are looked up in a Map of the synced keys (never a JavaScript property, so
//   {{constructor}}, {{__proto__}} or {{user.length}} are unknown keys), by their exact name
//   (dots included: {{tls.crt}} is the key "tls.crt");
// - the only sections are the filters ({{#b64enc}}…{{/b64enc}}), applied to the rendered
//   bytes of their content; inverted sections and partials are refused, so there is no
//   condition, loop or include, and nothing reads files, the environment or the network;
// - nothing is escaped: {{key}} is the value byte for byte;
// - every template is checked before anything renders, so an error names the template key,
//   line and column and never a value; the output and every intermediate result are bounded.
//
// Bytes, not text: values, templates and output travel as "binary strings" (one char per
// byte, latin1), so a binary value or a b64dec result is copied exactly.
import Mustache from 'mustache';
import { TemplateError } from '../errors.js';
import { FILTERS, FilterFailure, type Filter } from './template-filters.js';

export { FILTERS } from './template-filters.js';

const str = (s: string) => Buffer.from(s, 'utf8');
/** A binary string (one char per byte) and back. */
const toBinary = (b: Buffer) => b.toString('latin1');
const fromBinary = (s: string) => Buffer.from(s, 'latin1');


export interface TargetTemplate {
  /** Target key → template text. */
  data: Record<string, string>;
}

const FILTER_NAMES = [...FILTERS.keys()].join(', ');

/**
 * Longest template text, in characters: per key (the CRD says the same) and all keys of one
 * SecretSync together (the operator says so). mustache.js parses about 1.5 MB/s at worst, so
 * this bounds what one SecretSync can cost the operator's event loop to ~40 ms per parse.
 */
export const MAX_TEMPLATE_CHARS = 65_536;
/** Most keys one template builds (the CRD says the same). */
export const MAX_TEMPLATE_KEYS = 100;
/** Deepest nesting of filter sections. */
export const MAX_FILTER_DEPTH = 8;
/**
 * Longest run of white space. mustache.js looks for a tag's end with /\s*\}\}/, which is
 * quadratic in a run of white space inside an unclosed tag (1.6 s for 65,000 spaces); runs of
 * at most 256 keep the worst template under 10 ms.
 */
export const MAX_WHITESPACE_RUN = 256;

interface Pos {
  key: string;
  line: number;
  column: number;
}

function fail(p: Pos, what: string): never {
  throw new TemplateError(`spec.target.template.data["${p.key}"] line ${p.line} column ${p.column}: ${what}`);
}

/** Line and column (1-based, in characters) of offset `i` in the binary string `bin`. */
function position(key: string, bin: string, i: number): Pos {
  const before = fromBinary(bin.slice(0, i)).toString('utf8');
  const line = before.split('\n').length;
  return { key, line, column: before.length - (before.lastIndexOf('\n') + 1) + 1 };
}

/** A mustache.js token: [type, name or text, start, end, children, end of the section's content]. */
type Token = Mustache.TemplateSpans[number];

interface Parsed {
  /** The template as a binary string (offsets in the tokens index it). */
  bin: string;
  tokens: Mustache.TemplateSpans;
  /** Every {{key}} with its offset, in order. */
  names: { name: string; at: number }[];
}

const name = (t: Token) => fromBinary(t[1]).toString('utf8');

/** mustache.js's parse errors ("Unclosed tag at 12") in our words, at their position. */
function parseFailure(key: string, bin: string, err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  const m = /^(Unclosed tag|Unopened section "(.*)"|Unclosed section "(.*)"|Invalid tags)[^]*? at (\d+)$/.exec(message) ?? /^(Invalid tags)/.exec(message);
  const at = position(key, bin, m?.[4] === undefined ? 0 : Number(m[4]));
  const quote = (s: string | undefined) => JSON.stringify(fromBinary(s ?? '').toString('utf8').slice(0, 60));
  if (!m) fail(at, `does not parse as Mustache`);
  if (m[1] === 'Unclosed tag') fail(at, 'a tag opened with {{ is not closed with }}');
  if (m[2] !== undefined) fail(at, `{{/${quote(m[2]).slice(1, -1)}}} closes no open section`);
  if (m[3] !== undefined) fail(at, `the section ${quote(m[3])} is not closed (end it with {{/${quote(m[3]).slice(1, -1)}}})`);
  fail(at, 'set delimiters need two tags, e.g. {{=<% %>=}}');
}

/** Parses and checks one template; TemplateError at the first thing the sandbox does not allow. */
function parse(key: string, src: string): Parsed {
  if (src.length > MAX_TEMPLATE_CHARS) fail({ key, line: 1, column: 1 }, `the template is longer than ${MAX_TEMPLATE_CHARS} characters`);
  const bin = toBinary(str(src));
  const run = new RegExp(`\\s{${MAX_WHITESPACE_RUN + 1}}`).exec(bin);
  if (run) fail(position(key, bin, run.index), `more than ${MAX_WHITESPACE_RUN} white-space characters in a row`);
  const writer = new Mustache.Writer();
  // Ours below is bounded; the library's (a property its types do not declare) grows forever.
  (writer as unknown as { templateCache: undefined }).templateCache = undefined;
  let tokens: Mustache.TemplateSpans;
  try {
    tokens = writer.parse(bin) as Mustache.TemplateSpans;
  } catch (err) {
    parseFailure(key, bin, err);
  }
  const names: Parsed['names'] = [];
  const walk = (list: Mustache.TemplateSpans, depth: number) => {
    for (const t of list) {
      const at = () => position(key, bin, t[2]);
      switch (t[0]) {
        case 'text':
        case '!':
        case '=':
          break;
        case 'name':
        case '&':
          if (FILTERS.has(name(t))) fail(at(), `${name(t)} is a filter: write {{#${name(t)}}}…{{/${name(t)}}} around what it applies to`);
          names.push({ name: name(t), at: t[2] });
          break;
        case '#':
          if (!FILTERS.has(name(t))) {
            fail(at(), `sections are filters only, and ${JSON.stringify(name(t).slice(0, 60))} is none (filters: ${FILTER_NAMES}); there are no conditions or loops`);
          }
          if (depth >= MAX_FILTER_DEPTH) fail(at(), `filters nested more than ${MAX_FILTER_DEPTH} deep`);
          walk(t[4] as Mustache.TemplateSpans, depth + 1);
          break;
        case '^':
          fail(at(), 'inverted sections ({{^…}}) are conditions; templates have none');
          break;
        case '>':
          fail(at(), 'partials ({{>…}}) are not supported: a template is one text');
          break;
        default:
          fail(at(), `the tag {{${t[0]}…}} is not supported`);
      }
    }
  };
  walk(tokens, 0);
  return { bin, tokens, names };
}

// Parsed templates by their text, least recently used first, bounded in characters: a
// template is parsed once, not on every refresh of every SecretSync that uses it.
const CACHE_CHARS = 256 << 10;
const cache = new Map<string, Parsed>();
let cachedChars = 0;

/** Only templates that parse are cached, so an error is always raised anew, naming its own key. */
function parsed(key: string, src: string): Parsed {
  const hit = cache.get(src);
  if (hit) {
    cache.delete(src);
    cache.set(src, hit);
    return hit;
  }
  const p = parse(key, src);
  if (src.length <= CACHE_CHARS / 4) {
    cache.set(src, p);
    cachedChars += src.length;
    for (const [old] of cache) {
      if (cachedChars <= CACHE_CHARS) break;
      cache.delete(old);
      cachedChars -= old.length;
    }
  }
  return p;
}

/** Checks one template (TemplateError naming key, line and column when it is not ours). */
export function checkTemplate(key: string, src: string): void {
  parsed(key, src);
}

/** The whole template's bounds: how many keys, how many characters in all. */
function checkSize(t: TargetTemplate): void {
  const keys = Object.keys(t.data);
  if (keys.length > MAX_TEMPLATE_KEYS) throw new TemplateError(`spec.target.template.data has ${keys.length} keys; at most ${MAX_TEMPLATE_KEYS}`);
  const chars = Object.values(t.data).reduce((n, src) => n + src.length, 0);
  if (chars > MAX_TEMPLATE_CHARS) throw new TemplateError(`spec.target.template.data holds ${chars} characters of templates; at most ${MAX_TEMPLATE_CHARS} in all keys together`);
}

/** The synced keys the templates of `t` name (TemplateError when one does not parse). */
export function referencedKeys(t: TargetTemplate): Set<string> {
  checkSize(t);
  const keys = new Set<string>();
  for (const [key, src] of Object.entries(t.data)) for (const n of parsed(key, src).names) keys.add(n.name);
  return keys;
}

/** An unknown key, and what to write instead when it looks like ESO's Go template syntax. */
function unknownKey(n: string, values: ReadonlyMap<string, string>, known: () => string): string {
  const said = `unknown key ${JSON.stringify(n.slice(0, 253))} (the synced keys: ${known()})`;
  const go = /^\.?([-._a-zA-Z0-9]+)\s*\|\s*([a-zA-Z0-9]+)$/.exec(n);
  if (go && FILTERS.has(go[2]!)) return `${said}; filters are sections here: {{#${go[2]}}}{{ ${go[1]} }}{{/${go[2]}}}`;
  if (n.startsWith('.') && values.has(n.slice(1))) return `${said}; write {{ ${n.slice(1)} }}, without the leading dot of ESO's Go templates`;
  return said;
}

/**
 * The library's writer with our lookup and our sections: a {{key}} is the synced key's bytes,
 * a {{#filter}} section is the filter of its rendered content. Counts what it produces: the
 * output (with the keys) at most `maxBytes`, and the content of any section at most twice that.
 */
class SandboxWriter extends Mustache.Writer {
  /** Bytes produced at each depth: [0] is the output, the others the open sections' content. */
  private readonly produced: number[] = [];

  constructor(
    private readonly values: ReadonlyMap<string, string>,
    private readonly p: Parsed,
    private readonly key: string,
    private readonly maxBytes: number,
    private readonly known: () => string,
  ) {
    super(); // never parses: it renders tokens parsed (and checked) by parse()
  }

  private at(t: Token): Pos {
    return position(this.key, this.p.bin, t[2]);
  }

  private add(t: Token, s: string): string {
    const depth = this.produced.length - 1;
    this.produced[depth] = (this.produced[depth] ?? 0) + s.length;
    if (depth === 0 && (this.produced[0] ?? 0) > this.maxBytes) {
      fail(this.at(t), `the rendered content is over ${this.maxBytes} bytes (spec.target.maxSizeBytes)`);
    }
    if (depth > 0 && (this.produced[depth] ?? 0) > 2 * this.maxBytes) {
      fail(this.at(t), `a filter's content is over ${2 * this.maxBytes} bytes (twice spec.target.maxSizeBytes)`);
    }
    return s;
  }

  /** Renders the template's tokens; `before` counts what the Secret holds already (its keys and earlier values). */
  renderAll(before: number): string {
    this.produced.push(before);
    return this.renderTokens(this.p.tokens as unknown as string[][], new Mustache.Context(Object.create(null)), undefined, this.p.bin, undefined);
  }

  override rawValue(token: string[]): string {
    return this.add(token as Token, token[1] ?? '');
  }

  override unescapedValue(token: string[]): string {
    const t = token as Token;
    const value = this.values.get(name(t));
    if (value === undefined) fail(this.at(t), unknownKey(name(t), this.values, this.known));
    return this.add(t, value);
  }

  override escapedValue(token: string[]): string {
    return this.unescapedValue(token); // no escaping: {{key}} and {{{key}}} are the same bytes
  }

  override renderSection(token: string[], context: Mustache.Context, partials: undefined, bin: string): string {
    const t = token as Token;
    this.produced.push(0);
    const inner = this.renderTokens(t[4] as unknown as string[][], context, partials, bin, undefined);
    this.produced.pop();
    let out: string;
    try {
      out = toBinary((FILTERS.get(name(t)) as Filter)(fromBinary(inner)));
    } catch (err) {
      if (err instanceof FilterFailure) fail(this.at(t), `filter ${name(t)}: ${err.message}`);
      throw err;
    }
    return this.add(t, out);
  }

  override renderInverted(token: string[]): string {
    fail(this.at(token as Token), 'inverted sections are not supported');
  }

  override renderPartial(token: string[]): string {
    fail(this.at(token as Token), 'partials are not supported');
  }
}

/**
 * Renders every key of `t` from `values` (the synced keys). The output is at most
 * `maxBytes` in all (keys and values, as spec.target.maxSizeBytes counts them). Throws
 * TemplateError naming the key, line and column; every template is checked (and every
 * key it names looked up) before any renders.
 */
export function renderTemplate(t: TargetTemplate, values: Record<string, Buffer>, maxBytes: number): Record<string, Buffer> {
  const lookup = new Map(Object.entries(values).map(([k, v]) => [k, toBinary(v)]));
  checkSize(t);
  const keys = Object.keys(t.data);
  const known = () => {
    const names = [...lookup.keys()].sort();
    return names.length === 0 ? 'none' : names.slice(0, 20).join(', ') + (names.length > 20 ? `, … (${names.length} in all)` : '');
  };
  const all = keys.map((key) => [key, parsed(key, t.data[key] ?? '')] as const);
  for (const [key, p] of all) {
    const missing = p.names.find((n) => !lookup.has(n.name));
    if (missing) fail(position(key, p.bin, missing.at), unknownKey(missing.name, lookup, known));
  }
  let total = 0;
  const out: [string, Buffer][] = [];
  for (const [key, p] of all) {
    total += Buffer.byteLength(key);
    if (total > maxBytes) fail({ key, line: 1, column: 1 }, `the rendered content is over ${maxBytes} bytes (spec.target.maxSizeBytes)`);
    const rendered = new SandboxWriter(lookup, p, key, maxBytes, known).renderAll(total);
    total += rendered.length;
    out.push([key, fromBinary(rendered)]);
  }
  // Object.fromEntries defines own properties, whatever the key's name.
  return Object.fromEntries(out);
}
