// Rollout decisions: each dependent workload is rolled once per new version, and nothing
// (a reconcile, a restart, a relist) rolls it again; dependents, the in-use hold and the
// event mapping.
import { ROLLOUT_FROM_ANNOTATION } from '../../../src/api/annotations.js';
import type { RolloutSpec, RolloutTargetStatus, SecretSync, WorkloadKind } from '../../../src/api/types.js';
import type { KubeWorkload } from '../../../src/secretsync/ports.js';
import {
  dependents,
  inUseBy,
  mayRoll,
  planRollout,
  syncsAffectedBy,
  usesOf,
  workloadChanged,
  type RolloutPlan,
} from '../../../src/secretsync/rollout.js';
import { aSecretSync, T0 } from './fixtures.js';

const KEY = 'secretsync.io/version-db';
const at = (s: number) => new Date(T0.getTime() + s * 1000);

interface WOpts {
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  replicas?: number;
  uses?: 'volume' | 'projected' | 'env' | 'envFrom' | 'init' | 'none';
  secret?: string;
  status?: KubeWorkload['status'];
  generation?: number;
  namespace?: string;
  deleting?: boolean;
}

/** A workload using Secret `db` through a volume, rolled out and healthy unless told otherwise. */
function aWorkload(kind: WorkloadKind, name: string, o: WOpts = {}): KubeWorkload {
  const secret = o.secret ?? 'db';
  const uses = o.uses ?? 'volume';
  const replicas = o.replicas ?? 2;
  const generation = o.generation ?? 1;
  const container = {
    name: 'app',
    ...(uses === 'env' ? { env: [{ name: 'P', valueFrom: { secretKeyRef: { name: secret, key: 'password' } } }] } : {}),
    ...(uses === 'envFrom' ? { envFrom: [{ secretRef: { name: secret } }] } : {}),
  };
  const volumes =
    uses === 'volume'
      ? [{ name: 'v', secret: { secretName: secret } }]
      : uses === 'projected'
        ? [{ name: 'v', projected: { sources: [{ secret: { name: 'other' } }, { secret: { name: secret } }] } }]
        : [];
  const healthy: KubeWorkload['status'] =
    kind === 'DaemonSet'
      ? { observedGeneration: generation, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3, numberReady: 3 }
      : kind === 'StatefulSet'
        ? { observedGeneration: generation, replicas, updatedReplicas: replicas, readyReplicas: replicas, currentRevision: 'r1', updateRevision: 'r1' }
        : { observedGeneration: generation, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas };
  return {
    kind,
    metadata: { name, namespace: o.namespace ?? 'ns', generation, ...(o.deleting ? { deletionTimestamp: T0.toISOString() } : {}) },
    spec: {
      ...(kind !== 'DaemonSet' ? { replicas } : {}),
      template: {
        metadata: { labels: { app: name, ...o.labels }, ...(o.annotations ? { annotations: o.annotations } : {}) },
        spec: {
          volumes,
          containers: [container],
          ...(uses === 'init' ? { initContainers: [{ name: 'i', envFrom: [{ secretRef: { name: secret } }] }] } : {}),
        },
      },
    },
    status: o.status ?? healthy,
  };
}

function aSync(rollout: RolloutSpec | undefined, version: number | undefined, prev?: RolloutTargetStatus[], name = 'db'): SecretSync {
  const ss = aSecretSync(rollout ? { rollout } : {}, { name });
  return { ...ss, status: { ...(version !== undefined ? { version } : {}), ...(prev ? { rollout: { targets: prev } } : {}) } };
}

/** The workload after the patch reached the cluster and its controller finished rolling. */
function applied(w: KubeWorkload, p: RolloutPlan): KubeWorkload {
  const mine = p.patches.filter((x) => x.kind === w.kind && x.name === w.metadata.name);
  if (mine.length === 0) return w;
  const annotations = { ...w.spec.template.metadata?.annotations };
  for (const x of mine) annotations[x.key] = x.value;
  const generation = (w.metadata.generation ?? 0) + 1;
  return {
    ...w,
    metadata: { ...w.metadata, generation },
    spec: { ...w.spec, template: { ...w.spec.template, metadata: { ...w.spec.template.metadata, annotations } } },
    status: { ...w.status, observedGeneration: generation },
  };
}

