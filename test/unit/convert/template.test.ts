// ESO's Go templates translated into ours (Mustache with filter sections): the text written,
// the refusals and their reasons, and what the translations render to (with our renderer,
// src/api/template.ts) compared with what Go's text/template with sprig renders for the ESO
// template (the expected strings below were produced by text/template and sprig v3.3.0 with
// ESO's missingkey=error, from the values below).
import { renderTemplate } from '../../../src/api/template.js';
import { translateTemplate } from '../../../src/convert/index.js';

test.each([
  ['{{ .a }}', '{{a}}'],
  ['{{ index . "tls.crt" | b64enc }}', '{{#b64enc}}{{tls.crt}}{{/b64enc}}'],
  ['{{ .a | quote }}/{{ toJson .b }}', '{{#json}}{{a}}{{/json}}/{{#json}}{{b}}{{/json}}'],
  ['{{ printf "%s:%s" .u .p | b64enc }}', '{{#b64enc}}{{u}}:{{p}}{{/b64enc}}'],
  ['{{ printf "%s@%s" .u .h }}', '{{u}}@{{h}}'],
  ['{{ print .u "-" .h }}', '{{u}}-{{h}}'],
  ['a {{- .a -}} b', 'a{{a}}b'],
  ['{{ upper (trim .a) }}{{/* note */}}', '{{#upper}}{{#trim}}{{a}}{{/trim}}{{/upper}}'],
  ['{{ .a | trim | upper | b64enc }}', '{{#b64enc}}{{#upper}}{{#trim}}{{a}}{{/trim}}{{/upper}}{{/b64enc}}'],
  ['{{ printf "%s%%" .a }}', '{{a}}%'],
  // A filter of literals only is applied now: no section, so no line for Mustache to drop.
  ['x\n{{ "" | b64enc }}\ny', 'x\n\ny'],
  ['{{ "ci" | upper }}:{{ .a }}', 'CI:{{a}}'],
  ['{{ "YWJj" | b64dec }}', 'abc'],
  // `{{` in text, or a `{` just before a tag, is written between set-delimiter tags.
  ['{{ "{{" }}', '{{=<% %>=}}{{<%={{ }}=%>'],
  ['{ {{- .a }}', '{{=<% %>=}}{<%={{ }}=%>{{a}}'],
  ['{{ printf "{%s}" .a }}', '{{=<% %>=}}{<%={{ }}=%>{{a}}}'],
  ['{ {{- "" -}} {', '{{=<% %>=}}{{<%={{ }}=%>'],
  ['{"a":{{ .a | toJson }}}', '{"a":{{#json}}{{a}}{{/json}}}'],
  ['end {', 'end {'],
  // A newline inside a filter is fine when the tags' lines show something else too.
  ['a{{ printf "\\n%s\\n" .a | b64enc }}b', 'a{{#b64enc}}\n{{a}}\n{{/b64enc}}b'],
])('translates the ESO template %j to %j', (eso, ours) => {
  expect(translateTemplate(eso)).toBe(ours);
});

test.each([
  ['{{ .a | sha256sum }}', /the function sha256sum/],
  ['{{ range $k, $v := . }}{{ end }}', /range/],
  ['{{ if .a }}x{{ end }}', /\{\{ if \}\}/],
  ['{{ .a.b }}', /nested field/],
  ['{{ printf "%d" .a }}', /printf verb %d/],
  ['{{ printf "%s:%s" (.a | b64enc) .b | upper }}', /concatenation whose parts are already filtered/],
  ['{{ $x := .a }}', /variables/],
  ['{{ index . "a b" }}', /the key "a b" has characters our keys do not allow/],
  ['{{ .a }}{{', /an action opened with \{\{ and never closed/],
  ['{{ .upper }}', /the key "upper", which ours would read as the filter upper/],
  ['{{ "%%%" | b64dec }}', /b64dec of the literal "%%%", which fails: its input is not base64/],
  ['{{ "abc" | b64dec }}', /not UTF-8 text/],
  // Mustache's standalone rule would drop these lines (and their newline); Go keeps them.
  ['{{ printf "%s\\n" .a | b64enc }}\n', /line 2\).*standalone/],
  ['{{ printf "\\n%s" .a | b64enc }}', /line 1\).*standalone/],
  ['  {{ printf "%s\\n  " .a | upper }}', /line 2\).*standalone/],
  [`x: {{ .a }}${' '.repeat(300)}`, /more than 256 white-space characters/],
])('refuses %j saying why', (eso, why) => {
  expect(() => translateTemplate(eso)).toThrow(why);
});

const values: Record<string, string> = {
  user: 'ci-bot',
  token: 's3cr:t',
  password: 'p@ss "w\\rd"',
  'tls.crt': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  name: '  Grüne Welt \n',
  ca: 'Y2EtcGVt',
  'db-password': 'x/y',
};

// ESO template → what text/template + sprig renders from `values`.
const GO: [string, string][] = [
  ['{"auths":{"registry.example.com":{"auth":"{{ printf "%s:%s" .user .token | b64enc }}"}}}', '{"auths":{"registry.example.com":{"auth":"Y2ktYm90OnMzY3I6dA=="}}}'],
  ['{"user":{{ .user | toJson }},"pass":{{ .password | quote }}}', '{"user":"ci-bot","pass":"p@ss \\"w\\\\rd\\""}'],
  ['{{ .name | trim | upper }}', 'GRÜNE WELT'],
  ['{{- .name | trim | upper }}-{{ lower .user -}}', 'GRÜNE WELT-ci-bot'],
  ['{{ index . "tls.crt" }}', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'],
  ['{{ index . "tls.crt" | b64enc }}', 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo='],
  ['postgres://{{ .user }}:{{ index . "db-password" }}@db/app', 'postgres://ci-bot:x/y@db/app'],
  ['{{ .ca | b64dec }}', 'ca-pem'],
  ['literal {{ "{{" }} and {{ "{" }}{{ .user }}{', 'literal {{ and {ci-bot{'],
  ['a\n{{ "" | b64enc }}\nb', 'a\n\nb'],
  ['{{ printf "%s@%s" .user .token }}', 'ci-bot@s3cr:t'],
  ['user: {{ .user | quote }}\npass: {{ toJson .password }}\n', 'user: "ci-bot"\npass: "p@ss \\"w\\\\rd\\""\n'],
];

test.each(GO)('the translation of %j renders what Go renders', (eso, go) => {
  const ours = translateTemplate(eso);
  const v = Object.fromEntries(Object.entries(values).map(([k, s]) => [k, Buffer.from(s, 'utf8')]));
  expect(renderTemplate({ data: { k: ours } }, v, 1 << 20).k!.toString('utf8')).toBe(go);
});
