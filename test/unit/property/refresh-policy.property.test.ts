// Properties of refresh.policy and target.immutable (issue 22, item 4), over runs of
// reconciles: the clock moves (hours at a time), someone may delete or edit the Secret,
// edit the spec or ask for a force-sync, and reads answer some content or fail.
// Invariants of every plan:
// - OnChange and CreatedOnce never read because time passed or the source object changed;
// - CreatedOnce reads, while its Secret exists and was synced, only for a new force-sync value;
// - an immutable Secret is created immutable and its data is never patched: what it holds
//   changes only by being deleted and created again;
// - status.version never decreases.
import fc from 'fast-check';
import { FORCE_SYNC_ANNOTATION } from '../../../src/api/annotations.js';
import type { RefreshPolicy, SecretSync } from '../../../src/api/types.js';
import { fromSecretData, type Content } from '../../../src/secretsync/content.js';
import { whatIsDue } from '../../../src/secretsync/due.js';
import type { Observed } from '../../../src/secretsync/observe.js';
import { planSync, type ReadOutcome } from '../../../src/secretsync/plan.js';
import type { KubeSecret } from '../../../src/secretsync/ports.js';
import type { SecretWrite } from '../../../src/secretsync/target.js';
import { aSecretSync, asWritten, content, observed, T0 } from '../secretsync/fixtures.js';

const CONTENTS: Content[] = [content({ password: 'p1' }), content({ password: 'p2' }), content({ password: 'p1', user: 'u' })];
type Meddle = 'none' | 'delete-secret' | 'edit-secret' | 'force-sync' | 'edit-spec' | 'source-object-changed';

const step = fc.record({
  advanceMs: fc.oneof(fc.nat(5_000), fc.nat(10 * 3_600_000)),
  meddle: fc.oneof(
    { weight: 4, arbitrary: fc.constant<Meddle>('none') },
    { weight: 1, arbitrary: fc.constantFrom<Meddle>('delete-secret', 'edit-secret', 'force-sync', 'edit-spec', 'source-object-changed') },
  ),
  read: fc.oneof(fc.nat(CONTENTS.length - 1), fc.constant(-1)), // -1: the read fails
});

let rv = 100;
function applyWrite(target: KubeSecret | undefined, w: SecretWrite | undefined): KubeSecret | undefined {
  if (w === undefined) return target;
  rv++;
  if (w.kind !== 'patch') return asWritten(w.secret, String(rv));
  if (!target) throw new Error('a patch of a Secret that does not exist');
  if (target.immutable && w.patch.data) throw new Error('the API server refuses a data change of an immutable Secret');
  const data = { ...(target.data ?? {}) };
  for (const [k, v] of Object.entries(w.patch.data ?? {})) {
    if (v === null) delete data[k];
    else data[k] = v;
  }
  return { ...target, data, ...(w.patch.immutable ? { immutable: true } : {}), metadata: { ...target.metadata, resourceVersion: String(rv) } };
}

test('over any run: timer-less policies read on no timer, CreatedOnce only while its Secret is missing or on force-sync, immutable data never patched', () => {
  const seen = { reads: 0, held: 0, refused: 0, recreated: 0 };
  fc.assert(
    fc.property(fc.constantFrom<RefreshPolicy>('Periodic', 'OnChange', 'CreatedOnce'), fc.boolean(), fc.array(step, { minLength: 1, maxLength: 14 }), (policy, immutable, steps) => {
      let ss: SecretSync = aSecretSync({ refresh: policy === 'Periodic' ? { interval: '30s' } : { policy }, target: immutable ? { immutable: true } : {} });
      let target: KubeSecret | undefined;
      let memory: Observed['memory'];
      let sourceVersion = 's1/1';
      let now = T0;
      for (const s of steps) {
        now = new Date(now.getTime() + s.advanceMs);
        if (s.meddle === 'delete-secret') target = undefined;
        // The API server refuses edits of an immutable Secret's data.
        if (s.meddle === 'edit-secret' && target && !target.immutable) target = { ...target, data: { ...target.data, password: Buffer.from('edited').toString('base64') } };
        if (s.meddle === 'force-sync') ss = { ...ss, metadata: { ...ss.metadata, annotations: { [FORCE_SYNC_ANNOTATION]: now.toISOString() } } };
        if (s.meddle === 'edit-spec') ss = { ...ss, metadata: { ...ss.metadata, generation: (ss.metadata.generation ?? 1) + 1 } };
        if (s.meddle === 'source-object-changed') sourceVersion = `s1/${now.getTime()}`;
        const o = observed({ ss, target, memory, now, sourceVersion });
        const due = whatIsDue(o);
        const synced = ss.status?.contentHmac !== undefined;
        if (policy !== 'Periodic') expect(['refresh due', 'source changed']).not.toContain(due.read);
        if (policy === 'CreatedOnce' && target && synced && due.read !== undefined) expect(due.read).toBe('force-sync');
        if (policy === 'CreatedOnce' && target && synced && due.read === undefined) seen.held++;
        const read: ReadOutcome | undefined =
          due.read !== undefined && due.failure === undefined
            ? s.read >= 0
              ? { ok: true, content: CONTENTS[s.read] as Content, sourceVersions: { db: String(s.read) } }
              : { ok: false, error: new Error('unavailable') }
            : undefined;
        if (read) seen.reads++;
        const plan = planSync(o, due, read);
        const before = ss.status?.version;
        const after = (plan.status ?? ss.status)?.version;
        if (before !== undefined) expect(after).toBeGreaterThanOrEqual(before);
        if (immutable && plan.secret?.kind === 'create') {
          expect(plan.secret.secret.immutable).toBe(true);
          if (before !== undefined) seen.recreated++;
        }
        if (target?.immutable && plan.secret?.kind === 'patch') expect(plan.secret.patch.data).toBeUndefined();
        if (plan.status?.conditions?.some((c) => c.type === 'Ready' && c.reason === 'TargetImmutable')) seen.refused++;
        const held = target?.immutable ? fromSecretData(target.data) : undefined;
        target = applyWrite(target, plan.secret);
        if (held && target) expect(fromSecretData(target.data)).toEqual(held);
        ss = plan.status ? { ...ss, status: plan.status } : ss;
        memory = plan.memory;
      }
    }),
    { numRuns: 400 },
  );
  // The runs reach what the invariants are about.
  expect(seen.reads).toBeGreaterThan(200);
  expect(seen.held).toBeGreaterThan(50);
  expect(seen.refused).toBeGreaterThan(5);
  expect(seen.recreated).toBeGreaterThan(5);
});