/** The next reconcile's SecretSync: the plan's targets recorded, maybe a new version. */
const next = (ss: SecretSync, p: RolloutPlan, version = ss.status?.version): SecretSync => ({
  ...ss,
  status: { ...ss.status, ...(version !== undefined ? { version } : {}), rollout: { targets: p.targets } },
});

const auto = { auto: true };

describe('usesOf', () => {
  test.each([
    ['volume', ['volume']],
    ['projected', ['volume']],
    ['env', ['env']],
    ['envFrom', ['env']],
    ['init', ['env']],
    ['none', []],
  ] as const)('%s', (uses, want) => {
    expect(usesOf(aWorkload('Deployment', 'api', { uses }), 'db', 'db')).toEqual(want);
  });

  test('another Secret is no use', () => {
    expect(usesOf(aWorkload('Deployment', 'api', { secret: 'other' }), 'db', 'db')).toEqual([]);
  });

  test('injection needs the label and the sync named in the annotation list', () => {
    const inject = (labels: Record<string, string>, list: string) =>
      usesOf(aWorkload('Deployment', 'api', { uses: 'none', labels, annotations: { 'secretsync.io/inject': list } }), 'db-secret', 'db');
    expect(inject({ 'secretsync.io/inject': 'true' }, 'cache, db,')).toEqual(['injection']);
    expect(inject({ 'secretsync.io/inject': 'true' }, 'dbx,cache')).toEqual([]);
    expect(inject({}, 'db')).toEqual([]);
  });

  test('all uses at once, in a fixed order', () => {
    const w = aWorkload('Deployment', 'api', { uses: 'env', labels: { 'secretsync.io/inject': 'true' }, annotations: { 'secretsync.io/inject': 'db' } });
    w.spec.template.spec?.volumes?.push({ name: 'v', secret: { secretName: 'db' } });
    expect(usesOf(w, 'db', 'db')).toEqual(['volume', 'env', 'injection']);
  });
});

describe('dependents', () => {
  const ws = [
    aWorkload('StatefulSet', 'store'),
    aWorkload('Deployment', 'web', { secret: 'other' }),
    aWorkload('Deployment', 'api'),
    aWorkload('Deployment', 'elsewhere', { namespace: 'other' }),
  ];

  test('no spec.rollout: none', () => {
    expect(dependents(aSync(undefined, 1), ws)).toEqual([]);
  });

  test('auto: every workload of the namespace using the target, sorted', () => {
    expect(dependents(aSync(auto, 1), ws).map((d) => `${d.ref.kind}/${d.ref.name}`)).toEqual(['Deployment/api', 'StatefulSet/store']);
  });

  test('auto follows spec.target.name', () => {
    const ss = { ...aSync(auto, 1), spec: { ...aSync(auto, 1).spec, target: { name: 'other' } } };
    expect(dependents(ss, ws).map((d) => d.ref.name)).toEqual(['web']);
  });

  test('targets: a named one using the Secret; one not using it is notUsing; a missing one without a workload', () => {
    const ss = aSync({ targets: [{ kind: 'Deployment', name: 'web' }, { kind: 'DaemonSet', name: 'gone' }, { kind: 'StatefulSet', name: 'store' }] }, 1);
    expect(dependents(ss, ws)).toEqual([
      { ref: { kind: 'DaemonSet', name: 'gone' } },
      { ref: { kind: 'Deployment', name: 'web' }, workload: ws[1], notUsing: true },
      { ref: { kind: 'StatefulSet', name: 'store' }, workload: ws[0] },
    ]);
  });

  test('auto and targets together, each once', () => {
    const ss = aSync({ auto: true, targets: [{ kind: 'Deployment', name: 'api' }, { kind: 'Deployment', name: 'web' }] }, 1);
    expect(dependents(ss, ws).map((d) => `${d.ref.name}${d.notUsing ? ' (not using)' : ''}`)).toEqual(['api', 'web (not using)', 'store']);
  });

  test('a named target in another namespace does not count', () => {
    const ss = aSync({ targets: [{ kind: 'Deployment', name: 'elsewhere' }] }, 1);
    expect(dependents(ss, ws)).toEqual([{ ref: { kind: 'Deployment', name: 'elsewhere' } }]);
  });
});

