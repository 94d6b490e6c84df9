// spec.target.template: Mustache through mustache.js, the filters, the sandbox (nothing but
// the synced keys can be named, no conditions, loops or partials) and the bounds; errors name
// key, line and column and never a value.
// Rendered values are compared as text built from the inputs, or by equals(), so a failing
// expectation prints a template, not a planted value.
import { checkTemplate, referencedKeys, renderTemplate, MAX_TEMPLATE_CHARS, MAX_WHITESPACE_RUN } from '../../../src/api/template.js';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { TemplateError } from '../../../src/errors.js';
import { canary, leaksIn } from '../../helpers/canary.js';

const b = (s: string) => Buffer.from(s, 'utf8');
const values = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, b(v)]));
const render = (data: Record<string, string>, v: Record<string, string>, max = 1 << 20) =>
  Object.fromEntries(Object.entries(renderTemplate({ data }, values(v), max)).map(([k, x]) => [k, x.toString('utf8')]));

function errorOf(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TemplateError) return err;
    throw err;
  }
  throw new Error('expected a TemplateError');
}

describe('renderTemplate', () => {
  it('builds a database URL, a literal key and a config file, escaping nothing', () => {
    const out = render(
      {
        url: 'postgres://{{ user }}:{{password}}@{{{ host }}}:5432/app?sslmode=require',
        mode: 'literal, no braces',
        'app.yaml': 'db:\n  user: {{#yaml}}{{ user }}{{/yaml}}\n  password: {{#yaml}}{{password}}{{/yaml}}\n',
      },
      { user: 'app', password: 'p&<>"\'w', host: 'db.internal', unused: 'x' },
    );
    expect(out).toEqual({
      url: 'postgres://app:p&<>"\'w@db.internal:5432/app?sslmode=require',
      mode: 'literal, no braces',
      'app.yaml': 'db:\n  user: "app"\n  password: "p&<>\\"\'w"\n',
    });
  });

  it('builds a .dockerconfigjson: text inside a filter is concatenated', () => {
    const tpl = '{"auths":{ {{#json}}{{registry}}{{/json}}:{"auth":"{{#b64enc}}{{user}}:{{password}}{{/b64enc}}"}}}';
    const out = render({ '.dockerconfigjson': tpl }, { registry: 'registry.example:5000', user: 'bot', password: 'p"w' });
    const parsed = JSON.parse(out['.dockerconfigjson'] ?? '') as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(parsed.auths['registry.example:5000']?.auth ?? '', 'base64').toString()).toBe('bot:p"w');
  });

  it('applies each filter, and nested filters inside out', () => {
    const out = render(
      {
        enc: '{{#b64enc}}{{v}}{{/b64enc}}',
        dec: '{{#b64dec}}{{e}}{{/b64dec}}',
        decurl: '{{#b64dec}}{{u}}{{/b64dec}}',
        json: '{{#json}}{{q}}{{/json}}',
        yaml: '{{#yaml}}{{ctl}}{{/yaml}}',
        trim: '[{{#trim}}{{sp}}{{/trim}}]',
        upper: '{{#upper}}{{v}}{{/upper}}',
        lower: '{{#lower}}{{v}}{{/lower}}',
        chain: '{{#b64dec}}{{#b64enc}}{{#upper}}{{#trim}}{{sp}}{{/trim}}{{/upper}}{{/b64enc}}{{/b64dec}}',
        dotted: '{{ tls.crt }}',
        literal: '{{=<% %>=}}{{ <%v%> }}',
        comment: 'a{{! a comment }}b',
      },
      { v: 'MiXed', e: b('bin\u00e4').toString('base64'), u: 'Pz8_', q: 'a"b\\c\n', ctl: 'x\u0085y\u2028', sp: '  padded \n', 'tls.crt': 'CERT' },
    );
    expect(out).toEqual({
      enc: b('MiXed').toString('base64'),
      dec: 'bin\u00e4',
      decurl: '???',
      json: JSON.stringify('a"b\\c\n'),
      yaml: '"x\\u0085y\\u2028"',
      trim: '[padded]',
      upper: 'MIXED',
      lower: 'mixed',
      chain: 'PADDED',
      dotted: 'CERT',
      literal: '{{ MiXed }}',
      comment: 'ab',
    });
  });

  it('follows Mustache: a line holding only section tags is dropped, newline included', () => {
    expect(render({ k: 'a\n{{#upper}}\n{{v}}\n{{/upper}}\nb' }, { v: 'x' })).toEqual({ k: 'a\nX\nb' });
  });

  it('is binary-safe: b64dec output is bytes, and b64enc of binary round-trips', () => {
    const raw = Buffer.from([0, 255, 1, 128, 10, 0xc3]);
    const out = renderTemplate(
      { data: { k: '{{#b64dec}}{{e}}{{/b64dec}}', back: '{{#b64enc}}{{#b64dec}}{{e}}{{/b64dec}}{{/b64enc}}', raw: 'ä{{r}}ü' } },
      { e: b(raw.toString('base64')), r: raw },
      1024,
    );
    expect(out.k?.equals(raw)).toBe(true);
    expect(out.back?.toString()).toBe(raw.toString('base64'));
    expect(out.raw?.equals(Buffer.concat([b('ä'), raw, b('ü')]))).toBe(true);
  });

  it('renders the template of examples/26-sync-templated.yaml from the keys it syncs', () => {
    const ss = parse(readFileSync(new URL('../../../examples/26-sync-templated.yaml', import.meta.url), 'utf8')) as {
      spec: { data: { key: string }[]; target: { template: { data: Record<string, string> } } };
    };
    const synced = Object.fromEntries(ss.spec.data.map((d) => [d.key, `the ${d.key}`]));
    const out = render(ss.spec.target.template.data, synced);
    expect(out.DATABASE_URL).toBe('postgres://the username:the password@db.demo.svc:5432/app');
    expect(parse(out['app.yaml'] ?? '')).toEqual({ database: { user: 'the username', password: 'the password' } });
    expect(out.sslmode).toBe('require');
  });

  it('keeps keys named like Object.prototype members as plain own keys', () => {
    const out = renderTemplate({ data: JSON.parse('{"__proto__":"{{ a }}","constructor":"x"}') as Record<string, string> }, values({ a: 'v' }), 1024);
    expect(Object.keys(out).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });

  it('lists the keys it reads, inside filters too', () => {
    expect([...referencedKeys({ data: { a: '{{ x }}-{{#b64enc}}{{y}}z{{x}}{{/b64enc}}', b: 'lit' } })].sort()).toEqual(['x', 'y']);
  });

  it('renders the same after the template was cached under another key', () => {
    const tpl = '{{#upper}}{{v}}{{/upper}}';
    expect(render({ a: tpl }, { v: 'x' })).toEqual({ a: 'X' });
    expect(render({ b: tpl }, { v: 'y' })).toEqual({ b: 'Y' });
  });
});

