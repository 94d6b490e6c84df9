// Table tests of the pure pipeline for the features beside a plain sync: observed state
// in, what the planners decide out (the seal plan, the rotation's writes, the plan), with
// the I/O between them played by hand as the reconciler would carry it out. Envelope mode,
// rotation, rollouts and grants; plain syncs are in plan.test.ts.
import { FINALIZER, ROTATE_NOW_ANNOTATION } from '../../../src/api/annotations.js';
import type { SecretSync } from '../../../src/api/types.js';
import { heldVersions, sealEntry, type VersionEnvelope } from '../../../src/crypto/envelope.js';
import { InvalidSpecError, SourceAuthError, SourceUnavailableError } from '../../../src/errors.js';
import { readFor, whatIsDue } from '../../../src/secretsync/due.js';
import type { KubeRole, KubeRoleBinding } from '../../../src/secretsync/grants.js';
import { kekRefOf } from '../../../src/secretsync/kek.js';
import type { Observed } from '../../../src/secretsync/observe.js';
import { planSync, type Plan, type ReadOutcome, type SealOutcome } from '../../../src/secretsync/plan.js';
import type { KubeSecret, KubeWorkload } from '../../../src/secretsync/ports.js';
import { pendingStatus, withRotationStep, type RotationOutcome } from '../../../src/secretsync/rotate.js';
import { newPendingRotation, planRotation, rotationDone, rotationFailed, rotationWrites } from '../../../src/secretsync/rotation/plan.js';
import { planSeal, type SealPlan } from '../../../src/secretsync/seal-plan.js';
import { renderRead } from '../../../src/secretsync/render.js';
import { asWritten, aSecretSync, content, observed, planWrites as writes, remembered, syncedStatus, T0, vaultSource, writtenSecret } from './fixtures.js';

const C1 = content({ password: 'p1' });
const C2 = content({ password: 'p2' });
const later = (ms: number) => new Date(T0.getTime() + ms);
const ok = (c = C1, sourceVersions: Record<string, string> = { db: '1' }): ReadOutcome => ({ ok: true, content: c, sourceVersions });
const condition = (p: Plan, type: string) => p.status?.conditions?.find((c) => c.type === type);

/** The write a plan makes to the target, as the API server then holds it. */
function applied(p: Plan, rv = '6'): KubeSecret {
  if (p.secret?.kind !== 'create') throw new Error(`expected a create, got ${p.secret?.kind}`);
  return asWritten(p.secret.secret, rv);
}