describe('mayRoll: a named target is rolled only when it uses the target or its owner opted in', () => {
  const optIn = (list: string) => ({ [ROLLOUT_FROM_ANNOTATION]: list });
  const withMeta = (w: KubeWorkload, annotations: Record<string, string>): KubeWorkload => ({ ...w, metadata: { ...w.metadata, annotations } });
  test.each([
    ['a volume of the target', aWorkload('Deployment', 'x', { uses: 'volume' }), true],
    ['a projected volume source of the target', aWorkload('Deployment', 'x', { uses: 'projected' }), true],
    ['env from the target', aWorkload('Deployment', 'x', { uses: 'env' }), true],
    ['envFrom the target', aWorkload('Deployment', 'x', { uses: 'envFrom' }), true],
    ['an init container taking env from it', aWorkload('Deployment', 'x', { uses: 'init' }), true],
    ['injection of the sync (label + annotation)', aWorkload('Deployment', 'x', { uses: 'none', labels: { 'secretsync.io/inject': 'true' }, annotations: { 'secretsync.io/inject': 'db' } }), true],
    ['the inject annotation without the label', aWorkload('Deployment', 'x', { uses: 'none', annotations: { 'secretsync.io/inject': 'db' } }), false],
    ['nothing', aWorkload('Deployment', 'x', { uses: 'none' }), false],
    ['another Secret', aWorkload('Deployment', 'x', { secret: 'other' }), false],
    ['opt-in naming the sync', withMeta(aWorkload('Deployment', 'x', { uses: 'none' }), optIn('cache, db')), true],
    ['opt-in naming other syncs', withMeta(aWorkload('Deployment', 'x', { uses: 'none' }), optIn('dbx,cache')), false],
    ['opt-in written on the pod template, not the workload', aWorkload('Deployment', 'x', { uses: 'none', annotations: optIn('db') }), false],
  ] as const)('%s: %s', (_what, w, want) => {
    expect(mayRoll(aSync({ targets: [{ kind: 'Deployment', name: 'x' }] }, 1), w)).toBe(want);
  });
});

describe('planRollout: a named target not using the target', () => {
  const named: RolloutSpec = { targets: [{ kind: 'Deployment', name: 'other-team' }] };
  const unrelated = aWorkload('Deployment', 'other-team', { uses: 'none' });
  const message =
    'Deployment/other-team neither uses Secret "db" nor injects SecretSync "db", so it is not rolled: use the Secret in its pod template (volume, env, envFrom) or inject the SecretSync, or let its owner opt in with the annotation secretsync.io/rollout-from: "db" on Deployment/other-team';

  test('a new version does not patch it; NotUsing, and the condition says why and how to fix it', () => {
    const p = planRollout(aSync(named, 2, [{ kind: 'Deployment', name: 'other-team', version: 1, state: 'Complete' }]), [unrelated], at(0));
    expect(p.patches).toEqual([]);
    expect(p.targets).toEqual([{ kind: 'Deployment', name: 'other-team', version: 1, state: 'NotUsing', message }]);
    expect(p.condition).toEqual({ status: 'False', reason: 'TargetNotUsing', message: `spec.rollout.targets: ${message}` });
  });

  test('stable: the same input gives the same plan, version after version', () => {
    const p1 = planRollout(aSync(named, 2), [unrelated], at(0));
    const p2 = planRollout(next(aSync(named, 3), p1), [unrelated], at(60));
    expect(p2.patches).toEqual([]);
    expect(p2.targets).toEqual(p1.targets);
  });

  test('next to a used one: the used one rolls, the other is reported', () => {
    const ss = aSync({ targets: [{ kind: 'Deployment', name: 'api' }, { kind: 'Deployment', name: 'other-team' }] }, 2, [
      { kind: 'Deployment', name: 'api', version: 1, state: 'Complete' },
    ]);
    const p = planRollout(ss, [aWorkload('Deployment', 'api'), unrelated], at(0));
    expect(p.patches.map((x) => x.name)).toEqual(['api']);
    expect(p.condition?.reason).toBe('TargetNotUsing');
  });

  test('after its owner opts in: first seen (not rolled), then rolled by the next version', () => {
    const before = planRollout(aSync(named, 1), [unrelated], at(0));
    const consenting = { ...unrelated, metadata: { ...unrelated.metadata, annotations: { [ROLLOUT_FROM_ANNOTATION]: 'db' } } };
    const seen = planRollout(next(aSync(named, 1), before), [consenting], at(10));
    expect(seen.patches).toEqual([]);
    expect(seen.targets[0]).toMatchObject({ version: 1, state: 'Complete' });
    const rolled = planRollout(next(aSync(named, 2), seen), [consenting], at(20));
    expect(rolled.patches).toEqual([{ kind: 'Deployment', namespace: 'ns', name: 'other-team', key: KEY, value: '2' }]);
  });

  test('auto never reports workloads that do not use the target', () => {
    expect(planRollout(aSync(auto, 2), [unrelated], at(0))).toEqual({ patches: [], targets: [] });
  });
});

