// ESO's Go templates (engine v2), the part of them the converter translates: one action's
// body tokenized and parsed into pieces (terms concatenated, then filters), with `index . "k"`
// read as the field `.k`, `printf` with %s and `print` as concatenation, and the sprig / Go
// functions that have a filter of ours. Anything else throws TemplateUnsupported saying why.
// template.ts writes the pieces as Mustache.

/** sprig / Go function → our filter. */
const FUNCS: ReadonlyMap<string, string> = new Map([
  ['b64enc', 'b64enc'],
  ['b64dec', 'b64dec'],
  ['quote', 'json'],
  ['toJson', 'json'],
  ['trim', 'trim'],
  ['upper', 'upper'],
  ['lower', 'lower'],
]);

export type Term = { key: string } | { lit: string };
/** Terms concatenated, then the filters in order (the first innermost). */
export interface Piece {
  terms: Term[];
  filters: string[];
}
/** What a Go pipeline evaluates to: one or more pieces, written one after the other. */
export type Expr = Piece[];

export class TemplateUnsupported extends Error {}

type Token = { t: 'field'; v: string } | { t: 'dot' } | { t: 'str'; v: string } | { t: 'ident'; v: string } | { t: '|' } | { t: '(' } | { t: ')' };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '|' || c === '(' || c === ')') {
      out.push({ t: c });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      const raw = src.slice(i, j + 1);
      try {
        out.push({ t: 'str', v: JSON.parse(raw) as string });
      } catch {
        throw new TemplateUnsupported(`the string ${raw.slice(0, 40)} uses an escape JSON does not have`);
      }
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) throw new TemplateUnsupported('an unterminated raw string');
      out.push({ t: 'str', v: src.slice(i + 1, j) });
      i = j + 1;
    } else if (c === '.') {
      const m = /^\.([A-Za-z_][A-Za-z0-9_]*)?/.exec(src.slice(i))!;
      if (m[1] === undefined) out.push({ t: 'dot' });
      else out.push({ t: 'field', v: m[1] });
      i += m[0].length;
      if (src[i] === '.') throw new TemplateUnsupported('a nested field (.a.b): write index . "a.b" for a key with a dot');
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
      if (!m) throw new TemplateUnsupported(`"${c}" (variables, numbers and operators have no equivalent)`);
      out.push({ t: 'ident', v: m[0] });
      i += m[0].length;
    }
  }
  return out;
}

function single(e: Expr): Piece | undefined {
  if (e.length === 1) return e[0];
  if (e.every((p) => p.filters.length === 0)) return { terms: e.flatMap((p) => p.terms), filters: [] };
  return undefined;
}

function applyFilter(e: Expr, fn: string): Expr {
  const p = single(e);
  if (!p) throw new TemplateUnsupported(`${fn} of a concatenation whose parts are already filtered`);
  return [{ terms: p.terms, filters: [...p.filters, FUNCS.get(fn)!] }];
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[]) {}
  private peek(): Token | undefined {
    return this.toks[this.i];
  }
  /** The whole action: one pipeline and nothing after it. */
  action(): Expr {
    const e = this.pipeline();
    if (this.i < this.toks.length) throw new TemplateUnsupported(`"${this.toks[this.i]!.t}" after the pipeline`);
    return e;
  }
  pipeline(): Expr {
    let e = this.command(undefined);
    while (this.peek()?.t === '|') {
      this.i++;
      e = this.command(e);
    }
    return e;
  }
  /** A command; `piped` is the pipeline's value so far (passed as the last argument). */
  private command(piped: Expr | undefined): Expr {
    const tok = this.peek();
    if (tok?.t === 'ident') {
      this.i++;
      const args: Expr[] = [];
      while (this.peek() && this.peek()!.t !== '|' && this.peek()!.t !== ')') args.push(this.operand());
      if (piped) args.push(piped);
      return this.call(tok.v, args);
    }
    if (piped) throw new TemplateUnsupported('a pipe into something that is not a function');
    const e = this.operand();
    if (this.peek() && this.peek()!.t !== '|' && this.peek()!.t !== ')') throw new TemplateUnsupported('arguments after a value');
    return e;
  }
  private operand(): Expr {
    const tok = this.toks[this.i++];
    if (!tok) throw new TemplateUnsupported('an empty action');
    switch (tok.t) {
      case 'field':
        return [{ terms: [{ key: tok.v }], filters: [] }];
      case 'str':
        return [{ terms: [{ lit: tok.v }], filters: [] }];
      case '(': {
        const e = this.pipeline();
        if (this.toks[this.i++]?.t !== ')') throw new TemplateUnsupported('an unclosed parenthesis');
        return e;
      }
      case 'ident':
        // A function without arguments as an operand (e.g. `printf`) is not something ESO users write.
        throw new TemplateUnsupported(`the function ${tok.v} as an argument (wrap it in parentheses)`);
      case 'dot':
        throw new TemplateUnsupported('"." (the whole data map) has no equivalent');
      default:
        throw new TemplateUnsupported(`"${tok.t}" out of place`);
    }
  }
  private call(fn: string, args: Expr[]): Expr {
    if (FUNCS.has(fn)) {
      if (args.length !== 1) throw new TemplateUnsupported(`${fn} with ${args.length} arguments`);
      return applyFilter(args[0]!, fn);
    }
    if (fn === 'index') throw new TemplateUnsupported('index is written only as index . "key"');
    if (fn === 'printf' || fn === 'print') {
      const fmtPiece = args[0];
      const fmt = fn === 'printf' ? fmtPiece && single(fmtPiece) : undefined;
      if (fn === 'printf' && (!fmt || fmt.filters.length > 0 || fmt.terms.length !== 1 || !('lit' in fmt.terms[0]!))) {
        throw new TemplateUnsupported('printf without a literal format');
      }
      const rest = fn === 'printf' ? args.slice(1) : args;
      if (fn === 'print') return rest.flat();
      const parts = (fmt!.terms[0] as { lit: string }).lit.split(/(%%|%s|%[^s%]?)/);
      const out: Expr = [];
      let n = 0;
      for (const part of parts) {
        if (part === '%s') {
          const a = rest[n++];
          if (!a) throw new TemplateUnsupported('printf with fewer arguments than %s');
          out.push(...a);
        } else if (part === '%%') {
          out.push({ terms: [{ lit: '%' }], filters: [] });
        } else if (part.startsWith('%')) {
          throw new TemplateUnsupported(`printf verb ${part} (only %s translates)`);
        } else if (part !== '') {
          out.push({ terms: [{ lit: part }], filters: [] });
        }
      }
      if (n !== rest.length) throw new TemplateUnsupported('printf with more arguments than %s');
      return out;
    }
    throw new TemplateUnsupported(`the function ${fn} (translated: ${[...FUNCS.keys(), 'printf', 'index'].join(', ')})`);
  }
}

/** `index . "key"` becomes a field before parsing, so the parser sees `.key` for any key name. */
function rewriteIndex(toks: Token[]): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < toks.length; i++) {
    const a = toks[i]!;
    const b = toks[i + 1];
    const c = toks[i + 2];
    if (a.t === 'ident' && a.v === 'index' && b?.t === 'dot' && c?.t === 'str') {
      out.push({ t: 'field', v: c.v });
      i += 2;
    } else out.push(a);
  }
  return out;
}

/** One action's body (without `{{ }}` and trim markers) as pieces written one after the other. */
export function parseAction(body: string): Expr {
  return new Parser(rewriteIndex(tokenize(body))).action();
}