describe('envelope mode', () => {
  const TRANSIT = { kek: { vaultTransit: { sourceRef: { name: 'vault' }, key: 'secretsync', agentAuth: { kubernetes: { role: 'app' } } } } };
  const sealedSync = (maxSizeBytes?: number): SecretSync => aSecretSync({ target: { encryption: TRANSIT, ...(maxSizeBytes ? { maxSizeBytes } : {}) } });
  /** `ss` with its KEK reachable through the vault source, `latest` its newest version known. */
  const withKek = (ss: SecretSync, o: Partial<Observed> = {}, latest = '1'): Observed => {
    const ref = kekRefOf(ss);
    if (!ref) throw new Error('no KEK');
    return observed({ ss, kek: { ref, source: vaultSource, latest }, ...o });
  };

  /** A key service as the reconciler uses it: a fixed data key, wrapped keys named for what made them. */
  function keyService(p: SealPlan, kekVersion: string): SealOutcome | undefined {
    switch (p.kind) {
      case 'none':
        return undefined;
      case 'fail':
        return { ok: false, error: p.error };
      case 'keep':
        return { ok: true, envelope: p.envelope, contentHmac: p.contentHmac };
      case 'rewrap': {
        const [current, ...previous] = heldVersions(p.envelope).map((v) =>
          p.versions.includes(v.version) ? { ...v, wrappedKey: `${v.wrappedKey}, rewrapped`, kek: { ...p.kek.want, version: kekVersion } } : v,
        ) as [VersionEnvelope, ...VersionEnvelope[]];
        return { ok: true, envelope: { current, ...(previous.length ? { previous } : {}) }, contentHmac: p.contentHmac };
      }
      case 'mint': {
        const { version } = p.binding;
        const current = { version, kek: { ...p.kek.want, version: kekVersion }, wrappedKey: `minted for ${version}`, ...sealEntry(Buffer.alloc(32, 7), p.binding, p.content, p.template) };
        return { ok: true, envelope: { current, ...(p.previous ? { previous: p.previous } : {}) }, contentHmac: p.contentHmac };
      }
    }
  }

  /** due → (read) → seal plan → (key service) → plan. */
  function run(o: Observed, read: ReadOutcome = ok()): { seal: SealPlan; plan: Plan } {
    const due = whatIsDue(o);
    const r = due.read && due.failure === undefined ? read : undefined;
    const sp = planSeal(o, due, r);
    return { seal: sp, plan: planSync(o, due, r, keyService(sp, o.kek?.latest ?? '1')) };
  }

  /** Synced once with C1 (version 1 under KEK version 1), seen again at `now`. */
  function synced(now = later(30_001), latest = '1'): Observed {
    const ss = sealedSync();
    const first = run(withKek(ss)).plan;
    return withKek({ ...ss, status: first.status }, { target: applied(first), memory: remembered(T0), now }, latest);
  }

  test.each<[string, () => Observed, ReadOutcome, SealPlan['kind'], string[]]>([
    ['a new SecretSync: a data key is minted for version 1', () => withKek(sealedSync()), ok(C1), 'mint', ['secret create', 'status', 'event Synced']],
    ['the same content at a refresh: the envelope is kept, nothing is written', () => synced(), ok(C1), 'keep', []],
    ['new content: a data key is minted for version 2', () => synced(), ok(C2, { db: '2' }), 'mint', ['secret patch', 'status', 'event Synced']],
    ['a newer KEK version and nothing to read: the data key is re-wrapped', () => synced(later(1), '2'), ok(C1), 'rewrap', ['secret patch', 'status', 'event Rewrapped']],
    ['content over maxSizeBytes: no key-service call is planned, SizeLimitExceeded', () => withKek(sealedSync(3)), ok(C1), 'none', ['status', 'event SizeLimitExceeded']],
  ])('%s', (_, make, read, kind, expected) => {
    const { seal: sp, plan } = run(make(), read);
    expect(sp.kind).toBe(kind);
    expect(writes(plan)).toEqual(expected);
  });

  describe('with target.immutable: the envelope Secret never changes in place', () => {
    /** Synced once, immutable, with C1 under KEK version 1; seen again at `now` with `latest` the KEK's newest version. */
    function immutableSynced(now = later(30_001), latest = '1'): Observed {
      const ss = aSecretSync({ target: { encryption: TRANSIT, immutable: true } });
      const first = run(withKek(ss)).plan;
      expect(first.secret).toMatchObject({ kind: 'create', secret: { immutable: true } });
      return withKek({ ...ss, status: first.status }, { target: applied(first), memory: remembered(T0), now }, latest);
    }

    test('a newer KEK version: no re-wrap due, nothing written', () => {
      const o = immutableSynced(later(1), '2');
      expect(whatIsDue(o).rewrap).toBeFalsy();
      const { seal: sp, plan } = run(o);
      expect(sp.kind).toBe('none');
      expect(writes(plan)).toEqual([]);
    });

    test('the same content at a refresh, even with a newer KEK version: the envelope is kept, nothing written', () => {
      const { seal: sp, plan } = run(immutableSynced(later(30_001), '2'), ok(C1));
      expect(sp.kind).toBe('keep');
      expect(writes(plan)).toEqual([]);
    });

    test('new content: no data key minted, TargetImmutable, the Secret untouched', () => {
      const { seal: sp, plan } = run(immutableSynced(), ok(C2, { db: '2' }));
      expect(sp.kind).toBe('none');
      expect(plan.secret).toBeUndefined();
      expect(writes(plan)).toEqual(['status', 'event TargetImmutable']);
      expect(condition(plan, 'Ready')?.message).toMatch(/holds version 1.*would be version 2/);
    });
  });

  test('version 2 keeps version 1 readable and says which KEK version wraps it', () => {
    const { seal: sp, plan } = run(synced(), ok(C2, { db: '2' }));
    expect(sp).toMatchObject({ kind: 'mint', binding: { version: 2, namespace: 'ns', secretsync: 'db', uid: 'u1' }, previous: [{ version: 1 }] });
    expect(plan.status).toMatchObject({ version: 2, keyId: 'vault-transit:transit/secretsync:v1' });
  });

  test('with a template: the used keys and the template are sealed; the version follows the rendered content', () => {
    const template = { data: { url: 'db://{{ user }}:{{ password }}' } };
    const ss = aSecretSync({ target: { encryption: TRANSIT, template } });
    const src = (password: string, other: string) => content({ user: 'u', password, other });
    const step = (o: Observed, c: ReturnType<typeof content>) => run(o, renderRead(o.ss, ok(c)) as ReadOutcome);
    const first = step(withKek(ss), src('p1', 'o1'));
    expect(first.seal).toMatchObject({ kind: 'mint', template });
    expect(Object.keys((first.seal as { content: object }).content).sort()).toEqual(['password', 'user']);
    const secret = applied(first.plan);
    expect(Buffer.from(secret.data?.format ?? '', 'base64').toString()).toBe('secretsync.io/envelope/v2');
    const o = withKek({ ...ss, status: first.plan.status }, { target: secret, memory: remembered(T0), now: later(30_001) });
    // An unused key changed: the rendered content is the same, the envelope kept, nothing written.
    const quiet = step(o, src('p1', 'o2'));
    expect(quiet.seal.kind).toBe('keep');
    expect(writes(quiet.plan)).toEqual([]);
    // A used key changed: version 2, minted with the template again.
    const moved = step(o, src('p2', 'o2'));
    expect(moved.seal).toMatchObject({ kind: 'mint', template, binding: { version: 2 } });
    expect(moved.plan.status?.version).toBe(2);
  });

  test('a re-wrap keeps the version and the ciphertext, and records the new KEK version', () => {
    const o = synced(later(1), '2');
    const { seal: sp, plan } = run(o);
    expect(sp).toMatchObject({ kind: 'rewrap', versions: [1] });
    expect(plan.status).toMatchObject({ version: 1, keyId: 'vault-transit:transit/secretsync:v2' });
    expect(plan.result).toBe('synced');
  });

  test('oversize content is terminal and costs no data key: the size is checked before the seal is planned', () => {
    const { seal: sp, plan } = run(withKek(sealedSync(3)), ok(content({ password: 'too long' })));
    expect(sp).toEqual({ kind: 'none' });
    expect(plan.error).toMatchObject({ retryable: false });
    expect(condition(plan, 'Ready')).toMatchObject({ status: 'False', reason: 'SizeLimitExceeded' });
    expect(plan.secret).toBeUndefined();
  });

  test('a KEK source that is missing fails before the read: no seal planned', () => {
    const ss = sealedSync();
    const o = withKek(ss);
    const { seal: sp, plan } = run({ ...o, kek: { ...o.kek!, source: undefined } });
    expect(sp).toEqual({ kind: 'none' });
    expect(condition(plan, 'Ready')).toMatchObject({ status: 'False', reason: 'SourceRefNotFound' });
  });
});

