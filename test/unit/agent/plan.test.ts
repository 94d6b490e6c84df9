// What a target Secret means for one --sync (pure): ownership by the named SecretSync,
// plain-mode version checks, envelope version selection and binding, the mount annotation.
import { MOUNT_ANNOTATION, VERSION_ANNOTATION } from '../../../src/api/annotations.js';
import { AgentCode, AgentError } from '../../../src/agent/errors.js';
import { checkOwner, planDelivery, type DeliveryRequest } from '../../../src/agent/plan.js';
import { ENVELOPE_SECRET_TYPE, encodeEnvelope, type VersionEnvelope } from '../../../src/crypto/envelope.js';
import type { KubeSecret, OwnerReference } from '../../../src/secretsync/ports.js';

const UID = '6f1c0c1e-0000-4000-8000-000000000001';
const owner = (o: Partial<OwnerReference> = {}): OwnerReference => ({
  apiVersion: 'secretsync.io/v1alpha1',
  kind: 'SecretSync',
  name: 'db',
  uid: UID,
  controller: true,
  ...o,
});
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const req = (o: Partial<DeliveryRequest> = {}): DeliveryRequest => ({ namespace: 'payments', sync: 'db', syncUid: UID, secret: 'db-target', ...o });

function plain(o: { version?: string; owners?: OwnerReference[]; mount?: string; data?: Record<string, string> } = {}): KubeSecret {
  return {
    metadata: {
      name: 'db-target',
      namespace: 'payments',
      uid: 's-1',
      resourceVersion: '42',
      ownerReferences: o.owners ?? [owner()],
      annotations: {
        ...(o.version !== undefined ? { [VERSION_ANNOTATION]: o.version } : {}),
        ...(o.mount !== undefined ? { [MOUNT_ANNOTATION]: o.mount } : {}),
      },
    },
    type: 'Opaque',
    data: o.data ?? { password: b64('p'), user: b64('u') },
  };
}

const entry = (version: number): VersionEnvelope => ({
  version,
  kek: { type: 'aws-kms', region: 'eu-west-1', keyId: 'alias/k', version: 'arn:aws:kms:eu-west-1:1:key/x' },
  wrappedKey: b64(`wrapped-${version}`),
  values: { password: b64(`ct-${version}`) },
});

function envelope(current: number, previous?: number, owners = [owner()]): KubeSecret {
  return {
    metadata: { name: 'db-target', namespace: 'payments', uid: 's-2', resourceVersion: '7', ownerReferences: owners },
    type: ENVELOPE_SECRET_TYPE,
    data: encodeEnvelope({ current: entry(current), ...(previous ? { previous: [entry(previous)] } : {}) }),
  };
}

const refusal = (fn: () => unknown): AgentError => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AgentError);
    return err as AgentError;
  }
  throw new Error('expected a refusal');
};

describe('ownership', () => {
  test.each([
    ['a SecretSync of the same name deleted and created again (the Secret still names the old uid)', [owner({ uid: 'old-uid' })]],
    ['a crafted controller reference without a uid', [owner({ uid: '' })]],
  ])('%s: refused, the real uid comes from the API server, never from the Secret', (_what, owners) => {
    for (const s of [plain({ owners }), envelope(1, undefined, owners)]) {
      const err = refusal(() => planDelivery(s, req()));
      expect(err.code).toBe(AgentCode.NotControlled);
      expect(err.message).toContain(`while that SecretSync's uid is ${UID}`);
      expect(err.message).toContain('delete the Secret so the operator writes it again');
    }
  });

  test('the controller SecretSync NAME is accepted; its uid is the binding', () => {
    const d = planDelivery(envelope(3), req());
    expect(d.mode === 'envelope' && d.binding).toEqual({ namespace: 'payments', secretsync: 'db', uid: UID, version: 3 });
  });

  test.each([
    ['no owner at all', []],
    ['another SecretSync', [owner({ name: 'other' })]],
    ['an owner that is not the controller', [owner({ controller: false })]],
    ['a controller of another kind with the same name', [owner({ kind: 'Deployment', apiVersion: 'apps/v1' })]],
    ['a SecretSync of another API group', [owner({ apiVersion: 'example.com/v1' })]],
  ])('%s is refused as not controlled (plain and envelope alike)', (_what, owners) => {
    for (const s of [plain({ owners }), envelope(1, undefined, owners)]) {
      const err = refusal(() => planDelivery(s, req()));
      expect(err.code).toBe(AgentCode.NotControlled);
      expect(err.message).toContain('is not controlled by SecretSync payments/db');
    }
  });
});

