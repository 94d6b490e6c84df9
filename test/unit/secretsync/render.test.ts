// spec.target.template through the planner: the Secret holds the rendered keys, the version
// follows the rendered content (not unused synced keys), a template error is Ready=False
// TemplateError without a value, and envelope mode seals only the keys the template uses.
import { findCondition } from '../../../src/api/conditions.js';
import { contentHmac } from '../../../src/secretsync/content.js';
import { whatIsDue } from '../../../src/secretsync/due.js';
import type { Observed } from '../../../src/secretsync/observe.js';
import { planSync, type ReadOutcome } from '../../../src/secretsync/plan.js';
import { renderRead } from '../../../src/secretsync/render.js';
import type { SecretSync } from '../../../src/api/types.js';
import { canary, leaksIn } from '../../helpers/canary.js';
import { aSecretSync, content, keysFor, observed, planWrites as writes, remembered, syncedStatus, T0, writtenSecret } from './fixtures.js';

const later = new Date(T0.getTime() + 60_000);
const template = { data: { url: 'postgres://{{ user }}:{{ password }}@{{ host }}/app', mode: 'literal' } };
const templated = (extra: Partial<NonNullable<SecretSync['spec']['target']>> = {}) => aSecretSync({ target: { template, ...extra } });
const source = (password: string, other = 'o1') => content({ user: 'app', password, host: 'db', other });
const ok = (c: ReturnType<typeof content>): ReadOutcome => ({ ok: true, content: c, sourceVersions: { db: '1' } });

function run(o: Observed, read: ReadOutcome) {
  const due = whatIsDue(o);
  return planSync(o, due, due.read ? renderRead(o.ss, read) : undefined);
}

/** A SecretSync synced once with source `c`: status and Secret hold the rendered content. */
function synced(ss: SecretSync, c: ReturnType<typeof content>): Observed {
  const rendered = (renderRead(ss, ok(c)) as { content: ReturnType<typeof content> }).content;
  const s = { ...ss, status: syncedStatus(ss, rendered) };
  return observed({ ss: s, target: writtenSecret(s, rendered), memory: remembered(T0), now: later });
}

test('the Secret holds exactly the rendered keys', () => {
  const ss = templated();
  const plan = run(observed({ ss }), ok(source('pw')));
  expect(writes(plan)).toEqual(['secret create', 'status', 'event Synced']);
  const data = plan.secret?.kind === 'create' ? plan.secret.secret.data : undefined;
  expect(Object.keys(data ?? {}).sort()).toEqual(['mode', 'url']);
  expect(Buffer.from(data?.url ?? '', 'base64').toString()).toBe('postgres://app:pw@db/app');
  expect(plan.status?.contentHmac).toBe(contentHmac(keysFor(ss).content, content({ url: 'postgres://app:pw@db/app', mode: 'literal' })));
});

test('a change of a synced key the template does not use writes nothing', () => {
  const o = synced(templated(), source('pw', 'o1'));
  const plan = run(o, ok(source('pw', 'o2')));
  expect(plan.result).toBe('unchanged');
  expect(writes(plan)).toEqual([]);
});

test('a change of a used key is a new version', () => {
  const o = synced(templated(), source('pw'));
  const plan = run(o, ok(source('pw2')));
  expect(plan.status?.version).toBe(2);
  expect(writes(plan)).toEqual(['secret patch', 'status', 'event Synced']);
});

test('a template error is Ready=False TemplateError naming key and line, no value, nothing written', () => {
  const secret = canary('tpl');
  const ss = aSecretSync({ target: { template: { data: { cfg: 'a: 1\nb: {{#b64dec}}{{ password }}{{/b64dec}}' } } } });
  const plan = run(observed({ ss }), ok(content({ password: secret })));
  expect(writes(plan)).toEqual(['status', 'event TemplateError']);
  const ready = findCondition(plan.status?.conditions, 'Ready');
  expect(ready).toMatchObject({ status: 'False', reason: 'TemplateError' });
  expect(ready?.message).toContain('spec.target.template.data["cfg"] line 2 column 4: filter b64dec: its input is not base64');
  expect(leaksIn(JSON.stringify(plan.status) + JSON.stringify(plan.events), secret)).toEqual([]);
});

test('envelope mode: the read keeps what is sealed, only the keys the template uses', () => {
  const ss = templated({ encryption: { kek: { awsKms: { sourceRef: { name: 'aws' }, keyId: 'alias/k' } } } });
  const r = renderRead(ss, ok(source('pw')));
  if (!r?.ok) throw new Error('expected a rendered read');
  expect(Object.keys(r.content).sort()).toEqual(['mode', 'url']);
  expect(Object.keys(r.rendered?.values ?? {}).sort()).toEqual(['host', 'password', 'user']);
  expect(r.rendered?.template).toEqual(template);
});

test('without a template the read is untouched', () => {
  const read = ok(source('pw'));
  expect(renderRead(aSecretSync(), read)).toBe(read);
});
