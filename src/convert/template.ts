// ESO's Go templates (engine v2) translated into ours, Mustache with filter sections
// (docs/templates.md): `{{ .key }}` and `{{ index . "key" }}` become `{{key}}`; string
// literals and `printf` with %s become text; pipes and calls of b64enc, b64dec, quote, toJson,
// trim, upper and lower become filter sections (`{{ .a | trim | upper }}` is
// `{{#upper}}{{#trim}}{{a}}{{/trim}}{{/upper}}`); the `{{-` / `-}}` trim markers are applied.
// Anything else (conditions, loops, variables, other functions, nested fields) is refused with
// why. Every translation is parsed back with mustache.js and must be the tree we meant: no
// accidental tag from text (a `{{` in text is written with set delimiters), and no line lost to
// Mustache's standalone rule (refused: Go keeps such a line).
import Mustache from 'mustache';
import { checkTemplate, FILTERS } from '../api/template.js';
import { TemplateError } from '../errors.js';
import { parseAction, TemplateUnsupported, type Piece } from './go-template.js';

export { TemplateUnsupported } from './go-template.js';

/** The characters our keys allow (a Secret key's). */
const OUR_KEY = /^[A-Za-z0-9_.-]+$/;

/** What a translation is made of before it is written as Mustache. */
type Node = { text: string } | { key: string } | { filter: string; body: Node[] };

