// act carries out a plan in the one write order and decides nothing: it stops at the first
// failed write, or at a create that finds the name taken, and says so; what follows is
// planned elsewhere (plan.ts, reconciler.test.ts for the whole round).
import type { SecretSync } from '../../../src/api/types.js';
import { KubernetesError } from '../../../src/errors.js';
import { createLogger } from '../../../src/observability/logger.js';
import { act, steps } from '../../../src/secretsync/act.js';
import type { Plan } from '../../../src/secretsync/plan.js';
import type { SyncWriter } from '../../../src/secretsync/ports.js';
import { LogSink } from '../../helpers/log-sink.js';
import { aSecretSync, content, desired, observed, planWrites, remembered, T0 } from './fixtures.js';

const ss = aSecretSync();
const o = observed({ ss });
const log = createLogger({ destination: new LogSink(), level: 'trace' });

/** A plan that makes every kind of write once. */
const everything: Plan = {
  finalizers: { list: ['secretsync.io/finalizer'], when: 'before' },
  secret: { kind: 'create', secret: desired(ss, content({ password: 'p1' })) },
  grants: [{ op: 'delete', kind: 'Role', namespace: 'ns', name: 'secretsync-db', uid: 'r1' }],
  rollouts: [{ kind: 'Deployment', namespace: 'ns', name: 'api', key: 'secretsync.io/version-db', value: '2' }],
  cleanups: [{ kind: 'delete', namespace: 'ns', name: 'old', uid: 's0' }],
  status: { version: 2 },
  events: [{ type: 'Normal', reason: 'Synced', message: 'synced' }],
  requeueAfterMs: 1000,
  result: 'synced',
  memory: remembered(T0),
  forceSyncHandled: undefined,
};

/** A writer that records each call, the resourceVersion it was given where it takes the SecretSync, and fails `failing` once. */
function recorder(opts: { create?: 'created' | 'exists'; failing?: string } = {}) {
  const calls: string[] = [];
  let rv = 10;
  const call = (name: string, s?: SecretSync) => {
    calls.push(s ? `${name} @${s.metadata.resourceVersion}` : name);
    if (name === opts.failing) throw new KubernetesError(`${name} refused`);
  };
  const w: SyncWriter = {
    createSecret: async () => {
      call('createSecret');
      return opts.create ?? 'created';
    },
    patchSecret: async () => call('patchSecret'),
    validateSecret: async () => call('validateSecret'),
    deleteSecret: async () => call('deleteSecret'),
    readSecret: async () => {
      call('readSecret');
      return undefined;
    },
    writeStatus: async (s) => {
      call('writeStatus', s);
      return String(++rv);
    },
    setFinalizers: async (s) => {
      call('setFinalizers', s);
      return String(++rv);
    },
    event: async (s, _type, reason) => call(`event ${reason}`, s),
    writeGrant: async () => call('writeGrant'),
    setTemplateAnnotation: async () => call('setTemplateAnnotation'),
  };
  return { w, calls };
}

test('the one write order: finalizer, Secret, grants, rollouts, cleanups, status, then events', () => {
  expect(planWrites(everything)).toEqual(['finalizer', 'secret create', 'delete Role', 'roll Deployment/api to 2', 'delete old', 'status', 'event Synced']);
  const removing: Plan = { ...everything, finalizers: { list: [], when: 'after' } };
  expect(steps(removing).map((s) => s.kind)).toEqual(['secret', 'grant', 'rollout', 'cleanup', 'finalizers', 'status', 'event']);
});

test('act makes the writes in that order, our own writes moving the resourceVersion it writes status with', async () => {
  const { w, calls } = recorder();
  const out = await act(o, everything, w, log);
  expect(calls).toEqual(['setFinalizers @10', 'createSecret', 'writeGrant', 'setTemplateAnnotation', 'deleteSecret', 'writeStatus @11', 'event Synced @12']);
  // It says what it rolled and leaves the SecretSync with the status it wrote (for the metrics).
  expect(out).toEqual({
    ss: expect.objectContaining({ metadata: expect.objectContaining({ resourceVersion: '12' }), status: everything.status }),
    rolled: everything.rollouts,
    statusWritten: true,
  });
});

test('a create that finds the name taken: act stops there and says so, without reading the Secret or deciding anything', async () => {
  const { w, calls } = recorder({ create: 'exists' });
  const out = await act(o, everything, w, log);
  expect(calls).toEqual(['setFinalizers @10', 'createSecret']);
  expect(out.taken).toEqual({ namespace: 'ns', name: 'db' });
  expect(out.failed).toBeUndefined();
  expect(out.ss.metadata.resourceVersion).toBe('11');
});

test('a failed write: act stops there, records nothing and sends no event', async () => {
  const { w, calls } = recorder({ failing: 'setTemplateAnnotation' });
  const out = await act(o, everything, w, log);
  expect(calls).toEqual(['setFinalizers @10', 'createSecret', 'writeGrant', 'setTemplateAnnotation']);
  expect(out.failed).toBeInstanceOf(KubernetesError);
  expect(out.rolled).toEqual([]); // the rollout's write failed
  expect([out.ss.status, out.statusWritten]).toEqual([o.ss.status, false]);
});