describe('rotation', () => {
  const ROTATION = { schedule: '0 * * * *', keys: ['password'] };
  const HOUR = 3_600_000;
  /** Synced at version 1, created at T0 (the schedule's first tick is at T0 + 1 h), seen at `now`. */
  function rotating(now: Date, spec: Partial<SecretSync['spec']> = {}, annotations?: Record<string, string>): Observed {
    const ss = aSecretSync({ rotation: ROTATION, ...spec }, { creationTimestamp: T0.toISOString(), ...(annotations ? { annotations } : {}) });
    const s = { ...ss, status: syncedStatus(ss, C1) };
    return observed({ ss: s, target: writtenSecret(s, C1), memory: remembered(now), now });
  }
  const written = (version: string, outcome = 'written') => [{ path: 'db', outcome, version }];

  test('at the tick: one write per rotated path, the pending record first, then the new version synced and recorded', () => {
    const o = rotating(later(HOUR));
    const { due, step } = withRotationStep(o, whatIsDue(o));
    expect(step).toMatchObject({ kind: 'start', trigger: 'schedule' });
    if (step.kind !== 'start') return;
    const rp = planRotation(o.ss, o.source, { canWrite: true });
    expect(rp).toMatchObject({ kind: 'rotate', generator: { length: 32, charset: 'alphanumeric' } }); // the generator's defaults
    if (rp.kind !== 'rotate') return;
    const pending = newPendingRotation(step, rp.targets, { db: '1' }, 'r1', o.now);
    expect(pending).toEqual({ id: 'r1', trigger: 'schedule', startedAt: o.now.toISOString(), basedOn: { db: '1' } });
    expect(rotationWrites(rp.targets, pending)).toEqual([{ path: 'db', basedOn: '1', properties: ['password'], whole: false }]);
    // The reconciler writes the pending record, then the source; then the read must be a fresh one.
    const recorded = { ...o, ss: { ...o.ss, status: pendingStatus(o.ss, pending, step.rotateNowHandled) } };
    expect(readFor(due, true, o.now.getTime())).toEqual({ reason: 'rotated', notBefore: o.now.getTime() });
    const plan = planSync(recorded, due, ok(C2, { db: '2' }), undefined, rotationDone(step, pending, rp.targets, written('2')));
    expect(writes(plan)).toEqual(['secret patch', 'status', 'event Synced', 'event Rotated']);
    expect(plan.status).toMatchObject({ version: 2, lastRotationTime: o.now.toISOString() });
    expect(plan.status?.pendingRotation).toBeUndefined();
    expect(condition(plan, 'Rotated')).toMatchObject({ status: 'True', reason: 'Rotated' });
  });

  test('before the tick: no rotation, nothing read', () => {
    const o = rotating(later(HOUR - 1));
    const { due, step } = withRotationStep(o, whatIsDue(o));
    expect(step).toEqual({ kind: 'none' });
    expect(readFor(due, false, o.now.getTime())).toBeUndefined();
  });

  test('an interrupted rotation is resumed: its own earlier write ("moved") is not another writer; a key added meanwhile waits', () => {
    const spec = {
      data: [
        { key: 'password', remoteRef: { path: 'db', property: 'password' } },
        { key: 'user', remoteRef: { path: 'users', property: 'name' } },
      ],
      rotation: { ...ROTATION, keys: ['password', 'user'], generator: { length: 16, charset: 'hex' as const } },
    };
    const o0 = rotating(later(HOUR + 5_000), spec);
    const pending = { id: 'r1', trigger: 'schedule' as const, startedAt: later(HOUR).toISOString(), basedOn: { db: '1' } };
    const o = { ...o0, ss: { ...o0.ss, status: { ...o0.ss.status, pendingRotation: pending } } };
    const { due, step } = withRotationStep(o, whatIsDue(o));
    expect(step).toEqual({ kind: 'resume', pending });
    if (step.kind !== 'resume') return;
    const rp = planRotation(o.ss, o.source, { canWrite: true });
    expect(rp).toMatchObject({ kind: 'rotate', generator: { length: 16, charset: 'hex' } });
    if (rp.kind !== 'rotate') return;
    expect(rotationWrites(rp.targets, pending)).toEqual([{ path: 'db', basedOn: '1', properties: ['password'], whole: false }]);
    const plan = planSync(o, due, ok(C2, { db: '2' }), undefined, rotationDone(step, pending, rp.targets, written('2', 'moved')));
    expect(condition(plan, 'Rotated')).toMatchObject({ status: 'True', reason: 'Rotated' });
    expect(plan.status?.pendingRotation).toBeUndefined();
    expect(plan.status?.version).toBe(2);
  });

  test('a source write that fails: Rotated=False, the pending record kept for the retry, Ready untouched, retried with backoff', () => {
    const o = rotating(later(HOUR));
    const { due, step } = withRotationStep(o, whatIsDue(o));
    if (step.kind !== 'start') throw new Error('expected a start');
    const pending = newPendingRotation(step, [{ path: 'db', properties: ['password'], whole: false, keys: ['password'] }], { db: '1' }, 'r1', o.now);
    const recorded = { ...o, ss: { ...o.ss, status: pendingStatus(o.ss, pending, step.rotateNowHandled) } };
    const failed = rotationFailed(recorded.ss, step, new SourceAuthError('permission denied'), true);
    expect(readFor(due, failed.ok, o.now.getTime())).toBeUndefined();
    const plan = planSync(recorded, due, undefined, undefined, failed);
    expect(writes(plan)).toEqual(['status', 'event RotationFailed']);
    expect(plan.error).toMatchObject({ retryable: true });
    expect(condition(plan, 'Rotated')).toMatchObject({ status: 'False', reason: 'SourceAuthFailed' });
    expect(condition(plan, 'Ready')?.status).toBe('True');
    expect(plan.status?.pendingRotation).toEqual(pending);
  });

  test('a source that cannot write secrets: refused before any I/O, and the refusal drops the pending record', () => {
    const o = rotating(later(HOUR));
    const rp = planRotation(o.ss, o.source, { canWrite: false });
    expect(rp).toMatchObject({ kind: 'fail', cause: expect.any(InvalidSpecError) });
    const cannotConnect = new SourceUnavailableError('no client');
    expect(planRotation(o.ss, o.source, { error: cannotConnect })).toEqual({ kind: 'fail', cause: cannotConnect });
    const step = { kind: 'resume' as const, pending: { id: 'r1', trigger: 'schedule' as const, startedAt: T0.toISOString(), basedOn: {} } };
    expect(rotationFailed(o.ss, step, rp.kind === 'fail' ? rp.cause : undefined, true)).toMatchObject({ ok: false, dropPending: true });
  });

  // rotate-now: recorded as handled once it ran, or once it failed where retrying cannot help.
  test.each<[string, unknown, boolean, string | undefined]>([
    ['failed before its pending record, retryable: not handled, tried again', new SourceUnavailableError('vault down'), false, undefined],
    ['failed before its pending record, terminal: handled (no retry can help)', new InvalidSpecError('cannot write secrets'), false, 'x'],
    ['failed after its pending record: handled (the pending rotation is finished instead)', new SourceUnavailableError('vault down'), true, 'x'],
  ])('rotate-now %s', (_, cause, recorded, handled) => {
    const o = rotating(later(60_000), {}, { [ROTATE_NOW_ANNOTATION]: 'x' });
    const { due, step } = withRotationStep(o, whatIsDue(o));
    expect(step).toEqual({ kind: 'start', trigger: 'rotate-now', rotateNowHandled: 'x' });
    if (step.kind !== 'start') return;
    const outcome: RotationOutcome = rotationFailed(o.ss, step, cause, recorded);
    expect(planSync(o, due, undefined, undefined, outcome).status?.rotateNowHandled).toBe(handled);
  });

  test('rotate-now that ran: handled, and not started again', () => {
    const o = rotating(later(60_000), {}, { [ROTATE_NOW_ANNOTATION]: 'x' });
    const { due, step } = withRotationStep(o, whatIsDue(o));
    if (step.kind !== 'start') throw new Error('expected a start');
    const targets = [{ path: 'db', properties: ['password'], whole: false, keys: ['password'] }];
    const pending = newPendingRotation(step, targets, { db: '1' }, 'r1', o.now);
    const recorded = { ...o, ss: { ...o.ss, status: pendingStatus(o.ss, pending, step.rotateNowHandled) } };
    const plan = planSync(recorded, due, ok(C2, { db: '2' }), undefined, rotationDone(step, pending, targets, written('2')));
    expect(plan.status?.rotateNowHandled).toBe('x');
    const after = { ...o, now: later(120_000), ss: { ...o.ss, status: plan.status } };
    expect(withRotationStep(after, whatIsDue(after)).step).toEqual({ kind: 'none' });
  });
});