describe('inUseBy', () => {
  test('live workloads using the target, with how', () => {
    const ws = [
      aWorkload('Deployment', 'api', { uses: 'env' }),
      aWorkload('Deployment', 'scaled-down', { replicas: 0 }),
      aWorkload('StatefulSet', 'store', { replicas: 0 }),
      aWorkload('StatefulSet', 'db-1'),
      aWorkload('DaemonSet', 'agent'),
      aWorkload('Deployment', 'leaving', { deleting: true }),
      aWorkload('Deployment', 'unrelated', { secret: 'x' }),
      aWorkload('Deployment', 'far', { namespace: 'other' }),
    ];
    expect(inUseBy(aSync(undefined, 1), ws)).toEqual([
      { kind: 'DaemonSet', name: 'agent', uses: ['volume'] },
      { kind: 'Deployment', name: 'api', uses: ['env'] },
      { kind: 'StatefulSet', name: 'db-1', uses: ['volume'] },
    ]);
  });

  test('replicas default to 1', () => {
    const w = aWorkload('Deployment', 'api');
    delete w.spec.replicas;
    expect(inUseBy(aSync(undefined, 1), [w])).toHaveLength(1);
  });

  test('none', () => {
    expect(inUseBy(aSync(undefined, 1), [])).toEqual([]);
  });
});

