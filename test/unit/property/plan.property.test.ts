// Properties of the planner (issue 21, item 4), over runs of reconciles: each step the
// clock moves, someone may delete, empty or edit the Secret or ask for a force-sync, and
// when the plan reads, the provider answers with some content or fails with an error of
// any kind (every typed error, SDK-like and network-like errors, strings, undefined), and
// spec.target.name may move, leaving the old Secret to clean up after a successful read.
// Invariants of every plan:
// - a failed read (or a failure found before it) writes no Secret and deletes nothing, not
//   even the Secret of an earlier target name: the workload keeps the last good content;
// - status.version never decreases and never disappears; it grows by one exactly when the
//   content read differs from what the status records;
// - after a successful read the Secret holds exactly the content read, never less.
// Envelope mode, one step: a failed read or a failed seal writes no Secret either.
import fc from 'fast-check';
import { FORCE_SYNC_ANNOTATION } from '../../../src/api/annotations.js';
import type { SecretSync } from '../../../src/api/types.js';
import { errorClasses } from '../../../src/errors.js';
import { contentHmac, fromSecretData, sameContent, type Content } from '../../../src/secretsync/content.js';
import { whatIsDue } from '../../../src/secretsync/due.js';
import type { Observed } from '../../../src/secretsync/observe.js';
import { planSync, type Plan, type ReadOutcome, type SealOutcome } from '../../../src/secretsync/plan.js';
import type { KubeSecret } from '../../../src/secretsync/ports.js';
import type { SecretWrite } from '../../../src/secretsync/target.js';
import { aSecretSync, content, keysFor, observed, syncedStatus, T0, writtenSecret } from '../secretsync/fixtures.js';

/** Errors of every kind a read can end with. */
const readError: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...errorClasses).map((C) => new C('synthetic failure')),
  fc.constantFrom(
    new Error('socket hang up'),
    Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:8200'), { code: 'ECONNREFUSED' }),
    Object.assign(new Error('aborted'), { name: 'AbortError' }),
    new TypeError("Cannot read properties of undefined (reading 'data')"),
    Object.assign(new Error('Status 500'), { response: { statusCode: 500, body: { errors: ['internal'] } } }),
    Object.assign(new Error('AccessDeniedException'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }),
    'a string thrown',
    undefined,
    null,
    { message: 'a plain object' },
  ),
);

const CONTENTS: Content[] = [content({ password: 'p1' }), content({ password: 'p2' }), content({ password: 'p1', user: 'u' }), content({ user: 'u' })];

type Read = { ok: true; content: number } | { ok: false; error: unknown };
const readOf: fc.Arbitrary<Read> = fc.oneof(
  fc.nat(CONTENTS.length - 1).map((i) => ({ ok: true as const, content: i })),
  readError.map((error) => ({ ok: false as const, error })),
);

/** What someone else does between reconciles (rename: spec.target.name moves between db and db-2). */
type Meddle = 'none' | 'delete-secret' | 'empty-secret' | 'edit-secret' | 'force-sync' | 'rename-target';

const step = fc.record({
  advanceMs: fc.oneof(fc.nat(5_000), fc.integer({ min: 25_000, max: 40_000 }), fc.nat(7_200_000)),
  meddle: fc.oneof({ weight: 6, arbitrary: fc.constant<Meddle>('none') }, { weight: 1, arbitrary: fc.constantFrom<Meddle>('delete-secret', 'empty-secret', 'edit-secret', 'force-sync', 'rename-target') }),
  read: readOf,
});

