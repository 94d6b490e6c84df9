// Envelope mode: what one reconcile asks of the key service, decided before any call.
// Nothing (plain mode, a problem found before or during the read, content over the size
// limit or new content for an immutable Secret: planSync refuses that content anyway, so it
// costs no key-service call), keep the held envelope, re-wrap some of its data keys under
// the KEK's newest version, or mint a data key for a version. The reconciler makes the calls (at most one per version entry)
// and planSync builds the Secret from what they return.
import type { AnySource } from '../api/types.js';
import type { Binding, Envelope, KekCoordinates, VersionEnvelope } from '../crypto/envelope.js';
import type { KeyContext } from '../crypto/key-encrypter.js';
import { InvalidSpecError } from '../errors.js';
import { contentHmac, macVerifies, type Content } from './content.js';
import { wantedKek, type Due } from './due.js';
import type { KekRef } from './kek.js';
import type { Observed } from './observe.js';
import { sizeProblem, versionFor, type ReadOutcome } from './plan.js';
import { heldContentHmac, heldEnvelope, sealAction } from './sealing.js';
import type { TemplateSource } from './render.js';
import type { TargetTemplate } from '../api/template.js';

/** The KEK a key-service call goes to: its source, its reference, and the coordinates the spec names (version aside). */
export interface KekVia {
  source: AnySource;
  ref: KekRef;
  want: KekCoordinates;
}

export type SealPlan =
  /** No envelope this reconcile. */
  | { kind: 'none' }
  /** The envelope cannot be made (planSync reports it). */
  | { kind: 'fail'; error: unknown }
  /** The held envelope as it is. */
  | { kind: 'keep'; envelope: Envelope; contentHmac: string | undefined }
  /** The held envelope with these versions' data keys re-wrapped. */
  | { kind: 'rewrap'; envelope: Envelope; versions: number[]; contentHmac: string | undefined; kek: KekVia; ctx: KeyContext }
  /**
   * A fresh data key sealing `content` as `binding.version`, before the `previous` versions
   * kept; `dropped`: versions rollouts still use that the bound pushes out.
   */
  | {
      kind: 'mint';
      content: Content;
      /** Sealed with the values: the agent renders them by it (envelope/v2 entries). */
      template?: TargetTemplate;
      previous?: VersionEnvelope[];
      dropped?: number[];
      contentHmac: string;
      kek: KekVia;
      ctx: KeyContext;
      binding: Binding;
    };

/**
 * The envelope for `version`: the held one kept as it is, its data keys re-wrapped, or
 * `content` sealed under a freshly minted data key. Without `content` (a re-wrap with
 * nothing read) only the held envelope can be kept or re-wrapped.
 */
function sealFor(o: Observed, version: number, content?: Content, rendered?: TemplateSource): SealPlan {
  const kek = o.kek;
  const want = wantedKek(o);
  if (!kek?.source || !want) return { kind: 'fail', error: new InvalidSpecError('spec.target.encryption.kek cannot be resolved') };
  const held = heldContentHmac(o.target);
  // Whether the envelope holds this content: its content HMAC verifies under the key it
  // names (per object, or the legacy global key of an object written before the upgrade).
  const hmac = content ? contentHmac(o.macKeys.content, content) : held;
  const holds = held !== undefined && (content ? macVerifies(o.macKeys, 'content', held, content) : true);
  const action = sealAction(heldEnvelope(o.target, o.macKeys), holds, version, want, kek.latest, o.ss.status?.rollout?.targets);
  if (action.kind === 'keep') return { kind: 'keep', envelope: action.envelope, contentHmac: hmac };
  const ctx = { namespace: o.ss.metadata.namespace ?? '', secretsync: o.ss.metadata.name };
  const via = { source: kek.source, ref: kek.ref, want };
  if (action.kind === 'rewrap') return { kind: 'rewrap', envelope: action.envelope, versions: action.versions, contentHmac: hmac, kek: via, ctx };
  if (!content || hmac === undefined) return { kind: 'fail', error: new InvalidSpecError('envelope mode: nothing to seal') };
  return {
    kind: 'mint',
    // With a template: the synced keys it uses and the template; the HMAC stays the rendered content's.
    content: rendered?.values ?? content,
    ...(rendered ? { template: rendered.template } : {}),
    ...(action.previous ? { previous: action.previous } : {}),
    ...(action.dropped ? { dropped: action.dropped } : {}),
    contentHmac: hmac,
    kek: via,
    ctx,
    binding: { ...ctx, uid: o.ss.metadata.uid ?? '', version: action.version },
  };
}

/**
 * What the key service is asked for in this reconcile: for content just read (as the
 * version it is), or, with nothing read, a re-wrap of the held envelope when one is due.
 */
export function planSeal(o: Observed, due: Due, read: ReadOutcome | undefined): SealPlan {
  if (!o.kek || due.failure !== undefined) return { kind: 'none' };
  if (read) {
    // Content planSync refuses needs no data key.
    if (!read.ok || sizeProblem(o.ss, read.content) !== undefined) return { kind: 'none' };
    const { version, unchanged } = versionFor(o, read.content);
    if (o.target?.immutable) {
      // Its data cannot change: the held envelope as it is (no re-wrap either), or, for new
      // content, no data key at all (planSync refuses it with TargetImmutable).
      const held = heldEnvelope(o.target, o.macKeys);
      return unchanged && held ? { kind: 'keep', envelope: held, contentHmac: contentHmac(o.macKeys.content, read.content) } : { kind: 'none' };
    }
    return sealFor(o, version, read.content, read.rendered);
  }
  return due.rewrap ? sealFor(o, o.ss.status?.version ?? 0) : { kind: 'none' };
}