describe('planRollout: once per version', () => {
  test('no dependents: nothing, no condition', () => {
    expect(planRollout(aSync(auto, 3), [aWorkload('Deployment', 'x', { secret: 'y' })], at(0))).toEqual({ patches: [], targets: [] });
    expect(planRollout(aSync(undefined, 3), [aWorkload('Deployment', 'api')], at(0))).toEqual({ patches: [], targets: [] });
  });

  test('first sight: no patch; the workload started with the current Secret', () => {
    const p = planRollout(aSync(auto, 3), [aWorkload('Deployment', 'api')], at(0));
    expect(p.patches).toEqual([]);
    expect(p.targets).toEqual([{ kind: 'Deployment', name: 'api', version: 3, state: 'Complete', replicas: 2, updatedReplicas: 2, readyReplicas: 2 }]);
    expect(p.condition).toEqual({ status: 'True', reason: 'RolloutComplete', message: '1 workload on version 3' });
    expect(p.requeueAfterMs).toBeUndefined();
  });

  test('a new version patches once; the next reconcile, a restart and a relist do not', () => {
    let w = aWorkload('Deployment', 'api');
    let ss = aSync(auto, 1);
    ss = next(ss, planRollout(ss, [w], at(0)), 2); // first sight at 1, then version 2
    const p = planRollout(ss, [w], at(10));
    expect(p.patches).toEqual([{ kind: 'Deployment', namespace: 'ns', name: 'api', key: KEY, value: '2' }]);
    expect(p.targets).toEqual([
      { kind: 'Deployment', name: 'api', version: 2, lastRolloutTime: at(10).toISOString(), state: 'Progressing', replicas: 2, updatedReplicas: 2, readyReplicas: 2 },
    ]);
    expect(p.condition?.reason).toBe('RolloutInProgress');
    expect(p.requeueAfterMs).toBe(10_000);

    // The cache has not seen the patch yet: the recorded version alone prevents a second one.
    ss = next(ss, p);
    expect(planRollout(ss, [w], at(11)).patches).toEqual([]);
    // The patch arrived and the Deployment rolled.
    w = applied(w, p);
    const done = planRollout(ss, [w], at(20));
    expect(done.patches).toEqual([]);
    expect(done.targets[0]).toMatchObject({ version: 2, state: 'Complete', lastRolloutTime: at(10).toISOString() });
    expect(done.condition).toEqual({ status: 'True', reason: 'RolloutComplete', message: '1 workload on version 2' });
    ss = next(ss, done);
    // Restart / relist / leader change: the same status and annotation, later.
    const again = planRollout(ss, [structuredClone(w)], at(5000));
    expect(again.patches).toEqual([]);
    expect(again.targets).toEqual(done.targets); // stable: the status is not rewritten
    expect(again.condition).toEqual(done.condition);
  });

  test('the status write was lost after the patch: the annotation alone prevents a second patch', () => {
    const w = aWorkload('Deployment', 'api', { annotations: { [KEY]: '2' } });
    const ss = aSync(auto, 2, [{ kind: 'Deployment', name: 'api', version: 1, state: 'Complete' }]);
    const p = planRollout(ss, [w], at(0));
    expect(p.patches).toEqual([]);
    expect(p.targets[0]?.version).toBe(2);
  });

  test('a version bump patches every dependent once, each kind', () => {
    const ws = [aWorkload('Deployment', 'api'), aWorkload('StatefulSet', 'store'), aWorkload('DaemonSet', 'agent')];
    let ss = aSync(auto, 4);
    ss = next(ss, planRollout(ss, ws, at(0)), 5);
    const p = planRollout(ss, ws, at(1));
    expect(p.patches.map((x) => `${x.kind}/${x.name} ${x.key}=${x.value}`)).toEqual([
      `DaemonSet/agent ${KEY}=5`,
      `Deployment/api ${KEY}=5`,
      `StatefulSet/store ${KEY}=5`,
    ]);
  });

  test('two syncs on one workload use their own annotation keys', () => {
    const w = aWorkload('Deployment', 'api', { uses: 'none', labels: { 'secretsync.io/inject': 'true' }, annotations: { 'secretsync.io/inject': 'db,cache' } });
    const db = aSync(auto, 2, [{ kind: 'Deployment', name: 'api', version: 1, state: 'Complete' }], 'db');
    const cache = aSync(auto, 7, [{ kind: 'Deployment', name: 'api', version: 6, state: 'Complete' }], 'cache');
    expect(planRollout(db, [w], at(0)).patches).toEqual([{ kind: 'Deployment', namespace: 'ns', name: 'api', key: 'secretsync.io/version-db', value: '2' }]);
    expect(planRollout(cache, [w], at(0)).patches).toEqual([{ kind: 'Deployment', namespace: 'ns', name: 'api', key: 'secretsync.io/version-cache', value: '7' }]);
  });

  test('an annotation at V is recorded without a patch (a status write lost after the patch)', () => {
    const ss = aSync(auto, 3, [{ kind: 'Deployment', name: 'api', version: 2, state: 'Complete' }]);
    const p = planRollout(ss, [aWorkload('Deployment', 'api', { annotations: { [KEY]: '3' } })], at(0));
    expect(p.patches).toEqual([]);
    expect(p.targets[0]?.version).toBe(3);
  });

  test('an annotation naming a version this SecretSync does not hold is set to V (hand-written, or left by an earlier SecretSync of the name)', () => {
    const rolled = aSync(auto, 3, [{ kind: 'Deployment', name: 'api', version: 2, state: 'Complete' }]);
    expect(planRollout(rolled, [aWorkload('Deployment', 'api', { annotations: { [KEY]: '9' } })], at(0)).patches).toEqual([expect.objectContaining({ value: '3' })]);
    // Recreated: versions restart at 1, the template still says 5; first sight rolls it to 1, once.
    const recreated = aSync(auto, 1);
    const p = planRollout(recreated, [aWorkload('Deployment', 'api', { annotations: { [KEY]: '5' } })], at(0));
    expect(p.patches).toEqual([expect.objectContaining({ value: '1' })]);
    const again = planRollout({ ...recreated, status: { ...recreated.status, rollout: { targets: p.targets } } }, [aWorkload('Deployment', 'api', { annotations: { [KEY]: '1' } })], at(1000));
    expect(again.patches).toEqual([]);
  });

  test('a recorded version at or past V without the annotation (template replaced): no patch', () => {
    const ss = aSync(auto, 3, [{ kind: 'Deployment', name: 'api', version: 3, lastRolloutTime: T0.toISOString(), state: 'Complete' }]);
    const p = planRollout(ss, [aWorkload('Deployment', 'api')], at(100));
    expect(p.patches).toEqual([]);
    expect(p.targets[0]).toMatchObject({ version: 3, lastRolloutTime: T0.toISOString(), state: 'Complete' });
  });

  test('an annotation that is not a version number is overwritten', () => {
    const ss = aSync(auto, 3);
    const p = planRollout(ss, [aWorkload('Deployment', 'api', { annotations: { [KEY]: '2026-01-01T00:00:00Z' } })], at(0));
    expect(p.patches.map((x) => x.value)).toEqual(['3']);
  });

  test('nothing synced yet (no status.version): nothing to roll', () => {
    const p = planRollout(aSync(auto, undefined), [aWorkload('Deployment', 'api')], at(0));
    expect(p).toEqual({ patches: [], targets: [] });
  });

  test('a workload being deleted is not patched', () => {
    const ss = aSync(auto, 3, [{ kind: 'Deployment', name: 'api', version: 2, state: 'Complete' }]);
    const p = planRollout(ss, [aWorkload('Deployment', 'api', { deleting: true })], at(0));
    expect(p.patches).toEqual([]);
    expect(p.targets[0]).toMatchObject({ version: 2, message: 'Deployment/api is being deleted' });
  });
});

