// Envelope mode, the I/O side of planSeal (seal-plan.ts): the key-service calls a seal
// plan asks for — none to keep the held envelope, one re-wrap per stale version entry, or
// one data key minted for a new version entry — and the envelope they make. It decides
// nothing; a failed call becomes the outcome's error, which planSync reports.
import type { AnySource } from '../api/types.js';
import { heldVersions, sealEntry, type VersionEnvelope } from '../crypto/envelope.js';
import type { KeyEncrypter } from '../crypto/key-encrypter.js';
import type { Logger } from '../observability/logger.js';
import { keyIdOf, type KekRef } from './kek.js';
import type { KekVersions } from './kek-versions.js';
import type { SealOutcome } from './plan.js';
import type { SealPlan } from './seal-plan.js';

export interface SealDeps {
  /** A KeyEncrypter for the KEK, authenticated as its source. */
  encrypter(source: AnySource, ref: KekRef): KeyEncrypter;
  /** Newest KEK versions known to this process: every call's answer is recorded. */
  kekVersions?: KekVersions;
  log: Logger;
}

/** The envelope `plan` asks for, for the SecretSync `key`; undefined when there is none this reconcile. */
export async function carryOutSeal(key: string, plan: SealPlan, d: SealDeps): Promise<SealOutcome | undefined> {
  switch (plan.kind) {
    case 'none':
      return undefined;
    case 'fail':
      return { ok: false, error: plan.error };
    case 'keep':
      return { ok: true, envelope: plan.envelope, contentHmac: plan.contentHmac };
  }
  const { source, ref, want } = plan.kek;
  try {
    const enc = d.encrypter(source, ref);
    if (plan.kind === 'rewrap') {
      const entries = await Promise.all(
        heldVersions(plan.envelope).map(async (v) => {
          if (!plan.versions.includes(v.version)) return v;
          const w = await enc.rewrap(v.wrappedKey, plan.ctx);
          d.kekVersions?.observe(ref.id, w.kekVersion);
          return { ...v, wrappedKey: w.wrapped, kek: { ...want, version: w.kekVersion } };
        }),
      );
      const [current, ...previous] = entries as [VersionEnvelope, ...VersionEnvelope[]];
      return { ok: true, envelope: { current, ...(previous.length > 0 ? { previous } : {}) }, contentHmac: plan.contentHmac, rewrapped: true };
    }
    const { version } = plan.binding;
    if (plan.dropped) {
      // Past the bound: pods still pinned to these versions keep the files they have, but
      // a pod created from their old template (a rescheduled one) cannot open them.
      d.log.warn(
        { secretsync: key, version, dropped: plan.dropped },
        'envelope holds at most 3 versions: older versions dropped while rollouts still run pods pinned to them',
      );
    }
    const dk = await enc.generateDataKey(plan.ctx);
    try {
      d.kekVersions?.observe(ref.id, dk.kekVersion);
      const current: VersionEnvelope = {
        version,
        kek: { ...want, version: dk.kekVersion },
        wrappedKey: dk.wrapped,
        ...sealEntry(dk.plaintext, plan.binding, plan.content, plan.template),
      };
      d.log.debug({ secretsync: key, version, keyId: keyIdOf(current.kek) }, 'minted a data key');
      return { ok: true, envelope: { current, ...(plan.previous ? { previous: plan.previous } : {}) }, contentHmac: plan.contentHmac };
    } finally {
      dk.plaintext.fill(0);
    }
  } catch (error) {
    return { ok: false, error };
  }
}
