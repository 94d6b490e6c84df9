import { describe, expect, it } from '@jest/globals';
import { admitPod, DEFAULT_VOLUME_SIZE_LIMIT, type Admission, type InjectOptions, type SyncView } from '../../../src/webhook/inject.js';
import type { Container, Pod, Volume } from '../../../src/webhook/pod.js';
import { applyPatch } from '../../helpers/json-patch.js';

const NS = 'app';
// The API server as the caller (--webhook-client-ca); what an unverified caller gets has its own tests below.
const OPTS: InjectOptions = { agentImage: 'ghcr.io/secretsync/secretsync:1.2.3', callerVerified: true };
const UNVERIFIED: InjectOptions = { ...OPTS, callerVerified: false };

function aSync(name: string, over: Partial<SyncView> = {}): SyncView {
  return { name, targetSecret: name, ready: true, serviceAccounts: ['web'], keys: ['password'], ...over };
}

function aPod(annotations: Record<string, string>, spec: Partial<Pod['spec']> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'web-', namespace: NS, labels: { 'secretsync.io/inject': 'true' }, annotations },
    spec: { serviceAccountName: 'web', containers: [{ name: 'app', image: 'app:1' }], ...spec },
  };
}

const lookupOf = (...syncs: SyncView[]) => (n: string) => syncs.find((s) => s.name === n);

function admit(pod: Pod, syncs: SyncView[], o: InjectOptions = OPTS): Admission {
  return admitPod(pod, NS, lookupOf(...syncs), o);
}

/** Admits and returns the patched pod (and checks that admitting it again changes nothing). */
function inject(pod: Pod, syncs: SyncView[], o: InjectOptions = OPTS): Pod {
  const a = admit(pod, syncs, o);
  if (!a.allowed) throw new Error(`refused: ${a.message}`);
  const out = applyPatch(pod, a.patch);
  const again = admit(out, syncs, o);
  expect(again).toEqual({ allowed: true, patch: [], injected: a.injected });
  return out;
}

function refusal(a: Admission): { code: number; message: string } {
  if (a.allowed) throw new Error('admitted');
  return { code: a.code, message: a.message };
}

const init = (p: Pod): Container[] => p.spec.initContainers ?? [];
const named = (cs: Container[] | undefined, n: string): Container => {
  const c = (cs ?? []).find((x) => x.name === n);
  if (c === undefined) throw new Error(`no container ${n}`);
  return c;
};
const volume = (p: Pod, n: string): Volume | undefined => (p.spec.volumes ?? []).find((v) => v.name === n);
const env = (c: Container): Record<string, string | undefined> => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
const mounts = (c: Container): Record<string, string> => Object.fromEntries((c.volumeMounts ?? []).map((m) => [m.mountPath, m.name]));

describe('admitPod: when it injects', () => {
  it('lets a labelled pod without the annotation through untouched', () => {
    const pod = aPod({});
    expect(admit(pod, [])).toEqual({ allowed: true, patch: [], injected: [] });
  });

  it('does nothing for a pod without the label (the objectSelector is the contract)', () => {
    const pod = aPod({ 'secretsync.io/inject': 'db' });
    delete pod.metadata?.labels?.['secretsync.io/inject'];
    expect(admit(pod, [aSync('db')])).toEqual({ allowed: true, patch: [], injected: [] });
  });

  it('treats an annotation that names nothing as no request, and ignores trailing commas and spaces', () => {
    expect(admit(aPod({ 'secretsync.io/inject': ' , ' }), [])).toEqual({ allowed: true, patch: [], injected: [] });
    const a = admit(aPod({ 'secretsync.io/inject': ' db , api ,' }), [aSync('db'), aSync('api', { keys: ['token'] })]);
    expect(a.allowed && a.injected).toEqual(['db', 'api']);
  });
});

