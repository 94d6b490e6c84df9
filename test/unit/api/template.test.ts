// spec.target.template: the grammar, the filters, the sandbox (nothing but the synced keys
// can be named) and the bounds; errors name key, line and column and never a value.
// Rendered values are compared as text built from the inputs, or by equals(), so a failing
// expectation prints a template, not a planted value.
import { parseTemplate, referencedKeys, renderTemplate, MAX_TEMPLATE_CHARS } from '../../../src/api/template.js';
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
  it('builds a database URL, a literal key and a config file', () => {
    const out = render(
      {
        url: 'postgres://{{ user }}:{{password}}@{{ host }}:5432/app?sslmode=require',
        mode: 'literal, no braces',
        'app.yaml': 'db:\n  user: {{ user | yaml }}\n  password: {{ password | yaml }}\n',
      },
      { user: 'app', password: 'pw', host: 'db.internal', unused: 'x' },
    );
    expect(out).toEqual({
      url: 'postgres://app:pw@db.internal:5432/app?sslmode=require',
      mode: 'literal, no braces',
      'app.yaml': 'db:\n  user: "app"\n  password: "pw"\n',
    });
  });

  it('builds a .dockerconfigjson: concatenation, b64enc and json', () => {
    const tpl = '{"auths":{{{ registry | json }}:{"auth":"{{ user ~ ":" ~ password | b64enc }}"}}}';
    const out = render({ '.dockerconfigjson': tpl }, { registry: 'registry.example:5000', user: 'bot', password: 'p"w' });
    const parsed = JSON.parse(out['.dockerconfigjson'] ?? '') as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(parsed.auths['registry.example:5000']?.auth ?? '', 'base64').toString()).toBe('bot:p"w');
  });

  it('applies each filter', () => {
    const out = render(
      {
        enc: '{{ v | b64enc }}',
        dec: '{{ e | b64dec }}',
        decurl: '{{ u | b64dec }}',
        json: '{{ q | json }}',
        yaml: '{{ ctl | yaml }}',
        trim: '[{{ sp | trim }}]',
        upper: '{{ v | upper }}',
        lower: '{{ v | lower }}',
        chain: '{{ sp | trim | upper | b64enc | b64dec }}',
        lit: '{{ "{{" }} and {{ "a\\"b" | json }}',
      },
      { v: 'MiXed', e: b('bin\u00e4').toString('base64'), u: 'Pz8_', q: 'a"b\\c\n', ctl: 'x\u0085y\u2028', sp: '  padded \n' },
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
      lit: '{{ and "a\\"b"',
    });
  });

  it('is binary-safe: b64dec output is bytes, and b64enc of binary round-trips', () => {
    const raw = Buffer.from([0, 255, 1, 128, 10]);
    const out = renderTemplate({ data: { k: '{{ e | b64dec }}', back: '{{ e | b64dec | b64enc }}' } }, { e: b(raw.toString('base64')) }, 1024);
    expect(out.k?.equals(raw)).toBe(true);
    expect(out.back?.toString()).toBe(raw.toString('base64'));
  });

  it('keeps keys named like Object.prototype members as plain own keys', () => {
    const out = renderTemplate({ data: JSON.parse('{"__proto__":"{{ a }}","constructor":"x"}') as Record<string, string> }, values({ a: 'v' }), 1024);
    expect(Object.keys(out).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });

  it('lists the keys it reads', () => {
    expect([...referencedKeys({ data: { a: '{{ x }}-{{ y ~ "z" ~ x | b64enc }}', b: 'lit' } })].sort()).toEqual(['x', 'y']);
  });
});