let rv = 100;
/** The Secret after `w`, as the API server would store it. */
function applyWrite(target: KubeSecret | undefined, w: SecretWrite | undefined, ss: SecretSync): KubeSecret | undefined {
  if (w === undefined) return target;
  rv++;
  if (w.kind === 'create' || w.kind === 'replace') {
    // As the operator creates it: managedFields naming us (the fixture's way).
    return { ...writtenSecret(ss, fromSecretData(w.secret.data), String(rv)), ...w.secret, metadata: { ...writtenSecret(ss, {}, String(rv)).metadata, ...w.secret.metadata, resourceVersion: String(rv) } };
  }
  if (target === undefined) throw new Error('a patch of a Secret that does not exist');
  const merge = (have: Record<string, string> | undefined, patch: Record<string, string | null> | undefined) => {
    if (patch === undefined) return have;
    const out = { ...(have ?? {}) };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete out[k];
      else out[k] = v;
    }
    return out;
  };
  return {
    ...target,
    data: merge(target.data, w.patch.data),
    metadata: {
      ...target.metadata,
      resourceVersion: String(rv),
      labels: merge(target.metadata.labels, w.patch.metadata.labels),
      annotations: merge(target.metadata.annotations, w.patch.metadata.annotations),
      ...(w.patch.metadata.ownerReferences ? { ownerReferences: w.patch.metadata.ownerReferences } : {}),
    },
  };
}

/** The plan's writes that could take content away from a workload. */
function destructive(p: Plan, targetName: string): string[] {
  const out: string[] = [];
  if (p.secret?.kind === 'replace') out.push('replace');
  if (p.secret?.kind === 'patch' && p.secret.patch.data && Object.values(p.secret.patch.data).some((v) => v === null)) out.push('removes data keys');
  if (p.secret?.kind === 'create' && Object.keys(p.secret.secret.data ?? {}).length === 0) out.push('creates an empty Secret');
  for (const c of p.cleanups) if (c.name === targetName) out.push(`${c.kind} of the target`);
  return out;
}

test('over any run of reconciles and read outcomes: no Secret write on a failure, versions only grow, the Secret holds what was read', () => {
  const seen = { failedReads: 0, newVersions: 0, repairs: 0, cleanups: 0 };
  fc.assert(
    fc.property(fc.boolean(), fc.array(step, { minLength: 1, maxLength: 12 }), (startHealthy, steps) => {
      let ss = aSecretSync();
      // The Secrets of the namespace that this SecretSync owns, by name.
      const secrets = new Map<string, KubeSecret>();
      if (startHealthy) {
        ss = { ...ss, status: syncedStatus(ss, CONTENTS[0] as Content) };
        secrets.set('db', writtenSecret(ss, CONTENTS[0] as Content));
      }
      const name = () => ss.spec.target?.name ?? ss.metadata.name;
      let memory: Observed['memory'];
      let now = T0;
      for (const s of steps) {
        now = new Date(now.getTime() + s.advanceMs);
        let target = secrets.get(name());
        if (s.meddle === 'delete-secret') target = undefined;
        if (s.meddle === 'empty-secret' && target) target = { ...target, data: {} };
        if (s.meddle === 'edit-secret' && target) target = { ...target, data: { ...target.data, password: Buffer.from('edited').toString('base64') } };
        if (s.meddle === 'rename-target') {
          const to = name() === 'db' ? 'db-2' : 'db';
          ss = { ...ss, metadata: { ...ss.metadata, generation: (ss.metadata.generation ?? 1) + 1 }, spec: { ...ss.spec, target: { ...ss.spec.target, name: to } } };
          target = secrets.get(to);
        }
        if (s.meddle === 'force-sync') {
          ss = { ...ss, metadata: { ...ss.metadata, annotations: { ...ss.metadata.annotations, [FORCE_SYNC_ANNOTATION]: now.toISOString() } } };
        }
        if (target === undefined) secrets.delete(name());
        else secrets.set(name(), target);
        const strays = [...secrets.entries()].filter(([n]) => n !== name()).map(([, sec]) => sec);
        const o = observed({ ss, target, strays, memory, now });
        const due = whatIsDue(o);
        const read: ReadOutcome | undefined =
          due.read !== undefined && due.failure === undefined
            ? s.read.ok
              ? { ok: true, content: CONTENTS[s.read.content] as Content, sourceVersions: { db: String(s.read.content) } }
              : { ok: false, error: s.read.error }
            : undefined;
        const plan = planSync(o, due, read);

        const before = ss.status?.version;
        const after = (plan.status ?? ss.status)?.version;
        const failed = due.failure !== undefined || (read !== undefined && !read.ok);
        if (failed) {
          expect(plan.secret).toBeUndefined();
          expect(plan.cleanups).toEqual([]);
          expect(after).toBe(before);
          expect(plan.result).toBe('error');
        }
        // Keys the source no longer has go after a successful read; nothing else takes content away.
        if (!read?.ok) expect(destructive(plan, name())).toEqual([]);
        expect(plan.cleanups.filter((c) => c.name === name())).toEqual([]);
        if (before !== undefined) expect(after).toBeGreaterThanOrEqual(before);
        if (read !== undefined && !read.ok) seen.failedReads++;
        if (after !== before) seen.newVersions++;
        if (read?.ok && after === before && plan.secret !== undefined) seen.repairs++;
        if (read?.ok) {
          // One more exactly when the content differs from what status records.
          const same = ss.status?.contentHmac !== undefined && ss.status.contentHmac === contentHmac(keysFor(ss).content, read.content);
          expect(after).toBe(same ? before : (before ?? 0) + 1);
        }

        const written = applyWrite(target, plan.secret, ss);
        if (written !== undefined) secrets.set(name(), written);
        for (const c of plan.cleanups) if (c.kind === 'delete') secrets.delete(c.name);
        if (plan.cleanups.length > 0) seen.cleanups++;
        ss = plan.status ? { ...ss, status: plan.status } : ss;
        memory = plan.memory;
        if (read?.ok) expect(sameContent(fromSecretData(secrets.get(name())?.data), read.content)).toBe(true);
      }
    }),
    { numRuns: 300 },
  );
  // The runs reach what the invariants are about: failed reads, new versions, Secrets repaired.
  expect(seen.failedReads).toBeGreaterThan(100);
  expect(seen.newVersions).toBeGreaterThan(100);
  expect(seen.repairs).toBeGreaterThan(5);
  expect(seen.cleanups).toBeGreaterThan(5);
});

