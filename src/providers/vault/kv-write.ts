// The pure parts of a rotation write to KV v2: where it goes, what it sends, and what the
// answers mean. The write is `POST <mount>/data/<path>` with `options.cas` set to the
// version the caller planned on, so Vault itself refuses it once anyone (including an
// earlier attempt of ours) wrote in between: that refusal is how a repeated call after a
// crash learns it must not write again. Values are KV strings; errors name properties,
// never their values.
import type { RotationWrite } from '../provider.js';
import { InvalidSpecError, InvalidValueError } from '../../errors.js';
import { utf8Text } from '../property.js';
import { kvReadPath, type KvSettings } from './kv.js';
import { statusOf } from './errors.js';

/** Vault's own words for a check-and-set refusal (HTTP 400). */
const CAS_MISMATCH = /check-and-set parameter did not match the current version/i;

/**
 * The Vault API path a rotation of `w` reads and writes (`<mount>/data/<path>`), after the
 * checks that need no call: a KV v2 mount, properties rather than a whole value, a
 * version to check against.
 */
export function kvWritePath(kv: KvSettings, w: RotationWrite, source: string): string {
  const what = `${source}: rotating Vault secret "${w.path}"`;
  if (kv.version !== 2) {
    throw new InvalidSpecError(
      `${what}: KV mount "${kv.mount}" is version 1; rotation needs a KV v2 mount (versions and check-and-set), ` +
        'so a repeated write after a crash is refused instead of applied twice: use a KV v2 mount (spec.vault.kv.version: 2)',
    );
  }
  if (w.whole !== undefined) {
    throw new InvalidSpecError(`${what}: a KV secret is a map of properties and has no whole value to replace: name a property`);
  }
  if (!/^[1-9]\d{0,15}$/.test(w.basedOn)) {
    throw new InvalidSpecError(`${what}: basedOn "${w.basedOn}" is not a KV v2 version: expected a positive integer such as "3"`);
  }
  return kvReadPath(kv, w.path);
}

/** The body of the check-and-set write: the current data with `set` laid over it, as KV strings. */
export function kvWriteBody(current: Record<string, unknown>, w: RotationWrite, what: string): Record<string, unknown> {
  const updates = Object.entries(w.set).map(([key, value]): [string, string] => {
    const text = utf8Text(value);
    if (text === undefined) throw new InvalidValueError(`${what}: the new value of property "${key}" is not valid UTF-8; a KV secret stores text`);
    return [key, text];
  });
  // fromEntries defines own properties: a key such as "__proto__" stays a plain key.
  const data = Object.fromEntries([...Object.entries(current), ...updates]);
  return { options: { cas: Number(w.basedOn) }, data };
}

/** The version a KV v2 write answer reports (`data.version`). */
export function parseKvWriteAnswer(body: unknown, what: string): string {
  const data = (body as { data?: { version?: unknown } } | null)?.data;
  const version = data?.version;
  if (typeof version !== 'number' && typeof version !== 'string') {
    throw new InvalidValueError(`${what}: the write answer has no data.version: is the mount KV v2?`);
  }
  return String(version);
}

/** Vault refused the write because the secret is no longer at the version we sent as cas. */
export function isCasMismatch(err: unknown): boolean {
  const message = err instanceof Error ? err.message : '';
  return statusOf(err) === 400 && CAS_MISMATCH.test(message);
}