describe('the sandbox: nothing but the synced keys', () => {
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
  ];
  it.each(escapes)('%s is an unknown key', (tpl) => {
    const e = errorOf(() => render({ k: tpl }, { user: 'u' }));
    expect(e.message).toMatch(/^spec\.target\.template\.data\["k"\] line 1 column 4: unknown key "/);
    expect(e.message).toContain('(the synced keys: user)');
  });

  it.each([
    ['{{ user[0] }}', 'expected ~, | or }} here'],
    ['{{ user() }}', 'expected ~, | or }} here'],
    ['{{ user | constructor }}', 'unknown filter "constructor"'],
    ['{{ user | __proto__ }}', 'unknown filter "__proto__"'],
    ['{{ user | toString }}', 'unknown filter "toString"'],
    ['{{#each user}}x{{/each}}', 'expected a key name or a "string" here'],
    ['{{> partial }}', 'expected a key name or a "string" here'],
    ['{% include "/etc/passwd" %}{{ user', 'not closed with }}'],
    ['{{ `id` }}', 'expected a key name'],
  ])('%s is refused: %s', (tpl, what) => {
    expect(errorOf(() => render({ k: tpl }, { user: 'u' })).message).toContain(what);
  });

  it('reads no property of the values object, own or inherited', () => {
    const v = Object.create({ inherited: b('no') }) as Record<string, Buffer>;
    v.own = b('yes');
    expect(errorOf(() => renderTemplate({ data: { k: '{{ inherited }}' } }, v, 100)).message).toContain('unknown key "inherited"');
    expect(renderTemplate({ data: { k: '{{ own }}' } }, v, 100).k?.toString()).toBe('yes');
  });
});

describe('bounds', () => {
  it('refuses output over the limit, counting keys, values and every filter step', () => {
    const v = { big: 'x'.repeat(600) };
    expect(errorOf(() => render({ k: '{{ big }}{{ big }}' }, v, 1000)).message).toMatch(/line 1 column 10: the rendered content is over 1000 bytes \(spec\.target\.maxSizeBytes\)/);
    // b64enc chained grows by 4/3 each: stopped at the filter that crosses the limit.
    const e = errorOf(() => render({ k: '{{ big | b64enc | b64enc | b64enc }}' }, v, 1000));
    expect(e.message).toMatch(/column 19: the rendered content is over 1000 bytes/);
    expect(render({ k: '{{ big }}' }, v, 601)).toEqual({ k: v.big });
    expect(() => render({ k: '{{ big }}' }, v, 600)).toThrow(TemplateError);
  });

  it('bounds a blow-up by repetition: many expressions of one large value', () => {
    const v = { big: 'y'.repeat(100_000) };
    const tpl = '{{ big }}'.repeat(2000);
    expect(errorOf(() => render({ k: tpl }, v, 1 << 20)).message).toMatch(/line 1 column \d+: the rendered content is over 1048576 bytes/);
  });

  it('refuses a template longer than the limit', () => {
    expect(errorOf(() => parseTemplate('k', 'x'.repeat(MAX_TEMPLATE_CHARS + 1))).message).toContain(`longer than ${MAX_TEMPLATE_CHARS} characters`);
  });
});

describe('errors name key, line and column and never a value', () => {
  it('locates the problem on later lines', () => {
    const e = errorOf(() => render({ 'app.yaml': 'a: 1\nb: {{ user }}\n  c: {{ pasword | yaml }}\n' }, { user: 'u', password: 'p' }));
    expect(e.message).toBe('spec.target.template.data["app.yaml"] line 3 column 9: unknown key "pasword" (the synced keys: password, user)');
    expect(e.code).toBe('ESS_TEMPLATE');
    expect(e.reason).toBe('TemplateError');
    expect(e.retryable).toBe(false);
  });

  it.each([
    ['{{ user', /line 1 column 8: the expression opened with \{\{ is not closed/],
    ['{{ user | }}', /line 1 column 11: expected a filter name after \|/],
    ['{{ user | nope }}', /column 11: unknown filter "nope" \(filters: b64enc, b64dec, json, yaml, trim, upper, lower\)/],
    ['{{ "open }}', /column 4: a string literal is not closed/],
    ['{{ "\\x" }}', /column 4: a string literal is not a valid JSON string/],
    ['{{}}', /column 3: expected a key name/],
  ])('%s', (tpl, re) => {
    expect(errorOf(() => render({ k: tpl }, { user: 'u' })).message).toMatch(re);
  });

  it('a filter failing on a planted value says what, not the value', () => {
    const secret = canary('tpl');
    const bin = Buffer.from([0xff, 0xfe, 0x00]);
    for (const [tpl, v, what] of [
      ['{{ s | b64dec }}', b(secret), 'filter b64dec: its input is not base64'],
      ['{{ s | upper }}', bin, 'filter upper: its input is not UTF-8 text'],
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