describe('the sandbox: nothing but the synced keys, no logic', () => {
  const escapes = [
    '{{ constructor }}',
    '{{ __proto__ }}',
    '{{ toString }}',
    '{{ hasOwnProperty }}',
    '{{ user.constructor }}',
    '{{ user.length }}',
    '{{ process }}',
    '{{ globalThis }}',
    '{{ this }}',
    '{{ . }}',
    '{{ .user }}',
    '{{ user[0] }}',
    '{{ user() }}',
    '{{& constructor }}',
    '{{{ __proto__ }}}',
  ];
  it.each(escapes)('%s is an unknown key', (tpl) => {
    const e = errorOf(() => render({ k: tpl }, { user: 'u' }));
    expect(e.message).toMatch(/^spec\.target\.template\.data\["k"\] line 1 column 1: unknown key "/);
    expect(e.message).toContain('(the synced keys: user)');
  });

  it.each([
    ['{{#user}}x{{/user}}', 'sections are filters only, and "user" is none (filters: b64enc, b64dec, json, yaml, trim, upper, lower)'],
    ['{{#constructor}}x{{/constructor}}', 'sections are filters only, and "constructor" is none'],
    ['{{#__proto__}}x{{/__proto__}}', 'sections are filters only'],
    ['{{#each user}}x{{/each user}}', 'sections are filters only, and "each user" is none'],
    ['{{^user}}x{{/user}}', 'inverted sections ({{^…}}) are conditions'],
    ['{{> partial }}', 'partials ({{>…}}) are not supported'],
    ['{{b64enc}}', 'b64enc is a filter: write {{#b64enc}}…{{/b64enc}}'],
    ['{{{upper}}}', 'upper is a filter'],
    ['{% include "/etc/passwd" %}{{ user', 'a tag opened with {{ is not closed with }}'],
  ])('%s is refused: %s', (tpl, what) => {
    expect(errorOf(() => render({ k: tpl }, { user: 'u' })).message).toContain(what);
  });

  it('reads no property of the values object, own or inherited', () => {
    const v = Object.create({ inherited: b('no') }) as Record<string, Buffer>;
    v.own = b('yes');
    expect(errorOf(() => renderTemplate({ data: { k: '{{ inherited }}' } }, v, 100)).message).toContain('unknown key "inherited"');
    expect(renderTemplate({ data: { k: '{{ own }}' } }, v, 100).k?.toString()).toBe('yes');
  });

  it('does not render a value as a template (a value holding tags stays text)', () => {
    expect(render({ k: '{{#upper}}{{v}}{{/upper}}{{w}}' }, { v: '{{w}}', w: '{{#b64enc}}x{{/b64enc}}' })).toEqual({ k: '{{W}}{{#b64enc}}x{{/b64enc}}' });
  });

  it('says what to write for ESO-style tags', () => {
    expect(errorOf(() => render({ k: '{{ .user }}' }, { user: 'u' })).message).toMatch(/unknown key "\.user" \(the synced keys: user\); write \{\{ user \}\}, without the leading dot of ESO's Go templates$/);
    expect(errorOf(() => render({ k: 'x: {{ .user | b64enc }}' }, { user: 'u' })).message).toMatch(/column 4: unknown key "\.user \| b64enc" \(the synced keys: user\); filters are sections here: \{\{#b64enc\}\}\{\{ user \}\}\{\{\/b64enc\}\}$/);
    expect(errorOf(() => render({ k: '{{ user | sha256 }}' }, { user: 'u' })).message).toMatch(/unknown key "user \| sha256" \(the synced keys: user\)$/);
  });

  it('checks every template before rendering any: an unknown key later fails the whole', () => {
    const e = errorOf(() => render({ a: '{{ user }}', z: 'x\n{{ nope }}' }, { user: 'u' }));
    expect(e.message).toMatch(/data\["z"\] line 2 column 1: unknown key "nope"/);
  });
});

describe('bounds', () => {
  it('refuses output over the limit, counting keys, values and every filter step', () => {
    const v = { big: 'x'.repeat(600) };
    expect(errorOf(() => render({ k: '{{ big }}{{ big }}' }, v, 1000)).message).toMatch(/line 1 column 10: the rendered content is over 1000 bytes \(spec\.target\.maxSizeBytes\)/);
    // b64enc chained grows by 4/3 each: stopped at the filter whose content crosses twice the limit.
    const e = errorOf(() => render({ k: '{{#b64enc}}{{#b64enc}}{{#b64enc}}{{ big }}{{/b64enc}}{{/b64enc}}{{/b64enc}}' }, v, 500));
    expect(e.message).toMatch(/column 12: a filter's content is over 1000 bytes \(twice spec\.target\.maxSizeBytes\)/);
    expect(render({ k: '{{ big }}' }, v, 601)).toEqual({ k: v.big });
    expect(() => render({ k: '{{ big }}' }, v, 600)).toThrow(TemplateError);
  });

  it('bounds a blow-up by repetition: many tags of one large value, inside a filter too', () => {
    const v = { big: 'y'.repeat(100_000) };
    expect(errorOf(() => render({ k: '{{ big }}'.repeat(2000) }, v, 1 << 20)).message).toMatch(/line 1 column \d+: the rendered content is over 1048576 bytes/);
    expect(errorOf(() => render({ k: `{{#b64dec}}${'{{ big }}'.repeat(2000)}{{/b64dec}}` }, v, 1 << 20)).message).toMatch(/a filter's content is over 2097152 bytes/);
  });

  it('refuses templates longer than the limit in all keys together', () => {
    const half = 'x'.repeat(MAX_TEMPLATE_CHARS / 2);
    render({ a: half, b: half }, {});
    expect(errorOf(() => render({ a: half, b: half + 'y' }, {})).message).toBe(`spec.target.template.data holds ${MAX_TEMPLATE_CHARS + 1} characters of templates; at most ${MAX_TEMPLATE_CHARS} in all keys together`);
    expect(() => referencedKeys({ data: { a: half, b: half + 'y' } })).toThrow(TemplateError);
  });

  it('refuses a template longer than the limit, nested too deep, or with a long run of white space', () => {
    expect(errorOf(() => checkTemplate('k', 'x'.repeat(MAX_TEMPLATE_CHARS + 1))).message).toContain(`longer than ${MAX_TEMPLATE_CHARS} characters`);
    expect(errorOf(() => checkTemplate('k', '{{#trim}}'.repeat(9) + '{{/trim}}'.repeat(9))).message).toMatch(/column 73: filters nested more than 8 deep/);
    checkTemplate('k', '{{#trim}}'.repeat(8) + '{{/trim}}'.repeat(8));
    const e = errorOf(() => checkTemplate('k', `a\n{{a${' '.repeat(MAX_WHITESPACE_RUN + 1)}`));
    expect(e.message).toMatch(/line 2 column 4: more than 256 white-space characters in a row/);
    checkTemplate('k', `{{a${' '.repeat(MAX_WHITESPACE_RUN)}}}`);
  });
});

describe('errors name key, line and column and never a value', () => {
  it('locates the problem on later lines, in characters', () => {
    const e = errorOf(() => render({ 'app.yaml': 'a: ü\nb: {{ user }}\n  ä: {{#yaml}}{{ pasword }}{{/yaml}}\n' }, { user: 'u', password: 'p' }));
    expect(e.message).toBe('spec.target.template.data["app.yaml"] line 3 column 15: unknown key "pasword" (the synced keys: password, user)');
    expect(e.code).toBe('ESS_TEMPLATE');
    expect(e.reason).toBe('TemplateError');
    expect(e.retryable).toBe(false);
  });

  it.each([
    ['{{ user', /line 1 column 8: a tag opened with \{\{ is not closed with \}\}/],
    ['x\n{{#b64enc}}{{ user }}', /line 2 column 22: the section "b64enc" is not closed \(end it with \{\{\/b64enc\}\}\)/],
    ['{{ user }}{{/trim}}', /column 11: \{\{\/trim\}\} closes no open section/],
    ['{{#trim}}{{ user }}{{/upper}}', /column 20: the section "trim" is not closed/],
    ['{{=<%>=}}', /set delimiters need two tags/],
  ])('%s', (tpl, re) => {
    expect(errorOf(() => render({ k: tpl }, { user: 'u' })).message).toMatch(re);
  });

  it('a filter failing on a planted value says what, not the value', () => {
    const secret = canary('tpl');
    const bin = Buffer.from([0xff, 0xfe, 0x00]);
    for (const [tpl, v, what] of [
      ['{{#b64dec}}{{ s }}{{/b64dec}}', b(secret), 'filter b64dec: its input is not base64'],
      ['{{#upper}}{{ s }}{{/upper}}', bin, 'filter upper: its input is not UTF-8 text'],
      ['{{#b64enc}}{{#json}}{{ s }}{{/json}}{{/b64enc}}', bin, 'column 12: filter json: its input is not UTF-8 text'],
    ] as const) {
      const e = errorOf(() => renderTemplate({ data: { k: tpl } }, { s: v }, 4096));
      expect(e.message).toContain(what);
      expect(leaksIn(e.message, secret)).toEqual([]);
      expect(leaksIn(String(e.stack), secret)).toEqual([]);
    }
  });
});

test('literal text over the limit is located where it starts', () => {
  expect(errorOf(() => render({ k: '{{ v }}\n' + 'x'.repeat(50) }, { v: 'a' }, 40)).message).toMatch(/line 1 column 8: the rendered content is over 40 bytes/);
});
