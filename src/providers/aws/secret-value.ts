// From one Secrets Manager secret version to what the provider contract returns. A
// SecretString is UTF-8 text: without `property` it is returned as-is; with `property`
// it must be a JSON object, read with the shared lookup (top-level key first, else a
// dotted path). A SecretBinary is returned as its bytes and has no properties. Errors
// name the secret and property but never quote the value (a JSON parse error would).
import type { RemoteRef } from '../../api/types.js';
import { InvalidValueError, KeyNotFoundError } from '../../errors.js';
import { encodeMap, encodeValue, lookupProperty } from '../property.js';
import type { RemoteMap, RemoteValue } from '../provider.js';
import type { SecretValue } from './client.js';

/** `text` parsed, if it is a JSON object; the parse error (which quotes the text) never surfaces. */
export function jsonObject(text: string): Record<string, unknown> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined; // the SyntaxError quotes the text: never surface it
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
}

function versionOf(s: SecretValue): string {
  return s.versionId ?? '';
}

/** The value of `ref` in `s`; `what` names the secret in errors, e.g. `<source>: AWS secret "x"`. */
export function remoteValue(s: SecretValue, ref: RemoteRef, what: string): RemoteValue {
  const property = ref.property || undefined;
  if (s.secretString === undefined) {
    if (s.secretBinary === undefined) throw new InvalidValueError(`${what} has neither SecretString nor SecretBinary`);
    if (property !== undefined) {
      throw new InvalidValueError(
        `${what} is binary (SecretBinary), so it has no property "${property}": remove property to sync its bytes`,
      );
    }
    return { value: Buffer.from(s.secretBinary), version: versionOf(s) };
  }
  if (property === undefined) return { value: Buffer.from(s.secretString, 'utf8'), version: versionOf(s) };
  const data = jsonObject(s.secretString);
  if (!data) {
    throw new InvalidValueError(
      `${what} is not a JSON object, so it has no property "${property}": remove property to sync the whole value, or store the secret as JSON`,
    );
  }
  const found = lookupProperty(data, property);
  if (!found.found) throw new KeyNotFoundError(`${what} has no property "${property}"`);
  return { value: encodeValue(found.value), version: versionOf(s) };
}

/** Every top-level property of `s` (dataFrom): only a JSON object in SecretString has them. */
export function remoteMap(s: SecretValue, what: string): RemoteMap {
  const data = s.secretString === undefined ? undefined : jsonObject(s.secretString);
  if (!data) {
    const kind = s.secretString === undefined ? 'binary (SecretBinary)' : 'not a JSON object';
    throw new InvalidValueError(`${what} is ${kind}, so dataFrom cannot take its properties: use data with one key for the whole value`);
  }
  return { values: encodeMap(data, what), version: versionOf(s) };
}
