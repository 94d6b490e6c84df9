// Envelope/v2 in the agent: an entry with a sealed template is opened and rendered before
// anything is written (the files are the template's keys); a template that does not render
// is ESS_AGENT_INVALID_CONTENT naming key and line, never a value. The Kubernetes reads and
// the KEK unwrap are stubs: what is under test is what prepare() makes of the entry.
import { AgentError } from '../../../src/agent/errors.js';
import { Deliverer } from '../../../src/agent/deliver.js';
import { MOUNT_ANNOTATION } from '../../../src/api/annotations.js';
import type { TargetTemplate } from '../../../src/api/template.js';
import { ENVELOPE_SECRET_TYPE, encodeEnvelope, randomDataKey, sealEntry } from '../../../src/crypto/envelope.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { KubeSecret } from '../../../src/secretsync/ports.js';
import { canary, leaksIn } from '../../helpers/canary.js';
import { LogSink } from '../../helpers/log-sink.js';

const ns = 'payments';
const uid = 'uid-1';
const b = (s: string) => Buffer.from(s, 'utf8');

function deliverer(template: TargetTemplate, values: Record<string, Buffer>): Deliverer {
  const dataKey = randomDataKey();
  const sealed = sealEntry(dataKey, { namespace: ns, secretsync: 'db', uid, version: 1 }, values, template);
  const secret: KubeSecret = {
    metadata: {
      name: 'db',
      namespace: ns,
      annotations: { [MOUNT_ANNOTATION]: '{"mode":"0400"}' },
      ownerReferences: [{ apiVersion: 'secretsync.io/v1alpha1', kind: 'SecretSync', name: 'db', uid, controller: true }],
    },
    type: ENVELOPE_SECRET_TYPE,
    data: encodeEnvelope({ current: { version: 1, kek: { type: 'aws-kms', region: 'r', keyId: 'k', version: 'arn' }, wrappedKey: 'w', ...sealed } }),
  };
  return new Deliverer({
    kube: { readSecret: async () => secret, readSecretSync: async () => ({ metadata: { name: 'db', uid } }) },
    keys: { unwrap: async () => Buffer.from(dataKey) },
    namespace: ns,
    dir: '/nonexistent',
    log: createLogger({ destination: new LogSink(), level: 'trace' }),
    self: { uid: 0, gids: [0] },
  });
}

test('the files are the rendered template keys', async () => {
  const pw = canary('agent-tpl');
  const d = deliverer({ data: { url: 'db://{{ user }}:{{ password }}@h', mode: 'literal' } }, { user: b('u'), password: b(pw) });
  const p = await d.prepare({ name: 'db', secret: 'db' });
  expect(Object.keys(p?.files ?? {}).sort()).toEqual(['mode', 'url']);
  expect(p?.files.url?.equals(b(`db://u:${pw}@h`))).toBe(true);
  expect(p?.files.mode?.toString()).toBe('literal');
});

test('a template that does not render is refused with key and line, no value', async () => {
  const pw = canary('agent-tpl');
  const d = deliverer({ data: { cfg: 'a\n{{#b64dec}}{{ password }}{{/b64dec}}' } }, { password: b(pw) });
  const err = await d.prepare({ name: 'db', secret: 'db' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AgentError);
  expect(err).toMatchObject({ code: 'ESS_AGENT_INVALID_CONTENT', retryable: false });
  expect((err as Error).message).toContain('spec.target.template.data["cfg"] line 2 column 1: filter b64dec: its input is not base64');
  expect(leaksIn((err as Error).message, pw)).toEqual([]);
});