describe('admitPod: what it injects', () => {
  it('adds an in-memory volume per sync, mounts it read-only in every app container with _FILE vars, and the init agent first', () => {
    const pod = aPod({ 'secretsync.io/inject': 'db,api' }, { containers: [{ name: 'app' }, { name: 'proxy' }] });
    const out = inject(pod, [aSync('db', { keys: ['password', 'user'] }), aSync('api', { targetSecret: 'api-secret', keys: ['token'] })]);

    expect(out.spec.volumes).toEqual([
      { name: 'secretsync-db', emptyDir: { medium: 'Memory', sizeLimit: DEFAULT_VOLUME_SIZE_LIMIT } },
      { name: 'secretsync-api', emptyDir: { medium: 'Memory', sizeLimit: DEFAULT_VOLUME_SIZE_LIMIT } },
      expect.objectContaining({ name: 'secretsync-kube-api-access' }),
    ]);
    for (const c of out.spec.containers) {
      expect(c.volumeMounts).toEqual([
        { name: 'secretsync-db', mountPath: '/run/secrets/db', readOnly: true },
        { name: 'secretsync-api', mountPath: '/run/secrets/api', readOnly: true },
      ]);
      expect(env(c)).toEqual({ PASSWORD_FILE: '/run/secrets/db/password', USER_FILE: '/run/secrets/db/user', TOKEN_FILE: '/run/secrets/api/token' });
    }
    expect(init(out).map((c) => c.name)).toEqual(['secretsync-agent-init']);
    const agent = named(out.spec.initContainers, 'secretsync-agent-init');
    expect(agent.image).toBe(OPTS.agentImage);
    expect(agent.restartPolicy).toBeUndefined();
    expect(agent.args).toEqual(['agent', 'init', '--sync', 'db=db', '--sync', 'api=api-secret', '--dir', '/run/secrets']);
    expect(agent.volumeMounts).toEqual([
      { name: 'secretsync-db', mountPath: '/run/secrets/db' },
      { name: 'secretsync-api', mountPath: '/run/secrets/api' },
      { name: 'secretsync-kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
    ]);
    expect(out.metadata?.annotations?.['secretsync.io/injected']).toBe('db,api');
  });

  it('runs the agent non-root, without capabilities, on a read-only root, with small resources', () => {
    const out = inject(aPod({ 'secretsync.io/inject': 'db' }), [aSync('db')], { ...OPTS, imagePullPolicy: 'IfNotPresent' });
    const agent = named(out.spec.initContainers, 'secretsync-agent-init');
    expect(agent.imagePullPolicy).toBe('IfNotPresent');
    expect(agent.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(agent.resources?.requests).toEqual({ cpu: '10m', memory: '64Mi' });
    expect(agent.resources?.limits).toEqual({ cpu: '500m', memory: '256Mi' });
  });

  it('honours a volume size limit from the options', () => {
    const out = inject(aPod({ 'secretsync.io/inject': 'db' }), [aSync('db')], { ...OPTS, volumeSizeLimit: '2Mi' });
    expect(out.spec.volumes?.[0]).toEqual({ name: 'secretsync-db', emptyDir: { medium: 'Memory', sizeLimit: '2Mi' } });
  });

  it('mounts only in the containers named by secretsync.io/inject-containers (init containers too)', () => {
    const pod = aPod(
      { 'secretsync.io/inject': 'db', 'secretsync.io/inject-containers': 'app, migrate' },
      { containers: [{ name: 'app' }, { name: 'proxy' }], initContainers: [{ name: 'migrate' }] },
    );
    const out = inject(pod, [aSync('db')]);
    expect(mounts(named(out.spec.containers, 'app'))).toEqual({ '/run/secrets/db': 'secretsync-db' });
    expect(named(out.spec.containers, 'proxy').volumeMounts).toBeUndefined();
    expect(named(out.spec.containers, 'proxy').env).toBeUndefined();
    expect(env(named(out.spec.initContainers, 'migrate'))).toEqual({ PASSWORD_FILE: '/run/secrets/db/password' });
    expect(init(out).map((c) => c.name)).toEqual(['secretsync-agent-init', 'migrate']);
  });

  it('keeps the pod\'s own init containers, volumes, mounts and env, placing the agent first', () => {
    const pod = aPod(
      { 'secretsync.io/inject': 'db' },
      {
        containers: [{ name: 'app', env: [{ name: 'MODE', value: 'prod' }], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
        initContainers: [{ name: 'wait-db' }, { name: 'migrate' }],
        volumes: [{ name: 'data', emptyDir: {} }],
      },
    );
    const out = inject(pod, [aSync('db')]);
    expect(init(out).map((c) => c.name)).toEqual(['secretsync-agent-init', 'wait-db', 'migrate']);
    expect(out.spec.volumes?.map((v) => v.name)).toEqual(['data', 'secretsync-db', 'secretsync-kube-api-access']);
    const app = named(out.spec.containers, 'app');
    expect(env(app)).toEqual({ MODE: 'prod', PASSWORD_FILE: '/run/secrets/db/password' });
    expect(mounts(app)).toEqual({ '/data': 'data', '/run/secrets/db': 'secretsync-db' });
  });

  it('never overrides an env var the container sets itself', () => {
    const pod = aPod({ 'secretsync.io/inject': 'db' }, { containers: [{ name: 'app', env: [{ name: 'PASSWORD_FILE', value: '/elsewhere' }] }] });
    const out = inject(pod, [aSync('db', { keys: ['password', 'user'] })]);
    expect(env(named(out.spec.containers, 'app'))).toEqual({ PASSWORD_FILE: '/elsewhere', USER_FILE: '/run/secrets/db/user' });
  });

  it('names env vars from keys (upper case, other characters as "_") and prefixes the sync on a collision', () => {
    const pod = aPod({ 'secretsync.io/inject': 'db,cache.main' });
    const out = inject(pod, [aSync('db', { keys: ['password', 'tls.crt', '1st-key'] }), aSync('cache.main', { keys: ['password', 'url'] })]);
    expect(env(named(out.spec.containers, 'app'))).toEqual({
      DB_PASSWORD_FILE: '/run/secrets/db/password',
      TLS_CRT_FILE: '/run/secrets/db/tls.crt',
      _1ST_KEY_FILE: '/run/secrets/db/1st-key',
      CACHE_MAIN_PASSWORD_FILE: '/run/secrets/cache.main/password',
      URL_FILE: '/run/secrets/cache.main/url',
    });
  });

  it('gives no env var to keys of one sync that map to the same name (their files are still there)', () => {
    const out = inject(aPod({ 'secretsync.io/inject': 'db' }), [aSync('db', { keys: ['a.b', 'a-b', 'c'] })]);
    expect(env(named(out.spec.containers, 'app'))).toEqual({ C_FILE: '/run/secrets/db/c' });
  });

  it('shortens long and dotted sync names into valid, distinct volume names', () => {
    const long = `a${'-x'.repeat(60)}`;
    const out = inject(aPod({ 'secretsync.io/inject': `${long},a.b,a-b` }), [aSync(long, { keys: [] }), aSync('a.b', { keys: [] }), aSync('a-b', { keys: [] })]);
    const names = (out.spec.volumes ?? []).map((v) => v.name).filter((n) => n !== 'secretsync-kube-api-access');
    expect(new Set(names).size).toBe(3);
    for (const n of names) expect(n).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    expect(names).toContain('secretsync-a-b');
    expect(mounts(named(out.spec.containers, 'app'))[`/run/secrets/${long}`]).toBe(names[0]);
  });
});

describe('admitPod: pinned versions and the watch sidecar', () => {
  it('gives a pinned sync its own init container with --version (the agent takes --version with one --sync only)', () => {
    const pod = aPod({ 'secretsync.io/inject': 'db,api,cfg', 'secretsync.io/version-api': '7' }, { initContainers: [{ name: 'migrate' }] });
    const out = inject(pod, [aSync('db'), aSync('api', { targetSecret: 'api-s', keys: ['token'], kek: 'aws-kms' }), aSync('cfg', { keys: ['url'] })]);
    expect(init(out).map((c) => c.name)).toEqual(['secretsync-agent-init', 'secretsync-agent-init-api', 'migrate']);
    expect(named(out.spec.initContainers, 'secretsync-agent-init').args).toEqual(['agent', 'init', '--sync', 'db=db', '--sync', 'cfg=cfg', '--dir', '/run/secrets']);
    const pinned = named(out.spec.initContainers, 'secretsync-agent-init-api');
    expect(pinned.args).toEqual(['agent', 'init', '--sync', 'api=api-s', '--dir', '/run/secrets', '--version', '7']);
    expect(mounts(pinned)).toEqual({ '/run/secrets/api': 'secretsync-api', '/var/run/secrets/kubernetes.io/serviceaccount': 'secretsync-kube-api-access' });
  });

  it('needs no shared init container when every sync is pinned', () => {
    const pod = aPod({ 'secretsync.io/inject': 'db', 'secretsync.io/version-db': '3' });
    const out = inject(pod, [aSync('db', { kek: 'aws-kms' })]);
    expect(init(out).map((c) => c.name)).toEqual(['secretsync-agent-init-db']);
  });

  it('ignores a pin on a plain-mode sync: its Secret holds only the current version (as kubelet delivers it)', () => {
    const pod = aPod({ 'secretsync.io/inject': 'db', 'secretsync.io/version-db': '3' });
    const out = inject(pod, [aSync('db')]);
    expect(init(out).map((c) => c.name)).toEqual(['secretsync-agent-init']);
    expect(named(out.spec.initContainers, 'secretsync-agent-init').args).not.toContain('--version');
  });

  it('refuses a version annotation that is not a version number', () => {
    for (const v of ['0', '-1', 'latest', '1.5', '']) {
      const a = admit(aPod({ 'secretsync.io/inject': 'db', 'secretsync.io/version-db': v }), [aSync('db')]);
      expect(refusal(a)).toEqual({ code: 400, message: 'secretsync.io/version-db must be a version number (1, 2, ...): fix or remove that annotation' });
    }
  });

  it('adds the watch sidecar (a native sidecar after the init agents) with every sync and no --version', () => {
    const pod = aPod({ 'secretsync.io/inject': 'db,api', 'secretsync.io/watch': 'true', 'secretsync.io/version-db': '2' }, { initContainers: [{ name: 'migrate' }] });
    const out = inject(pod, [aSync('db', { kek: 'aws-kms' }), aSync('api', { keys: ['token'] })]);
    expect(init(out).map((c) => c.name)).toEqual(['secretsync-agent-init', 'secretsync-agent-init-db', 'secretsync-agent-watch', 'migrate']);
    const watch = named(out.spec.initContainers, 'secretsync-agent-watch');
    expect(watch.restartPolicy).toBe('Always');
    expect(watch.args).toEqual(['agent', 'watch', '--sync', 'db=db', '--sync', 'api=api', '--dir', '/run/secrets']);
    expect(mounts(watch)).toEqual({
      '/run/secrets/db': 'secretsync-db',
      '/run/secrets/api': 'secretsync-api',
      '/var/run/secrets/kubernetes.io/serviceaccount': 'secretsync-kube-api-access',
    });
    expect(watch.volumeMounts?.every((m) => m.readOnly !== true || m.name === 'secretsync-kube-api-access')).toBe(true);
    expect(watch.securityContext).toEqual(named(out.spec.initContainers, 'secretsync-agent-init').securityContext);
  });

  it('adds no sidecar unless secretsync.io/watch is "true"', () => {
    const out = inject(aPod({ 'secretsync.io/inject': 'db', 'secretsync.io/watch': 'false' }), [aSync('db')]);
    expect(init(out).map((c) => c.name)).toEqual(['secretsync-agent-init']);
  });
});

describe('admitPod: the agent\'s credentials', () => {
  it('mounts a projected token of audience "vault" in the agents (only) when a sync uses Vault Transit', () => {
    const pod = aPod({ 'secretsync.io/inject': 'db,api', 'secretsync.io/watch': 'true', 'secretsync.io/version-api': '4' });
    const out = inject(pod, [aSync('db', { kek: 'vault-transit' }), aSync('api', { kek: 'aws-kms', keys: ['token'] })]);
    expect(volume(out, 'secretsync-vault-token')).toEqual({
      name: 'secretsync-vault-token',
      projected: { sources: [{ serviceAccountToken: { audience: 'vault', expirationSeconds: 600, path: 'token' } }] },
    });
    const vaultMount = { name: 'secretsync-vault-token', mountPath: '/var/run/secrets/secretsync.io/vault', readOnly: true };
    expect(named(out.spec.initContainers, 'secretsync-agent-init').volumeMounts).toContainEqual(vaultMount);
    expect(named(out.spec.initContainers, 'secretsync-agent-watch').volumeMounts).toContainEqual(vaultMount);
    // The KMS-only pinned agent and the app do not get it.
    expect(named(out.spec.initContainers, 'secretsync-agent-init-api').volumeMounts).not.toContainEqual(vaultMount);
    expect(Object.values(mounts(named(out.spec.containers, 'app')))).not.toContain('secretsync-vault-token');
  });

  it('adds no Vault token without Transit', () => {
    const out = inject(aPod({ 'secretsync.io/inject': 'db' }), [aSync('db', { kek: 'aws-kms' })]);
    expect(out.spec.volumes?.map((v) => v.name)).not.toContain('secretsync-vault-token');
  });

  it('reuses the pod\'s kube-api-access volume for the agents when the app has it', () => {
    const sa = { name: 'kube-api-access-x7k2p', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true };
    const pod = aPod({ 'secretsync.io/inject': 'db' }, { containers: [{ name: 'app', volumeMounts: [sa] }], volumes: [{ name: 'kube-api-access-x7k2p', projected: { sources: [] } }] });
    const out = inject(pod, [aSync('db')]);
    expect(out.spec.volumes?.map((v) => v.name)).toEqual(['kube-api-access-x7k2p', 'secretsync-db']);
    expect(named(out.spec.initContainers, 'secretsync-agent-init').volumeMounts).toContainEqual(sa);
  });

  it('adds its own API credentials, for the agents only, when the pod sets automountServiceAccountToken: false', () => {
    const pod = aPod({ 'secretsync.io/inject': 'db' }, { automountServiceAccountToken: false });
    const out = inject(pod, [aSync('db')]);
    expect(volume(out, 'secretsync-kube-api-access')).toEqual({
      name: 'secretsync-kube-api-access',
      projected: {
        defaultMode: 0o644,
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
        ],
      },
    });
    expect(mounts(named(out.spec.initContainers, 'secretsync-agent-init'))['/var/run/secrets/kubernetes.io/serviceaccount']).toBe('secretsync-kube-api-access');
    expect(mounts(named(out.spec.containers, 'app'))).toEqual({ '/run/secrets/db': 'secretsync-db' });
  });

  // What the EKS Pod Identity / IRSA webhook writes on the containers it sees (ours come later or earlier).
  const IRSA_DIR = '/var/run/secrets/eks.amazonaws.com/serviceaccount';
  const irsa: Container = {
    name: 'app',
    env: [
      { name: 'MODE', value: 'prod' },
      { name: 'AWS_ROLE_ARN', value: 'arn:aws:iam::123456789012:role/web' },
      { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: `${IRSA_DIR}/token` },
      { name: 'AWS_REGION', value: 'eu-west-1' },
      { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 'aws', key: 'id' } } },
      { name: 'AWS_SDK_LOAD_CONFIG', value: '1' },
    ],
    volumeMounts: [
      { name: 'data', mountPath: '/data' },
      { name: 'aws-iam-token', mountPath: IRSA_DIR, readOnly: true },
    ],
  };

  it("gives every agent the pod's AWS identity for KMS: the identity variables of the first app container that has them, and the mount of the token file they name", () => {
    const pod = aPod({ 'secretsync.io/inject': 'db,api', 'secretsync.io/watch': 'true', 'secretsync.io/version-api': '4' }, { containers: [{ name: 'proxy', env: [{ name: 'AWS_REGION', value: 'us-east-1' }] }, irsa, { name: 'other', env: [{ name: 'AWS_ROLE_ARN', value: 'arn:aws:iam::123456789012:role/other' }] }] });
    const out = inject(pod, [aSync('db', { kek: 'aws-kms' }), aSync('api', { kek: 'aws-kms', keys: ['token'] })]);
    for (const agent of init(out)) {
      expect(agent.env).toEqual([
        { name: 'AWS_ROLE_ARN', value: 'arn:aws:iam::123456789012:role/web' },
        { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: `${IRSA_DIR}/token` },
        { name: 'AWS_REGION', value: 'eu-west-1' },
        { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 'aws', key: 'id' } } },
      ]);
      expect(agent.volumeMounts).toContainEqual({ name: 'aws-iam-token', mountPath: IRSA_DIR, readOnly: true });
      expect(mounts(agent)['/data']).toBeUndefined();
    }
    expect(init(out)).toHaveLength(3);
    // The app containers are left as they were, apart from what they always get.
    expect(named(out.spec.containers, 'app').env?.filter((e) => e.name.startsWith('AWS_'))).toEqual(irsa.env?.filter((e) => e.name.startsWith('AWS_')));
  });

  it('copies the identity whatever the KEK (a version may still be wrapped by the previous one), and in a blind answer too', () => {
    for (const [views, o] of [[[aSync('db')], OPTS], [[aSync('db', { kek: 'vault-transit' })], OPTS], [[], UNVERIFIED]] as const) {
      const out = inject(aPod({ 'secretsync.io/inject': 'db' }, { containers: [irsa] }), [...views], o);
      expect(env(named(out.spec.initContainers, 'secretsync-agent-init')).AWS_ROLE_ARN).toBe('arn:aws:iam::123456789012:role/web');
    }
  });

  it('gives the agents no AWS variables when no app container has an identity (region alone is not one)', () => {
    const out = inject(aPod({ 'secretsync.io/inject': 'db' }, { containers: [{ name: 'app', env: [{ name: 'AWS_REGION', value: 'eu-west-1' }] }] }), [aSync('db', { kek: 'aws-kms' })]);
    expect(named(out.spec.initContainers, 'secretsync-agent-init').env).toBeUndefined();
  });

  it('never mounts a token file over a path the agent uses, and skips files outside any mount', () => {
    const c: Container = {
      name: 'app',
      env: [
        { name: 'AWS_ROLE_ARN', value: 'arn:aws:iam::123456789012:role/web' },
        { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: '/var/run/secrets/kubernetes.io/serviceaccount/token' },
        { name: 'AWS_CA_BUNDLE', value: '/etc/ssl/aws.pem' },
        { name: 'AWS_CONFIG_FILE', value: 'relative/config' },
      ],
      volumeMounts: [{ name: 'own-sa', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
    };
    const out = inject(aPod({ 'secretsync.io/inject': 'db' }, { containers: [c], volumes: [{ name: 'own-sa', projected: { sources: [] } }] }), [aSync('db', { kek: 'aws-kms' })]);
    const agent = named(out.spec.initContainers, 'secretsync-agent-init');
    // The API-token path is the agent's own mount (here the pod's volume, reused): no second mount there.
    expect((agent.volumeMounts ?? []).filter((m) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount')).toHaveLength(1);
    expect(agent.volumeMounts?.map((m) => m.mountPath)).toEqual(['/run/secrets/db', '/var/run/secrets/kubernetes.io/serviceaccount']);
  });
});

describe('admitPod: file owner (spec.mount.uid/gid) and the agent\'s identity', () => {
  it('runs the agent as spec.mount.uid/gid so its chown needs no capability', () => {
    const out = inject(aPod({ 'secretsync.io/inject': 'db,api' }), [aSync('db', { mount: { uid: 1000, gid: 2000 } }), aSync('api', { mount: { uid: 1000 } })]);
    const sc = named(out.spec.initContainers, 'secretsync-agent-init').securityContext;
    expect(sc).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 2000, capabilities: { drop: ['ALL'] } });
    expect(sc?.capabilities?.add).toBeUndefined();
  });

  it('refuses syncs that want different owners in one pod', () => {
    const a = admit(aPod({ 'secretsync.io/inject': 'db,api' }), [aSync('db', { mount: { uid: 1000 } }), aSync('api', { mount: { uid: 1001 } })]);
    expect(refusal(a)).toEqual({
      code: 400,
      message: 'SecretSyncs "db", "api" set different spec.mount.uid (1000, 1001); one agent writes every file of a pod: give them the same uid, or inject them into different pods',
    });
  });

  it('refuses files owned by root (the agent never runs as root)', () => {
    const a = admit(aPod({ 'secretsync.io/inject': 'db' }), [aSync('db', { mount: { uid: 0 } })]);
    expect(refusal(a).code).toBe(400);
    expect(refusal(a).message).toMatch(/^SecretSync "db" sets spec.mount.uid 0: the agent runs as non-root/);
  });
});

describe('admitPod: refusals to the API server (--webhook-client-ca: the caller is verified)', () => {
  const admit = (pod: Pod, syncs: SyncView[]): Admission => admitPod(pod, NS, lookupOf(...syncs), { ...OPTS, callerVerified: true });
  it('refuses a SecretSync that does not exist in the pod\'s namespace', () => {
    expect(refusal(admit(aPod({ 'secretsync.io/inject': 'db' }), []))).toEqual({
      code: 403,
      message: 'SecretSync "db" does not exist in namespace "app": create it, or remove it from the pod\'s secretsync.io/inject annotation',
    });
  });

  it('refuses a service account the SecretSync does not list, or a SecretSync with no access block', () => {
    expect(refusal(admit(aPod({ 'secretsync.io/inject': 'db' }), [aSync('db', { serviceAccounts: ['batch'] })]))).toEqual({
      code: 403,
      message: 'service account "web" may not receive SecretSync "db": add it to spec.access.serviceAccounts of SecretSync "db"',
    });
    const noAccess = aSync('db');
    delete noAccess.serviceAccounts;
    expect(refusal(admit(aPod({ 'secretsync.io/inject': 'db' }), [noAccess])).message).toBe(
      'SecretSync "db" gives no service account access: add "web" to spec.access.serviceAccounts of SecretSync "db"',
    );
  });

  it('checks the "default" service account when the pod names none', () => {
    const pod = aPod({ 'secretsync.io/inject': 'db' });
    delete pod.spec.serviceAccountName;
    expect(refusal(admit(pod, [aSync('db')])).message).toMatch(/^service account "default" may not receive/);
    expect(admit(pod, [aSync('db', { serviceAccounts: ['default'] })]).allowed).toBe(true);
  });

  it('refuses a SecretSync that is not Ready, with its reason and message', () => {
    const s = aSync('db', { ready: false, readyReason: 'SourceNotFound', readyMessage: 'Vault path secret/data/db does not exist' });
    expect(refusal(admit(aPod({ 'secretsync.io/inject': 'db' }), [s]))).toEqual({
      code: 403,
      message: 'SecretSync "db" is not Ready (SourceNotFound: Vault path secret/data/db does not exist): the pod is admitted once it is',
    });
    expect(refusal(admit(aPod({ 'secretsync.io/inject': 'db' }), [aSync('db', { ready: false })])).message).toBe('SecretSync "db" is not Ready: the pod is admitted once it is');
  });

  it('names every problem in one message', () => {
    const a = admit(aPod({ 'secretsync.io/inject': 'db,api' }), [aSync('api', { serviceAccounts: [] })]);
    expect(refusal(a).message.split('; ')).toHaveLength(2);
  });

  it('refuses invalid and duplicate names in the annotation', () => {
    expect(refusal(admit(aPod({ 'secretsync.io/inject': 'db,Bad_Name' }), [aSync('db')]))).toEqual({
      code: 400,
      message: 'secretsync.io/inject: "Bad_Name" is not a SecretSync name (lowercase letters, digits, "-" and "."); list names separated by commas',
    });
    expect(refusal(admit(aPod({ 'secretsync.io/inject': 'db, db' }), [aSync('db')]))).toEqual({
      code: 400,
      message: 'secretsync.io/inject names SecretSync "db" twice: list each once',
    });
  });

  it('refuses inject-containers naming a container the pod does not have, or none', () => {
    const a = admit(aPod({ 'secretsync.io/inject': 'db', 'secretsync.io/inject-containers': 'ap' }), [aSync('db')]);
    expect(refusal(a)).toEqual({ code: 400, message: 'secretsync.io/inject-containers names "ap", which is not a container of the pod (it has "app")' });
    expect(refusal(admit(aPod({ 'secretsync.io/inject': 'db', 'secretsync.io/inject-containers': ' ' }), [aSync('db')])).code).toBe(400);
  });

  it('refuses a container that already mounts something at /run/secrets/<sync>', () => {
    const pod = aPod({ 'secretsync.io/inject': 'db' }, { containers: [{ name: 'app', volumeMounts: [{ name: 'creds', mountPath: '/run/secrets/db/' }] }] });
    expect(refusal(admit(pod, [aSync('db')]))).toEqual({
      code: 400,
      message: 'container "app" already mounts volume "creds" at /run/secrets/db, where SecretSync "db" is delivered: move that mount, or leave the container out with secretsync.io/inject-containers',
    });
  });

  it('refuses a volume of the pod\'s own that has one of our names', () => {
    const pod = aPod({ 'secretsync.io/inject': 'db' }, { volumes: [{ name: 'secretsync-db', secret: { secretName: 'db' } }] });
    expect(refusal(admit(pod, [aSync('db')]))).toEqual({
      code: 400,
      message: 'the pod has its own volume "secretsync-db": rename it (volume names starting with "secretsync-" are the injection webhook\'s)',
    });
  });

  // Before, agentOps took any init container named like ours for the agent: the pod's own
  // "secretsync-agent-init" ran in its place and no secret was delivered, and an app
  // container of that name made the API server refuse the pod with a duplicate name.
  it.each<[string, Partial<Pod['spec']>, string]>([
    ['an init container named secretsync-agent-init', { initContainers: [{ name: 'secretsync-agent-init', image: 'busybox', args: ['true'] }] }, 'secretsync-agent-init'],
    ['an init container named secretsync-agent-watch', { initContainers: [{ name: 'secretsync-agent-watch', image: 'busybox' }] }, 'secretsync-agent-watch'],
    ['an init container named secretsync-agent-init-<x>', { initContainers: [{ name: 'secretsync-agent-init-db', image: 'busybox' }] }, 'secretsync-agent-init-db'],
    ['an app container named secretsync-agent-init', { containers: [{ name: 'app', image: 'app:1' }, { name: 'secretsync-agent-init', image: 'app:1' }] }, 'secretsync-agent-init'],
    ['an init container of our image with other args', { initContainers: [{ name: 'secretsync-agent-init', image: OPTS.agentImage, args: ['operator'] }] }, 'secretsync-agent-init'],
  ])('refuses %s with 400: the pod\'s own container is not the agent', (_what, spec, name) => {
    const pod = aPod({ 'secretsync.io/inject': 'db', 'secretsync.io/watch': 'true', 'secretsync.io/version-db': '2' }, spec);
    expect(refusal(admit(pod, [aSync('db', { kek: 'vault-transit' })]))).toEqual({
      code: 400,
      message: `the pod has its own container "${name}": rename it (container names secretsync-agent-init, secretsync-agent-init-<sync> and secretsync-agent-watch are the injection webhook's)`,
    });
  });

  it('still recognises its agent after another webhook pinned the image to a digest', () => {
    const first = inject(aPod({ 'secretsync.io/inject': 'db' }), [aSync('db')]);
    const pinned = structuredClone(first);
    const agent = named(pinned.spec.initContainers, 'secretsync-agent-init');
    agent.image = `ghcr.io/secretsync/secretsync@sha256:${'a'.repeat(64)}`;
    expect(admit(pinned, [aSync('db')])).toEqual({ allowed: true, patch: [], injected: ['db'] });
    agent.image = 'registry.example:5000/other/image:1.2.3';
    expect(refusal(admit(pinned, [aSync('db')])).code).toBe(400);
  });

  it('still recognises the agent containers it injected itself (reinvocation), pinned and watching alike', () => {
    const syncs = [aSync('db', { kek: 'vault-transit' }), aSync('cache')];
    const out = inject(aPod({ 'secretsync.io/inject': 'db,cache', 'secretsync.io/watch': 'true', 'secretsync.io/version-db': '2' }, { initContainers: [{ name: 'migrate' }] }), syncs);
    expect(init(out).map((c) => c.name)).toEqual(['secretsync-agent-init', 'secretsync-agent-init-db', 'secretsync-agent-watch', 'migrate']);
  });
});

describe('admitPod: reinvocation and patch paths', () => {
  it('completes a partly injected pod without a second copy, keeping the agent order', () => {
    const syncs = [aSync('db')];
    const first = inject(aPod({ 'secretsync.io/inject': 'db' }, { initContainers: [{ name: 'migrate' }] }), syncs);
    // Another webhook (or a reinvocation after watch was turned on) asks again with more.
    const withWatch = structuredClone(first);
    (withWatch.metadata?.annotations ?? {})['secretsync.io/watch'] = 'true';
    const out = inject(withWatch, syncs);
    expect(init(out).map((c) => c.name)).toEqual(['secretsync-agent-init', 'secretsync-agent-watch', 'migrate']);
    expect(out.spec.volumes?.filter((v) => v.name === 'secretsync-db')).toHaveLength(1);
    expect(named(out.spec.containers, 'app').volumeMounts).toHaveLength(1);
  });

  it('adds whole arrays where the pod has none, and "/-" appends where it has some', () => {
    const a = admit(aPod({ 'secretsync.io/inject': 'db' }), [aSync('db')]);
    if (!a.allowed) throw new Error(a.message);
    expect(a.patch.map((op) => op.path)).toEqual([
      '/spec/volumes',
      '/spec/containers/0/volumeMounts',
      '/spec/containers/0/env',
      '/metadata/annotations/secretsync.io~1injected',
      '/spec/initContainers',
    ]);
    const b = admit(aPod({ 'secretsync.io/inject': 'db' }, { volumes: [{ name: 'data', emptyDir: {} }], initContainers: [{ name: 'x' }] }), [aSync('db')]);
    if (!b.allowed) throw new Error(b.message);
    expect(b.patch.map((op) => op.path)).toEqual(expect.arrayContaining(['/spec/volumes/-', '/spec/initContainers/0']));
  });
});

describe('admitPod: an unverified caller (anyone reaching the port, any namespace in the review) is answered blind', () => {
  const noAccess = (): SyncView => {
    const s = aSync('db', { serviceAccounts: ['batch', 'reports'], keys: ['hidden-key'], readyMessage: 'private message' });
    delete s.serviceAccounts;
    return s;
  };
  const granted = aSync('db', { keys: ['hidden-key', 'quokka_key'], mount: { uid: 4242, gid: 4343 }, targetSecret: 'zebra-target', kek: 'aws-kms' });
  const pod = () => aPod({ 'secretsync.io/inject': 'db', 'secretsync.io/version-db': '3' });
  const blind = admit(pod(), [granted], UNVERIFIED);

  it.each<[string, SyncView[]]>([
    ['missing', []],
    ['not listing the service account', [aSync('db', { serviceAccounts: ['batch', 'reports'], keys: ['hidden-key'] })]],
    ['with no access block', [noAccess()]],
    ['not Ready', [aSync('db', { ready: false, readyReason: 'SourceNotFound', readyMessage: 'Vault path secret/data/private does not exist', keys: ['hidden-key'] })]],
    ['plain, with another target and owner', [aSync('db', { targetSecret: 'other', mount: { uid: 7 } })]],
  ])('a SecretSync %s gets the very answer a granted, Ready envelope one gets', (_what, syncs) => {
    expect(admit(pod(), syncs, UNVERIFIED)).toEqual(blind);
  });

  it('the patch holds nothing of the SecretSync: no key names, target, owner or KEK; the agent resolves the target itself', () => {
    expect(blind.allowed).toBe(true);
    const text = JSON.stringify(blind);
    for (const s of ['hidden', 'HIDDEN', 'quokka', 'QUOKKA', 'zebra', '4242', '4343']) expect(text).not.toContain(s);
    const out = inject(pod(), [granted], UNVERIFIED);
    expect(out.spec.containers[0]?.env ?? []).toEqual([]);
    expect(out.metadata?.annotations?.['secretsync.io/file-env']).toMatch(/^omitted: .*webhook\.clientAuth/);
    const inits = out.spec.initContainers ?? [];
    // The pin passed as asked (the agent gives a plain Secret's current version), with `--sync db` alone.
    expect(inits.map((c) => c.args)).toEqual([['agent', 'init', '--sync', 'db', '--dir', '/run/secrets', '--version', '3']]);
    // Whatever the KEK might be, the agent has a Vault-audience token.
    expect(out.spec.volumes?.some((v) => v.name === 'secretsync-vault-token')).toBe(true);
  });

  it("runs the agent as the pod's own non-root runAsUser/runAsGroup, else 65532", () => {
    const agentOf = (p: Pod) => p.spec.initContainers?.find((c) => c.name.startsWith('secretsync-agent-init'))?.securityContext;
    const own = inject(aPod({ 'secretsync.io/inject': 'db' }, { securityContext: { runAsUser: 1000, runAsGroup: 2000 } }), [aSync('db', { mount: { uid: 7 } })], UNVERIFIED);
    expect(agentOf(own)).toMatchObject({ runAsUser: 1000, runAsGroup: 2000 });
    const root = inject(aPod({ 'secretsync.io/inject': 'db' }, { securityContext: { runAsUser: 0 } }), [aSync('db')], UNVERIFIED);
    expect(agentOf(root)).toMatchObject({ runAsUser: 65532, runAsGroup: 65532 });
  });

  it('refuses only what the request itself gets wrong', () => {
    expect(refusal(admit(aPod({ 'secretsync.io/inject': 'Bad_Name' }), [], UNVERIFIED)).code).toBe(400);
    expect(refusal(admit(aPod({ 'secretsync.io/inject': 'db', 'secretsync.io/inject-containers': 'nope' }), [], UNVERIFIED)).code).toBe(400);
  });

  it('with fileEnv "always" (the platform team widening it) the SecretSyncs are looked up: env vars, refusals that name nothing', () => {
    const always: InjectOptions = { ...UNVERIFIED, fileEnv: 'always' };
    const out = inject(aPod({ 'secretsync.io/inject': 'db' }), [aSync('db', { keys: ['password'] })], always);
    expect(out.spec.containers[0]?.env).toEqual([{ name: 'PASSWORD_FILE', value: '/run/secrets/db/password' }]);
    expect(out.metadata?.annotations?.['secretsync.io/file-env']).toBeUndefined();
    const opaque =
      'SecretSync "db" cannot be delivered to service account "web" in namespace "app": it does not exist, does not list "web" in spec.access.serviceAccounts, or is not Ready (`kubectl describe secretsync db -n app` says which)';
    for (const syncs of [[], [noAccess()], [aSync('db', { ready: false, readyMessage: 'private message' })]]) {
      expect(refusal(admit(aPod({ 'secretsync.io/inject': 'db' }), syncs, always))).toEqual({ code: 403, message: opaque });
    }
  });
});

test("the operator's --insecure-allow-http reaches the agents it injects, and only then", () => {
  const args = (o: InjectOptions) => inject(aPod({ 'secretsync.io/inject': 'db', 'secretsync.io/watch': 'true' }), [aSync('db')], o).spec.initContainers?.map((c) => c.args);
  expect(args({ ...OPTS, insecureAllowHttp: true })?.every((a) => a?.includes('--insecure-allow-http'))).toBe(true);
  expect(args(OPTS)?.some((a) => a?.includes('--insecure-allow-http'))).toBe(false);
});