/** A filtered piece of literals only is filtered now: nothing in it is looked up. */
function fold(lit: string, filters: string[]): string {
  let v: Buffer = Buffer.from(lit, 'utf8');
  for (const f of filters) {
    try {
      v = FILTERS.get(f)!(v);
    } catch (err) {
      throw new TemplateUnsupported(`${f} of the literal ${JSON.stringify(lit.slice(0, 40))}, which fails: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const s = v.toString('utf8');
  if (!Buffer.from(s, 'utf8').equals(v)) throw new TemplateUnsupported(`${filters.join(' then ')} of the literal ${JSON.stringify(lit.slice(0, 40))}, which is not UTF-8 text`);
  return s;
}

/** A piece as nodes: its terms one after the other, inside its filters (the first innermost). */
function pieceNodes(p: Piece): Node[] {
  if (p.terms.every((t) => 'lit' in t)) {
    const lit = p.terms.map((t) => (t as { lit: string }).lit).join('');
    return [{ text: p.filters.length > 0 ? fold(lit, p.filters) : lit }];
  }
  let body: Node[] = p.terms.map((t) => {
    if ('lit' in t) return { text: t.lit };
    if (!OUR_KEY.test(t.key)) throw new TemplateUnsupported(`the key "${t.key}" has characters our keys do not allow`);
    if (FILTERS.has(t.key)) throw new TemplateUnsupported(`the key "${t.key}", which ours would read as the filter ${t.key} (a key named like a filter cannot be written)`);
    return { key: t.key };
  });
  for (const f of p.filters) body = [{ filter: f, body }];
  return body;
}

/** Adjacent texts as one and empty texts dropped, as mustache.js parses a text. */
function normalize(nodes: Node[]): Node[] {
  const out: Node[] = [];
  for (const n of nodes) {
    const last = out[out.length - 1];
    if ('text' in n) {
      if (n.text === '') continue;
      if (last && 'text' in last) out[out.length - 1] = { text: last.text + n.text };
      else out.push(n);
    } else if ('filter' in n) out.push({ filter: n.filter, body: normalize(n.body) });
    else out.push(n);
  }
  return out;
}

/** `{` characters written as text whatever surrounds them: between set-delimiter tags. */
const escapeBraces = (run: string) => `{{=<% %>=}}${run}<%={{ }}=%>`;

/** A part of the Mustache template: text, or a tag (`shows`: a {{key}}, which keeps its line). */
type Segment = { text: string } | { tag: string; shows: boolean };

/**
 * The Mustache template of `nodes` (normalized), as segments. In text, a run of two or more
 * `{` would open a tag, and a `{` just before one of our tags would make it `{{{`: such runs
 * are written between set-delimiter tags ({{=<% %>=}}{{<%={{ }}=%>).
 */
function segments(nodes: Node[]): Segment[] {
  const out: Segment[] = [];
  const walk = (list: Node[], atEnd: boolean) => {
    list.forEach((n, i) => {
      if ('key' in n) out.push({ tag: `{{${n.key}}}`, shows: true });
      else if ('filter' in n) {
        out.push({ tag: `{{#${n.filter}}}`, shows: false });
        walk(n.body, false);
        out.push({ tag: `{{/${n.filter}}}`, shows: false });
      } else {
        const tagNext = i < list.length - 1 || !atEnd;
        out.push({ text: n.text.replace(/\{+/g, (run: string, at: number) => (run.length > 1 || (tagNext && at + run.length === n.text.length) ? escapeBraces(run) : run)) });
      }
    });
  };
  walk(nodes, true);
  return out;
}

/**
 * Mustache's standalone rule (mustache.js's parse): a line with a tag, where every tag is a
 * section or set-delimiter tag and every other character white space, loses its white space,
 * newline included. Go keeps it, so such a line is refused (1-based line number in the message).
 */
function checkNoStandaloneLine(segs: Segment[]): void {
  let line = 1;
  let hasTag = false;
  let shows = false;
  let space = false;
  const end = (newline: boolean) => {
    if (hasTag && !shows && (space || newline)) {
      throw new TemplateUnsupported(
        `a newline or white space on a line of its translation (line ${line}) that holds nothing else but filter tags ({{#f}}, {{/f}}): Mustache's standalone rule drops it where Go keeps it (e.g. printf "%s\\n" piped into a filter, at the end of a line)`,
      );
    }
    hasTag = shows = space = false;
  };
  for (const s of segs) {
    if ('tag' in s) {
      hasTag = true;
      shows ||= s.shows;
      continue;
    }
    for (const c of s.text) {
      if (c === '\n') {
        end(true);
        line++;
      } else if (/[\t\v\f\r ]/.test(c)) space = true;
      else shows = true; // not white space for mustache.js (which parses UTF-8 bytes as latin1: a non-ASCII character starts with a byte \s does not match)
    }
  }
  end(false);
}

/** The nodes mustache.js parses `src` into, texts as UTF-8 (set-delimiter tags and comments dropped). */
function parsedNodes(src: string): Node[] {
  const bin = Buffer.from(src, 'utf8').toString('latin1');
  const writer = new Mustache.Writer();
  (writer as unknown as { templateCache: undefined }).templateCache = undefined;
  const conv = (tokens: Mustache.TemplateSpans): Node[] =>
    tokens.flatMap((t): Node[] => {
      const v = Buffer.from(t[1], 'latin1').toString('utf8');
      switch (t[0]) {
        case 'text':
          return [{ text: v }];
        case 'name':
        case '&':
          return [{ key: v }];
        case '#':
          return [{ filter: v, body: conv(t[4] as Mustache.TemplateSpans) }];
        case '=':
        case '!':
          return [];
        default:
          return [{ text: `\u0000${t[0]}` }]; // never what we meant
      }
    });
  return normalize(conv(writer.parse(bin) as Mustache.TemplateSpans));
}

/** Translates one ESO template; throws TemplateUnsupported saying what has no equivalent. */
export function translateTemplate(src: string): string {
  const re = /\{\{(-\s)?([\s\S]*?)(\s-)?\}\}/g;
  const nodes: Node[] = [];
  let last = 0;
  let trimNext = false;
  // Go's trim markers remove ASCII white space only (space, tab, carriage return, newline).
  for (let m = re.exec(src); m; m = re.exec(src)) {
    let text = src.slice(last, m.index);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    if (m[1]) text = text.replace(/[ \t\r\n]+$/, '');
    nodes.push({ text });
    last = m.index + m[0].length;
    trimNext = !!m[3];
    const body = m[2]!.trim();
    if (body.startsWith('/*')) continue; // a comment renders nothing
    const keyword = /^(if|else|end|range|with|define|template|block|break|continue)\b/.exec(body);
    if (keyword) throw new TemplateUnsupported(`{{ ${keyword[1]} }} (ours has no conditions, loops or includes)`);
    for (const piece of parseAction(body)) nodes.push(...pieceNodes(piece));
  }
  let tail = src.slice(last);
  // Text between actions cannot hold `{{` (it would have opened an action): only the tail can.
  if (tail.includes('{{')) throw new TemplateUnsupported('an action opened with {{ and never closed with }} (Go refuses the template too)');
  if (trimNext) tail = tail.replace(/^[ \t\r\n]+/, '');
  nodes.push({ text: tail });

  const meant = normalize(nodes);
  const segs = segments(meant);
  checkNoStandaloneLine(segs);
  const out = segs.map((s) => ('tag' in s ? s.tag : s.text)).join('');
  // What mustache.js reads must be what we meant: no tag made by accident, no text lost.
  if (JSON.stringify(parsedNodes(out)) !== JSON.stringify(meant)) {
    throw new TemplateUnsupported('something whose translation mustache.js does not read back as meant (a converter bug: please report it)');
  }
  try {
    checkTemplate('-', out);
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    throw new TemplateUnsupported(`something ours refuses in the translation (${err.message.replace(/^spec\.target\.template\.data\["-"\] /, '')})`);
  }
  return out;
}