describe('planRollout: minInterval', () => {
  test('V→V+1→V+2 within the interval: one patch, to V+2, when it has passed', () => {
    const w0 = aWorkload('Deployment', 'api');
    let ss = aSync({ auto: true, minInterval: '10m' }, 1);
    ss = next(ss, planRollout(ss, [w0], at(0)), 2);
    const first = planRollout(ss, [w0], at(0));
    expect(first.patches.map((x) => x.value)).toEqual(['2']);
    const w = applied(w0, first);
    ss = next(ss, first, 3);
    const wait1 = planRollout(ss, [w], at(60));
    expect(wait1.patches).toEqual([]);
    expect(wait1.requeueAfterMs).toBe(540_000);
    expect(wait1.targets[0]).toMatchObject({ version: 2, lastRolloutTime: at(0).toISOString() });
    expect(wait1.condition).toMatchObject({ status: 'False', reason: 'RolloutInProgress' });
    expect(wait1.condition?.message).toContain('Deployment/api on version 2');
    ss = next(ss, wait1, 4);
    const wait2 = planRollout(ss, [w], at(300));
    expect(wait2.patches).toEqual([]);
    expect(wait2.requeueAfterMs).toBe(300_000);
    ss = next(ss, wait2);
    const after = planRollout(ss, [w], at(600));
    expect(after.patches.map((x) => x.value)).toEqual(['4']);
    expect(after.targets[0]).toMatchObject({ version: 4, lastRolloutTime: at(600).toISOString(), state: 'Progressing' });
  });

  test('the wait is stable: the same input gives the same targets', () => {
    const ss = aSync({ auto: true, minInterval: '1h' }, 3, [{ kind: 'Deployment', name: 'api', version: 2, lastRolloutTime: T0.toISOString(), state: 'Complete' }]);
    const w = aWorkload('Deployment', 'api', { annotations: { [KEY]: '2' } });
    expect(planRollout(ss, [w], at(10)).targets).toEqual(planRollout(ss, [w], at(20)).targets);
  });

  test('no interval recorded (no lastRolloutTime): rolls now', () => {
    const ss = aSync({ auto: true, minInterval: '1h' }, 3, [{ kind: 'Deployment', name: 'api', version: 2, state: 'Complete' }]);
    expect(planRollout(ss, [aWorkload('Deployment', 'api')], at(0)).patches).toHaveLength(1);
  });
});

