// Properties of the injection webhook's patch (issue 21, item 4), for arbitrary pods
// (app and init containers, volumes, mounts, env, AWS identity variables, annotations
// with pins, watch and inject-containers) and SecretSync views, verified caller or not:
// - reinvocation: admitting the patched pod again admits it with an empty patch, so the
//   API server's reinvocation (or a second webhook run) applies the patch once;
// - the patch applies (test/helpers/json-patch.ts is strict like the API server);
// - the patched pod is one the API server accepts where the webhook is concerned: unique
//   container names, unique volume names, every mount names a volume, no two mounts of a
//   container at one path, no env variable twice in a container.
import fc from 'fast-check';
import { admitPod, type InjectOptions, type SyncView } from '../../../src/webhook/inject.js';
import type { Container, EnvVar, Pod, Volume, VolumeMount } from '../../../src/webhook/pod.js';
import { applyPatch } from '../../helpers/json-patch.js';

const NS = 'app';
const LONG = `a.${'b'.repeat(70)}.c`;
const SYNC_NAMES = ['db', 'api', 'a.b', 'a-b', LONG, 'cache'];
// Not the agents' own names (secretsync-agent-init, -watch): a pod's container under such a
// name is taken for ours (reported on issue 21: the API server then refuses the pod for a
// duplicate container name, where a refusal from the webhook could say why).
const CONTAINER_NAMES = ['app', 'proxy', 'side', 'migrate', 'setup'];

/** Mostly `good`, sometimes `bad`: refusals are covered without drowning the patches. */
const mostly = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>) => fc.oneof({ weight: 9, arbitrary: good }, { weight: 1, arbitrary: bad });

const mountOf: fc.Arbitrary<VolumeMount> = fc.oneof(
  fc.record({ name: fc.constantFrom('data', 'kube-api-access-x1'), mountPath: fc.constantFrom('/data', '/var/run/secrets/kubernetes.io/serviceaccount', '/var/run/secrets/kubernetes.io/serviceaccount/') }),
  // Mounts left by an earlier injection, and the pod's own mounts at our paths.
  fc.record({ name: fc.constantFrom('secretsync-db', 'secretsync-api', 'data'), mountPath: fc.constantFrom('/run/secrets/db', '/run/secrets/db/', '//run/secrets/api', '/run/secrets') }),
  fc.record({ name: fc.constant('aws-token'), mountPath: fc.constant('/var/run/secrets/eks.amazonaws.com/serviceaccount'), readOnly: fc.constant(true) }),
);

const envOf: fc.Arbitrary<EnvVar> = fc.oneof(
  fc.record({ name: fc.constantFrom('PASSWORD_FILE', 'TOKEN_FILE', 'DB_PASSWORD_FILE', 'HOME', 'USER_FILE'), value: fc.constantFrom('/x', 'y') }),
  fc.record({
    name: fc.constantFrom('AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_REGION', 'AWS_PROFILE'),
    value: fc.constantFrom('arn:aws:iam::123456789012:role/r', '/var/run/secrets/eks.amazonaws.com/serviceaccount/token', '/run/secrets/db/token', 'eu-west-1'),
  }),
);

const uniqueBy = <T>(a: fc.Arbitrary<T>, key: (t: T) => string, max: number) => fc.uniqueArray(a, { selector: key, maxLength: max });

const containerOf = (name: string): fc.Arbitrary<Container> =>
  fc.record(
    {
      name: fc.constant(name),
      image: fc.constant('app:1'),
      env: uniqueBy(envOf, (e) => e.name, 4),
      volumeMounts: uniqueBy(mountOf, (m) => m.mountPath.replace(/\/+/g, '/').replace(/(.)\/$/, '$1'), 3),
    },
    { requiredKeys: ['name', 'image'] },
  );

const volumeOf: fc.Arbitrary<Volume> = mostly(
  fc.constantFrom<Volume>(
    { name: 'data', emptyDir: {} },
    { name: 'kube-api-access-x1', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } },
    { name: 'aws-token', projected: { sources: [{ serviceAccountToken: { audience: 'sts.amazonaws.com', path: 'token' } }] } },
    // Ours, from an earlier invocation; and a pod's own volume under our name (a refusal).
    { name: 'secretsync-db', emptyDir: { medium: 'Memory', sizeLimit: '4Mi' } },
    { name: 'secretsync-vault-token', projected: { sources: [] } },
  ),
  fc.constant<Volume>({ name: 'secretsync-api', hostPath: { path: '/tmp' } }),
);