describe('plain mode', () => {
  test('the files are the Secret data; the version is the annotation', () => {
    const d = planDelivery(plain({ version: '4' }), req());
    expect(d.mode).toBe('plain');
    expect(d.version).toBe(4);
    expect(d.mode === 'plain' && Object.fromEntries(Object.entries(d.files).map(([k, v]) => [k, v.toString()]))).toEqual({ password: 'p', user: 'u' });
  });

  test('--version equal to the annotation is delivered', () => {
    expect(planDelivery(plain({ version: '4' }), req({ version: 4 })).version).toBe(4);
  });

  test.each([
    ['another version', '4', 3, 4],
    ['no annotation', undefined, 3, undefined],
    ['a malformed annotation', 'four', 4, undefined],
  ])('--version against %s delivers what the Secret holds (a plain Secret holds only its current version)', (_w, version, asked, delivered) => {
    const d = planDelivery(plain({ version }), req({ version: asked }));
    expect(d.mode).toBe('plain');
    expect(d.version).toBe(delivered);
  });

  test('the fingerprint follows the resourceVersion and the mount annotation', () => {
    const a = planDelivery(plain(), req()).fingerprint;
    const s = plain();
    s.metadata.resourceVersion = '43';
    expect(planDelivery(s, req()).fingerprint).not.toBe(a);
    expect(planDelivery(plain({ mount: '{"mode":"0440"}' }), req()).fingerprint).not.toBe(a);
    expect(planDelivery(plain(), req()).fingerprint).toBe(a);
  });
});

describe('envelope mode', () => {
  test('the current version by default; the previous one when pinned', () => {
    const s = envelope(5, 4);
    const cur = planDelivery(s, req());
    expect(cur.mode === 'envelope' && cur.entry.wrappedKey).toBe(b64('wrapped-5'));
    const prev = planDelivery(s, req({ version: 4 }));
    expect(prev.mode === 'envelope' && [prev.entry.version, prev.binding.version, prev.context]).toEqual([4, 4, { namespace: 'payments', secretsync: 'db' }]);
  });

  test('a version the envelope does not hold is refused, naming the ones it holds', () => {
    const err = refusal(() => planDelivery(envelope(5, 4), req({ version: 3 })));
    expect(err.code).toBe(AgentCode.VersionNotHeld);
    expect(err.message).toContain('does not hold version 3 of SecretSync db (it holds version 5 and 4)');
  });

  test('a malformed envelope is refused with the envelope error', () => {
    const s = envelope(5);
    s.data = { ...s.data, current: b64('6') };
    const err = refusal(() => planDelivery(s, req()));
    expect(err.code).toBe(AgentCode.Envelope);
    expect(err.message).toContain('the current version 6 has no entry v6');
    expect(err.message).toContain('delete it so the operator writes it again');
  });

  test('the fingerprint changes with the delivered entry, not with the other one', () => {
    const a = planDelivery(envelope(5, 4), req()).fingerprint;
    expect(planDelivery(envelope(5), req()).fingerprint).toBe(a);
    expect(planDelivery(envelope(6, 5), req()).fingerprint).not.toBe(a);
  });
});

describe('mount annotation', () => {
  test('mode, uid and gid from the annotation; 0400 by default', () => {
    expect(planDelivery(plain(), req()).ownership).toEqual({ mode: 0o400 });
    expect(planDelivery(plain({ mount: '{"mode":"0440","uid":1000,"gid":2000}' }), req()).ownership).toEqual({ mode: 0o440, uid: 1000, gid: 2000 });
  });

  test('a malformed annotation is refused, saying which field to fix', () => {
    const err = refusal(() => planDelivery(plain({ mount: '{"mode":"rwx"}' }), req()));
    expect(err.code).toBe(AgentCode.InvalidContent);
    expect(err.message).toContain('fix spec.mount of SecretSync db');
  });
});

describe('checkOwner: a non-root agent cannot give files away', () => {
  const r = { namespace: 'app', sync: 'db' };
  const code = (f: () => void): string | undefined => {
    try {
      f();
      return undefined;
    } catch (err) {
      return (err as AgentError).code;
    }
  };
  it.each<[string, { uid?: number; gid?: number }, { uid: number; gids: number[] }, string | undefined]>([
    ['no owner asked', {}, { uid: 1000, gids: [1000] }, undefined],
    ['its own uid and one of its groups', { uid: 1000, gid: 3000 }, { uid: 1000, gids: [1000, 3000] }, undefined],
    ['another uid', { uid: 1001 }, { uid: 1000, gids: [1000] }, AgentCode.Owner],
    ['a group it is not in', { gid: 5 }, { uid: 1000, gids: [1000] }, AgentCode.Owner],
    ['root may chown (a host process in tests)', { uid: 1001, gid: 5 }, { uid: 0, gids: [0] }, undefined],
  ])('%s', (_what, own, self, want) => {
    expect(code(() => checkOwner({ mode: 0o400, ...own }, self, r))).toBe(want);
  });
  it('says what to set, naming the asked owner and its own', () => {
    expect(() => checkOwner({ mode: 0o400, uid: 1001, gid: 2002 }, { uid: 65532, gids: [65532] }, r)).toThrow(
      /files owned by uid 1001, gid 2002 \(spec\.mount\), but the agent runs as uid 65532.*runAsUser\/runAsGroup.*webhook\.clientAuth/,
    );
  });
});
