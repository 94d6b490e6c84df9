// Properties of spec.target.template over arbitrary template text (Mustache through
// mustache.js with our sandbox): rendering either succeeds or throws our TemplateError,
// never another error (a TypeError from the library would reach the status unexplained);
// an error never carries a value; the output stays within maxSizeBytes; a value is never
// read as a template; and a template of only known keys and filters renders exactly what
// a direct evaluation of the same tree gives.
import fc from 'fast-check';
import { FILTERS, renderTemplate } from '../../../src/api/template.js';
import { TemplateError } from '../../../src/errors.js';

const NUM_RUNS = 500;
/** Values that would show up in an error or in the output if anything read them as text to echo or render. */
const VALUES = { user: 'VALUE-user-{{pw}}', pw: 'VALUE-pw-{{#b64enc}}x{{/b64enc}}', 'tls.crt': 'VALUE-crt' };
const values = Object.fromEntries(Object.entries(VALUES).map(([k, v]) => [k, Buffer.from(v)]));
const MAX = 4096;

/** Template text made of Mustache's own characters, tag fragments and names, so most of it is near-valid. */
const piece = fc.constantFrom(
  '{{', '}}', '{{{', '}}}', '{{#', '{{/', '{{^', '{{>', '{{!', '{{&', '{{=', '=}}', '<%', '%>',
  'user', 'pw', 'tls.crt', 'constructor', '__proto__', '.', 'b64enc', 'b64dec', 'json', 'yaml', 'trim', 'upper', 'lower',
  ' ', '\n', 'a', ':', '|', '"', 'ü',
);
const text = fc.array(piece, { maxLength: 40 }).map((a) => a.join(''));

function outcome(tpl: string): { out?: Buffer; error?: TemplateError } {
  try {
    return { out: renderTemplate({ data: { k: tpl } }, values, MAX).k };
  } catch (err) {
    if (err instanceof TemplateError) return { error: err };
    throw err;
  }
}

test('any template text renders or is a TemplateError naming key, line and column, never a value', () => {
  fc.assert(
    fc.property(text, (tpl) => {
      const { out, error } = outcome(tpl);
      if (error) {
        expect(error.message).toMatch(/^spec\.target\.template\.data\["k"\] line \d+ column \d+: /);
        expect(error.message).not.toContain('VALUE-');
        return;
      }
      expect(out!.length).toBeLessThanOrEqual(MAX);
    }),
    { numRuns: NUM_RUNS },
  );
});

/** A tree of our subset: text, keys, filters around trees. */
type Node = { text: string } | { key: keyof typeof VALUES } | { filter: string; body: Node[] };
const node: fc.Arbitrary<Node> = fc.letrec<{ node: Node }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ text: fc.stringMatching(/^[a-z :\n"-]{0,6}$/) }),
    fc.record({ key: fc.constantFrom('user', 'pw', 'tls.crt') as fc.Arbitrary<keyof typeof VALUES> }),
    fc.record({ filter: fc.constantFrom('b64enc', 'json', 'yaml', 'trim', 'upper', 'lower'), body: fc.array(tie('node'), { maxLength: 3 }) }),
  ),
})).node;

// Each tag ends with a character that is not white space, so no line holds only section
// tags (Mustache drops such a line; the example-based tests show that rule).
const write = (n: Node): string => ('text' in n ? n.text : 'key' in n ? `{{ ${n.key} }}` : `{{#${n.filter}}}|${n.body.map(write).join('')}|{{/${n.filter}}}|`);
const evaluate = (n: Node): Buffer =>
  'text' in n ? Buffer.from(n.text) : 'key' in n ? Buffer.from(VALUES[n.key]) : Buffer.concat([FILTERS.get(n.filter)!(Buffer.concat([Buffer.from('|'), ...n.body.map(evaluate), Buffer.from('|')])), Buffer.from('|')]);

test('a template of known keys and filters renders what evaluating its tree gives; values are never read as templates', () => {
  fc.assert(
    fc.property(fc.array(node, { minLength: 1, maxLength: 4 }), (nodes) => {
      const tpl = nodes.map(write).join('');
      const expected = Buffer.concat(nodes.map(evaluate));
      const { out, error } = outcome(tpl);
      if (expected.length > MAX) {
        expect(error).toBeDefined();
        return;
      }
      if (error) throw new Error(`${tpl}: ${error.message}`);
      expect(out!.equals(expected)).toBe(true);
    }),
    { numRuns: NUM_RUNS },
  );
});