interface Case {
  pod: Pod;
  views: Record<string, SyncView | undefined>;
  o: InjectOptions;
}

const syncList = mostly(
  fc.uniqueArray(fc.constantFrom(...SYNC_NAMES), { minLength: 1, maxLength: 4 }),
  fc.array(fc.constantFrom(...SYNC_NAMES, 'Bad_Name'), { maxLength: 4 }),
);

const viewOf = (name: string): fc.Arbitrary<SyncView | undefined> =>
  fc.option(
    fc.record(
      {
        name: fc.constant(name),
        targetSecret: fc.constantFrom(name, `${name}-secret`),
        ready: fc.constantFrom(true, true, true, false), // mostly Ready: refusals are the exception
        serviceAccounts: mostly<string[]>(fc.constantFrom(['web'], ['web', 'other']), fc.constant(['other'])),
        kek: fc.constantFrom<'vault-transit' | 'aws-kms'>('vault-transit', 'aws-kms'),
        keys: fc.uniqueArray(fc.constantFrom('password', 'user', 'token', 'a.b', 'a-b', '1x', 'db_password'), { maxLength: 4 }),
        mount: mostly<{ uid?: number; gid?: number }>(fc.record({ uid: fc.constant(1000), gid: fc.constantFrom(1000, 3000) }, { requiredKeys: [] }), fc.record({ uid: fc.constantFrom(0, 2000) })),
      },
      { requiredKeys: ['name', 'targetSecret', 'ready', 'serviceAccounts', 'keys'] },
    ),
    { nil: undefined, freq: 20 },
  );

const caseOf: fc.Arbitrary<Case> = fc
  .record({
    syncs: syncList,
    sep: fc.constantFrom(',', ', ', ' , ', ',,'),
    trailing: fc.boolean(),
    containerNames: fc.shuffledSubarray(CONTAINER_NAMES, { minLength: 1, maxLength: 5 }),
    initCount: fc.nat(2),
    onlyPick: fc.option(mostly<string[]>(fc.uniqueArray(fc.constantFrom(...CONTAINER_NAMES), { minLength: 1, maxLength: 3 }), fc.constant(['nope'])), { nil: undefined, freq: 3 }),
    watch: fc.constantFrom(undefined, 'true', 'false'),
    pins: fc.dictionary(fc.constantFrom(...SYNC_NAMES), mostly(fc.constantFrom('1', '2', '17'), fc.constantFrom('0', 'x', '01')), { maxKeys: 2 }),
    injected: fc.option(fc.constantFrom('db', 'db,api', 'other'), { nil: undefined }),
    volumes: fc.option(uniqueBy(volumeOf, (v) => v.name, 4), { nil: undefined }),
    serviceAccountName: mostly(fc.constant('web'), fc.constantFrom('other', undefined)),
    automount: fc.constantFrom(true, false, undefined),
    runAs: fc.record({ runAsUser: fc.constantFrom(0, 1000, 70000), runAsGroup: fc.constantFrom(0, 1000) }, { requiredKeys: [] }),
    labelled: fc.constantFrom('true', 'true', 'true', 'false'),
    views: fc.record(Object.fromEntries(SYNC_NAMES.map((n) => [n, viewOf(n)]))),
    verified: fc.boolean(),
    fileEnv: fc.constantFrom<'verified' | 'always' | undefined>('verified', 'always', undefined),
    insecure: fc.boolean(),
  })
  .chain((r) => {
    const initNames = r.containerNames.slice(1, 1 + r.initCount);
    const appNames = [r.containerNames[0] as string, ...r.containerNames.slice(1 + r.initCount)];
    return fc.record({
      r: fc.constant(r),
      containers: fc.tuple(...appNames.map(containerOf)),
      initContainers: initNames.length > 0 ? fc.option(fc.tuple(...initNames.map(containerOf)), { nil: undefined }) : fc.constant(undefined),
    });
  })
  .map(({ r, containers, initContainers }) => {
    const annotations: Record<string, string> = { 'secretsync.io/inject': r.syncs.join(r.sep) + (r.trailing ? ',' : '') };
    if (r.onlyPick !== undefined) {
      // Mostly containers the pod has (a name it lacks is a refusal).
      const names = [...containers, ...(initContainers ?? [])].map((c) => c.name);
      const only = r.onlyPick.filter((n) => n === 'nope' || names.includes(n));
      annotations['secretsync.io/inject-containers'] = (only.length > 0 ? only : [names[0] as string]).join(',');
    }
    if (r.watch !== undefined) annotations['secretsync.io/watch'] = r.watch;
    for (const [s, v] of Object.entries(r.pins)) annotations[`secretsync.io/version-${s}`] = v;
    if (r.injected !== undefined) annotations['secretsync.io/injected'] = r.injected;
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { generateName: 'web-', namespace: NS, labels: { 'secretsync.io/inject': r.labelled }, annotations },
      spec: {
        containers: [...containers],
        ...(initContainers !== undefined ? { initContainers: [...initContainers] } : {}),
        ...(r.volumes !== undefined ? { volumes: r.volumes } : {}),
        ...(r.serviceAccountName !== undefined ? { serviceAccountName: r.serviceAccountName } : {}),
        ...(r.automount !== undefined ? { automountServiceAccountToken: r.automount } : {}),
        securityContext: r.runAs,
      },
    };
    const o: InjectOptions = {
      agentImage: 'ghcr.io/secretsync/secretsync:1.2.3',
      callerVerified: r.verified,
      ...(r.fileEnv !== undefined ? { fileEnv: r.fileEnv } : {}),
      ...(r.insecure ? { insecureAllowHttp: true } : {}),
    };
    return { pod, views: r.views, o };
  });