describe('rollouts', () => {
  /** A Deployment mounting Secret `db`, rolled out and healthy; `annotations` on its pod template. */
  const deployment = (name: string, annotations?: Record<string, string>): KubeWorkload => ({
    kind: 'Deployment',
    metadata: { name, namespace: 'ns', generation: 1 },
    spec: {
      replicas: 1,
      template: { metadata: { labels: { app: name }, ...(annotations ? { annotations } : {}) }, spec: { volumes: [{ name: 'v', secret: { secretName: 'db' } }], containers: [{ name: 'app' }] } },
    },
    status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 },
  });
  /** Synced at version 1 with spec.rollout.auto, its dependents on version 1, seen at a refresh. */
  function rolled(workloads: KubeWorkload[]): Observed {
    const ss = aSecretSync({ rollout: { auto: true } }, { finalizers: [FINALIZER] });
    const s = { ...ss, status: syncedStatus(ss, C1) };
    return observed({ ss: s, target: writtenSecret(s, C1), workloads, memory: remembered(T0), now: later(30_001) });
  }
  const run = (o: Observed, read: ReadOutcome) => planSync(o, whatIsDue(o), read);

  test.each<[string, KubeWorkload[], ReadOutcome, string[]]>([
    ['new content: each dependent rolled once to the new version, after the Secret, before the status', [deployment('api', { 'secretsync.io/version-db': '1' }), deployment('web', { 'secretsync.io/version-db': '1' })], ok(C2, { db: '2' }), ['secret patch', 'roll Deployment/api to 2', 'roll Deployment/web to 2', 'status', 'event Synced', 'event RolloutTriggered', 'event RolloutTriggered']],
    ['the same content: nothing rolled (dependents first seen are recorded only)', [deployment('api')], ok(C1), ['status']],
    ['a dependent already on the new version (a status write lost after the patch): not rolled again', [deployment('api', { 'secretsync.io/version-db': '2' })], ok(C2, { db: '2' }), ['secret patch', 'status', 'event Synced']],
  ])('%s', (_, workloads, read, expected) => {
    expect(writes(run(rolled(workloads), read))).toEqual(expected);
  });

  test('the new status records each rollout, and a rollout in progress is looked at again soon', () => {
    const plan = run(rolled([deployment('api', { 'secretsync.io/version-db': '1' })]), ok(C2, { db: '2' }));
    expect(plan.rollouts).toEqual([{ kind: 'Deployment', namespace: 'ns', name: 'api', key: 'secretsync.io/version-db', value: '2' }]);
    expect(plan.status?.rollout?.targets).toMatchObject([{ kind: 'Deployment', name: 'api', version: 2, state: 'Progressing' }]);
    expect(condition(plan, 'RolloutComplete')).toMatchObject({ status: 'False', reason: 'RolloutInProgress' });
    expect(plan.requeueAfterMs).toBeLessThanOrEqual(10_000);
  });

  test('a failed read rolls nothing', () => {
    const plan = run(rolled([deployment('api', { 'secretsync.io/version-db': '1' })]), { ok: false, error: new SourceUnavailableError('vault down') });
    expect(plan.rollouts).toBeUndefined();
  });
});