test('envelope mode: a failed read or a failed seal writes no Secret, keeps the version and deletes nothing', () => {
  const enc = aSecretSync({ target: { encryption: { kek: { vaultTransit: { sourceRef: { name: 'vault' }, key: 'secretsync', agentAuth: { kubernetes: { role: 'app' } } } } } } });
  fc.assert(
    fc.property(fc.nat(20), readOf, fc.option(readError, { nil: undefined }), fc.nat(3_600_000), (version, r, sealError, advance) => {
      const ss: SecretSync = version === 0 ? enc : { ...enc, status: { ...syncedStatus(enc, CONTENTS[0] as Content), version } };
      const target: KubeSecret | undefined =
        version === 0 ? undefined : { ...writtenSecret(ss, {}), type: 'secretsync.io/envelope', data: { format: 'eA==', current: Buffer.from(String(version)).toString('base64') } };
      const now = new Date(T0.getTime() + advance);
      const o = observed({ ss, target, now });
      const read: ReadOutcome = r.ok ? { ok: true, content: CONTENTS[r.content] as Content, sourceVersions: { db: '1' } } : { ok: false, error: r.error };
      const sealed: SealOutcome | undefined = r.ok && sealError !== undefined ? { ok: false, error: sealError } : undefined;
      fc.pre(!r.ok || sealed !== undefined);
      const plan = planSync(o, { read: 'refresh due', nextRefresh: new Date(now.getTime() + 30_000) }, read, sealed);
      expect(plan.secret).toBeUndefined();
      expect(plan.cleanups).toEqual([]);
      expect(plan.result).toBe('error');
      expect((plan.status ?? ss.status)?.version).toBe(ss.status?.version);
    }),
    { numRuns: 300 },
  );
});