describe('planRollout: states and the condition', () => {
  const onV = (kind: WorkloadKind, name: string, status: KubeWorkload['status'], o: WOpts = {}) =>
    aWorkload(kind, name, { annotations: { [KEY]: '2' }, generation: 2, status, ...o });
  const plan = (ws: KubeWorkload[], now = at(30), last = T0.toISOString()) =>
    planRollout(
      aSync(
        auto,
        2,
        ws.map((w) => ({ kind: w.kind, name: w.metadata.name, version: 2, lastRolloutTime: last, state: 'Progressing' as const })),
      ),
      ws,
      now,
    );

  test('Deployment: Progressing until updated, available and total replicas match', () => {
    const p = plan([onV('Deployment', 'api', { observedGeneration: 2, replicas: 3, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2 })]);
    expect(p.targets[0]).toMatchObject({ state: 'Progressing', replicas: 2, updatedReplicas: 1, readyReplicas: 2 });
    expect(p.condition).toEqual({ status: 'False', reason: 'RolloutInProgress', message: 'rolling to version 2: Deployment/api 1/2 updated, 2/2 ready' });
    expect(p.requeueAfterMs).toBe(10_000);
  });

  test('Deployment: an old observedGeneration is Progressing even with matching counts', () => {
    const p = plan([onV('Deployment', 'api', { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 })]);
    expect(p.targets[0]?.state).toBe('Progressing');
  });

  test('Deployment: Complete', () => {
    const p = plan([onV('Deployment', 'api', { observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 })]);
    expect(p.targets[0]?.state).toBe('Complete');
    expect(p.requeueAfterMs).toBeUndefined();
  });

  test('Deployment with 0 replicas: Complete once observedGeneration caught up', () => {
    expect(plan([onV('Deployment', 'api', { observedGeneration: 2 }, { replicas: 0 })]).targets[0]?.state).toBe('Complete');
    expect(plan([onV('Deployment', 'api', { observedGeneration: 1 }, { replicas: 0 })]).targets[0]?.state).toBe('Progressing');
  });

  test('Deployment: Failed on ProgressDeadlineExceeded, with what to check', () => {
    const w = onV('Deployment', 'api', {
      observedGeneration: 2,
      replicas: 3,
      updatedReplicas: 1,
      availableReplicas: 2,
      conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "api-1" has timed out progressing.' }],
    });
    const p = plan([w, onV('Deployment', 'web', { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 })]);
    expect(p.targets[0]?.state).toBe('Failed');
    expect(p.condition?.status).toBe('False');
    expect(p.condition?.reason).toBe('ProgressDeadlineExceeded');
    expect(p.condition?.message).toContain('Deployment/api: exceeded its progress deadline (600s)');
    expect(p.condition?.message).toContain('kubectl rollout status deployment/api');
    expect(p.condition?.message).not.toContain('web');
  });

  test('StatefulSet: Progressing, Complete by revision or by updated replicas, Failed after 600 s', () => {
    const rolling = { observedGeneration: 2, replicas: 2, updatedReplicas: 1, readyReplicas: 2, currentRevision: 'r1', updateRevision: 'r2' };
    expect(plan([onV('StatefulSet', 's', rolling)]).targets[0]?.state).toBe('Progressing');
    expect(plan([onV('StatefulSet', 's', { ...rolling, currentRevision: 'r2' })]).targets[0]?.state).toBe('Complete');
    expect(plan([onV('StatefulSet', 's', { ...rolling, updatedReplicas: 2 })]).targets[0]?.state).toBe('Complete');
    expect(plan([onV('StatefulSet', 's', { ...rolling, currentRevision: 'r2', readyReplicas: 1 })]).targets[0]?.state).toBe('Progressing');
    const late = plan([onV('StatefulSet', 's', rolling)], at(600));
    expect(late.targets[0]?.state).toBe('Failed');
    expect(late.condition?.reason).toBe('ProgressDeadlineExceeded');
    expect(late.condition?.message).toContain('StatefulSets have no progress deadline');
    expect(late.condition?.message).toContain('kubectl rollout status statefulset/s');
  });

  test('DaemonSet: Progressing, Complete, Failed after 600 s', () => {
    const rolling = { observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 2, numberAvailable: 3, numberReady: 3 };
    const p = plan([onV('DaemonSet', 'd', rolling)]);
    expect(p.targets[0]).toMatchObject({ state: 'Progressing', replicas: 3, updatedReplicas: 2, readyReplicas: 3 });
    expect(plan([onV('DaemonSet', 'd', { ...rolling, updatedNumberScheduled: 3 })]).targets[0]?.state).toBe('Complete');
    expect(plan([onV('DaemonSet', 'd', rolling)], at(601)).targets[0]?.state).toBe('Failed');
  });

  test('StatefulSet not rolled by us (first sight) never times out', () => {
    const w = aWorkload('StatefulSet', 's', { status: { observedGeneration: 1, replicas: 2, updatedReplicas: 1, readyReplicas: 1 } });
    expect(planRollout(aSync(auto, 2), [w], at(100_000)).targets[0]?.state).toBe('Progressing');
  });

  test('a missing named target: Missing, TargetNotFound', () => {
    const ss = aSync({ targets: [{ kind: 'Deployment', name: 'api' }, { kind: 'StatefulSet', name: 'gone' }] }, 2);
    const p = planRollout(ss, [aWorkload('Deployment', 'api')], at(0));
    expect(p.targets[1]).toEqual({ kind: 'StatefulSet', name: 'gone', version: 0, state: 'Missing', message: 'StatefulSet/gone not found in namespace ns' });
    expect(p.condition).toEqual({ status: 'False', reason: 'TargetNotFound', message: 'spec.rollout.targets not found: StatefulSet/gone' });
  });

  test('several workloads complete', () => {
    const ws = [aWorkload('Deployment', 'a'), aWorkload('Deployment', 'b')];
    expect(planRollout(aSync(auto, 2), ws, at(0)).condition?.message).toBe('2 workloads on version 2');
  });

  test('no secret value or timestamp-ish output changes when nothing changed', () => {
    const ws = [aWorkload('Deployment', 'a'), aWorkload('StatefulSet', 'b')];
    const ss = next(aSync(auto, 2), planRollout(aSync(auto, 2), ws, at(0)));
    expect(planRollout(ss, ws, at(1))).toEqual(planRollout(ss, ws, at(99)));
  });
});