describe('grants (spec.access)', () => {
  const ACCESS = { access: { serviceAccounts: ['api', 'worker'] } };
  /** A Role / RoleBinding of a plan as the API server holds it once created. */
  const created = <T extends KubeRole | KubeRoleBinding>(plan: Plan, kind: 'Role' | 'RoleBinding'): T => {
    const g = plan.grants?.find((w) => w.op === 'create' && w.object.kind === kind);
    if (!g || g.op !== 'create') throw new Error(`no ${kind} created`);
    return { ...g.object.obj, metadata: { ...g.object.obj.metadata, uid: `${kind}-1`, resourceVersion: '3' } } as T;
  };
  /** Synced once with spec.access, its grants written, seen again at `now`. */
  function granted(now = later(1)): Observed {
    const ss = aSecretSync(ACCESS);
    const first = planSync(observed({ ss }), whatIsDue(observed({ ss })), ok());
    return observed({ ss: { ...ss, status: first.status }, target: applied(first), grant: { role: created<KubeRole>(first, 'Role'), binding: created<KubeRoleBinding>(first, 'RoleBinding') }, memory: remembered(T0), now });
  }
  const run = (o: Observed, read: ReadOutcome = ok()) => {
    const due = whatIsDue(o);
    return planSync(o, due, due.read && due.failure === undefined ? read : undefined);
  };

  test.each<[string, () => Observed, string[]]>([
    ['first sync: the Role and RoleBinding after the Secret they grant', () => observed({ ss: aSecretSync(ACCESS) }), ['secret create', 'create Role', 'create RoleBinding', 'status', 'event Synced']],
    ['in place: nothing written again', () => granted(later(30_001)), []],
    ['the RoleBinding deleted by someone, nothing to read: written again', () => ({ ...granted(), grant: { ...granted().grant, binding: undefined } }), ['create RoleBinding']],
    ['spec.access removed: both deleted, the binding first', () => {
      const o = granted();
      return { ...o, ss: { ...o.ss, spec: { ...o.ss.spec, access: undefined }, metadata: { ...o.ss.metadata, generation: 2 } } };
    }, ['delete RoleBinding', 'delete Role', 'status']],
    ['a target owned by someone else: TargetConflict, nothing granted', () => observed({ ss: aSecretSync(ACCESS), target: writtenSecret(aSecretSync({}, { uid: 'other' }), C1) }), ['status', 'event TargetConflict']],
  ])('%s', (_, make, expected) => {
    expect(writes(run(make()))).toEqual(expected);
  });

  test('the Role names exactly the target Secret and the SecretSync; the binding exactly the listed accounts', () => {
    const plan = run(observed({ ss: aSecretSync(ACCESS) }));
    const role = plan.grants?.find((g) => g.op === 'create' && g.object.kind === 'Role');
    expect(role).toMatchObject({ object: { obj: { rules: [{ resources: ['secrets'], resourceNames: ['db'] }, { resources: ['secretsyncs'], resourceNames: ['db'] }] } } });
    const binding = plan.grants?.find((g) => g.op === 'create' && g.object.kind === 'RoleBinding');
    expect(binding).toMatchObject({ object: { obj: { subjects: [{ name: 'api' }, { name: 'worker' }] } } });
  });
});