const normal = (p: string) => p.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
const dupes = (xs: string[]) => xs.filter((x, i) => xs.indexOf(x) !== i);

/** What the API server would refuse in the parts of a pod the webhook touches. */
function podProblems(p: Pod): string[] {
  const problems: string[] = [];
  const all = [...p.spec.containers, ...(p.spec.initContainers ?? [])];
  const volumes = (p.spec.volumes ?? []).map((v) => v.name);
  for (const d of dupes(all.map((c) => c.name))) problems.push(`container name ${d} twice`);
  for (const d of dupes(volumes)) problems.push(`volume ${d} twice`);
  for (const c of all) {
    for (const m of c.volumeMounts ?? []) if (!volumes.includes(m.name)) problems.push(`${c.name} mounts missing volume ${m.name}`);
    for (const d of dupes((c.volumeMounts ?? []).map((m) => normal(m.mountPath)))) problems.push(`${c.name} mounts ${d} twice`);
    for (const d of dupes((c.env ?? []).map((e) => e.name))) problems.push(`${c.name} sets ${d} twice`);
  }
  return problems;
}

const NUM_RUNS = 1500;

test('admitting the patched pod again gives an empty patch, for any pod, views and caller', () => {
  let admitted = 0;
  let withPatch = 0;
  fc.assert(
    fc.property(caseOf, ({ pod, views, o }) => {
      const lookup = (n: string) => views[n];
      const first = admitPod(pod, NS, lookup, o);
      if (!first.allowed) return;
      admitted++;
      if (first.patch.length > 0) withPatch++;
      const once = applyPatch(pod, first.patch);
      const again = admitPod(once, NS, lookup, o);
      expect(again).toEqual({ allowed: true, patch: [], injected: first.injected });
    }),
    { numRuns: NUM_RUNS },
  );
  // The generators reach the interesting part: many cases inject something (396-418 of 1500
  // in eight runs measured, about 27%; the floor sits far below that, at one in six).
  expect(withPatch).toBeGreaterThan(NUM_RUNS / 6);
  expect(admitted).toBeGreaterThanOrEqual(withPatch);
});

test('the patched pod is one the API server accepts where the webhook is concerned', () => {
  fc.assert(
    fc.property(caseOf, ({ pod, views, o }) => {
      fc.pre(podProblems(pod).length === 0);
      const first = admitPod(pod, NS, (n) => views[n], o);
      if (!first.allowed) return;
      expect(podProblems(applyPatch(pod, first.patch))).toEqual([]);
    }),
    { numRuns: NUM_RUNS },
  );
});