describe('syncsAffectedBy', () => {
  const sync = (name: string, rollout: RolloutSpec | undefined, o: { deleting?: boolean; target?: string } = {}): SecretSync => {
    const ss = aSecretSync(rollout ? { rollout, ...(o.target ? { target: { name: o.target } } : {}) } : o.target ? { target: { name: o.target } } : {}, {
      name,
      ...(o.deleting ? { deletionTimestamp: T0.toISOString() } : {}),
    });
    return ss;
  };
  const w = aWorkload('Deployment', 'api'); // uses Secret db

  test('named target and every SecretSync whose target it uses (rollout, in-use finalizer, deletion hold); not others', () => {
    const syncs = [
      sync('named', { targets: [{ kind: 'Deployment', name: 'api' }] }, { target: 'unrelated' }),
      sync('other-kind', { targets: [{ kind: 'StatefulSet', name: 'api' }] }, { target: 'unrelated' }),
      sync('db', auto),
      sync('auto-unused', auto, { target: 'x' }),
      sync('no-rollout', undefined, { target: 'db' }),
      sync('leaving', undefined, { deleting: true, target: 'db' }),
      sync('leaving-unused', undefined, { deleting: true, target: 'y' }),
    ];
    expect(syncsAffectedBy(w, syncs)).toEqual(['ns/db', 'ns/leaving', 'ns/named', 'ns/no-rollout']);
  });

  test('SecretSyncs of another namespace never', () => {
    expect(syncsAffectedBy(aWorkload('Deployment', 'api', { namespace: 'other' }), [sync('db', auto)])).toEqual([]);
  });
});

describe('workloadChanged', () => {
  const w = aWorkload('Deployment', 'api');
  test('a resync of the same object is no change', () => {
    expect(workloadChanged(w, structuredClone(w))).toBe(false);
    expect(workloadChanged(w, { ...w, metadata: { ...w.metadata, resourceVersion: '99', labels: { x: 'y' } } })).toBe(false);
  });
  test.each([
    ['replicas', (x: KubeWorkload) => void (x.spec.replicas = 5)],
    ['generation', (x: KubeWorkload) => void (x.metadata.generation = 7)],
    ['template', (x: KubeWorkload) => void (x.spec.template.metadata = { annotations: { [KEY]: '3' } })],
    ['status', (x: KubeWorkload) => void (x.status = { ...x.status, readyReplicas: 0 })],
    ['deletion', (x: KubeWorkload) => void (x.metadata.deletionTimestamp = T0.toISOString())],
    ['rollout opt-in', (x: KubeWorkload) => void (x.metadata.annotations = { [ROLLOUT_FROM_ANNOTATION]: 'db' })],
  ])('%s changed', (_what, change) => {
    const b = structuredClone(w);
    change(b);
    expect(workloadChanged(w, b)).toBe(true);
  });
});

describe('a named target created after the SecretSync', () => {
  test('Missing first, then first seen (recorded, not rolled)', () => {
    const named: RolloutSpec = { targets: [{ kind: 'Deployment', name: 'api' }] };
    const before = planRollout(aSync(named, 1), [], at(0));
    expect(before.targets).toEqual([expect.objectContaining({ state: 'Missing' })]);
    const after = planRollout(aSync(named, 1, before.targets), [aWorkload('Deployment', 'api')], at(1000));
    expect(after.patches).toEqual([]);
    expect(after.targets[0]).toMatchObject({ version: 1 });
  });
});
