// A rotation write to Secrets Manager, made safe to repeat after a crash by the
// ClientRequestToken: the rotation's id becomes the new VersionId, so DescribeSecret tells
// whether an earlier call already wrote it. The new version is put staged AWSPENDING and
// only then promoted to AWSCURRENT (AWS makes the old one AWSPREVIOUS), as AWS's own
// rotation functions do; a crash in between leaves a pending version the next call
// promotes instead of writing another. The value is read fresh (GetSecretValue, not the
// batcher) and must still be basedOn. Every call passes the gate and is counted.
import { InvalidSpecError, InvalidValueError } from '../../errors.js';
import { utf8Text } from '../property.js';
import type { RotationResult, RotationWrite } from '../provider.js';
import type { CallGate } from './call-gate.js';
import type { SecretDescription, SecretsApi, SecretValue } from './client.js';
import type { Connection } from './connection.js';
import { isRetryable, toAwsError, type RotationOperation } from './errors.js';
import { jsonObject } from './secret-value.js';
import { checkSecretId } from './validate.js';

const CURRENT = 'AWSCURRENT';
const PENDING = 'AWSPENDING';

/** Metric names of the calls (onCall operation). */
const OPERATION_NAMES: Record<RotationOperation | 'GetSecretValue', string> = {
  DescribeSecret: 'describe-secret',
  GetSecretValue: 'get-secret-value',
  PutSecretValue: 'put-secret-value',
  UpdateSecretVersionStage: 'update-secret-version-stage',
};

export interface RotationParts {
  /** The source, as sourceKey() names it. */
  source: string;
  connection: Connection;
  gate: CallGate;
}

/** The VersionId carrying `stage`, if any. */
export function versionWithStage(d: SecretDescription, stage: string): string | undefined {
  return Object.entries(d.versionIdsToStages).find(([, stages]) => stages.includes(stage))?.[0];
}

/**
 * The SecretString of the new version: the JSON object of `current` with `w.set` laid over
 * it, or `w.whole` for a plain-string secret. Errors name the secret and properties, never
 * a value.
 */
export function rotatedSecretString(current: SecretValue, w: RotationWrite, what: string): string {
  if (current.secretString === undefined) {
    throw new InvalidValueError(`${what} is binary (SecretBinary): rotation writes SecretString secrets only`);
  }
  const data = jsonObject(current.secretString);
  if (!data) {
    if (w.whole === undefined) {
      throw new InvalidValueError(`${what} is not a JSON object, so it has no properties to set: rotate a plain-string secret whole`);
    }
    const text = utf8Text(w.whole);
    if (text === undefined) throw new InvalidValueError(`${what}: the new value is not valid UTF-8; a SecretString stores text`);
    return text;
  }
  if (w.whole !== undefined) {
    throw new InvalidValueError(`${what} is a JSON object: rotate its properties, not the whole value`);
  }
  const updates = Object.entries(w.set).map(([key, value]): [string, string] => {
    const text = utf8Text(value);
    if (text === undefined) throw new InvalidValueError(`${what}: the new value of property "${key}" is not valid UTF-8; a SecretString stores text`);
    return [key, text];
  });
  // fromEntries defines own properties: a key such as "__proto__" stays a plain key.
  return JSON.stringify(Object.fromEntries([...Object.entries(data), ...updates]));
}

/** The checks that need no call. */
function checkWrite(w: RotationWrite, what: string): void {
  checkSecretId(w.path);
  if (!w.id.trim()) throw new InvalidSpecError(`${what}: the rotation has no id (the ClientRequestToken of its version)`);
  if (!w.basedOn.trim()) throw new InvalidSpecError(`${what}: the rotation names no basedOn version`);
  if (w.whole !== undefined && Object.keys(w.set).length > 0) {
    throw new InvalidSpecError(`${what}: a rotation sets properties or replaces the whole value, not both`);
  }
}

export class AwsRotation {
  constructor(private readonly p: RotationParts) {}

  /** Rotates `w`; also returns every id the secret goes by (name, ARN), whose cached reads are now stale. */
  async rotate(w: RotationWrite): Promise<{ result: RotationResult; ids: string[] }> {
    const what = `${this.p.source}: rotating AWS secret "${w.path}"`;
    checkWrite(w, what);
    const d = await this.describe(w.path);
    const ids = [w.path, d.arn, d.name].filter((x): x is string => !!x);
    const ours = d.versionIdsToStages[w.id];
    if (ours) {
      // Written before (this call was made already, maybe before a crash): finish it.
      if (!ours.includes(CURRENT)) await this.promote(w.path, w.id, versionWithStage(d, CURRENT));
      if (ours.includes(PENDING)) await this.unstage(w.path, w.id);
      return { result: { outcome: 'already-written', version: w.id }, ids };
    }
    const current = versionWithStage(d, CURRENT) ?? '';
    if (current !== w.basedOn) return { result: { outcome: 'moved', version: current }, ids };
    const value = await this.call('GetSecretValue', w.path, (api) => api.getSecretValue(w.path, { versionStage: CURRENT }));
    const read = value.versionId ?? '';
    if (read !== w.basedOn) return { result: { outcome: 'moved', version: read }, ids };
    const secretString = rotatedSecretString(value, w, what);
    await this.call('PutSecretValue', w.path, (api) =>
      api.putSecretValue(w.path, { clientRequestToken: w.id, secretString, versionStages: [PENDING] }),
    );
    await this.promote(w.path, w.id, w.basedOn);
    await this.unstage(w.path, w.id);
    return { result: { outcome: 'written', version: w.id }, ids };
  }

  private describe(path: string): Promise<SecretDescription> {
    return this.call('DescribeSecret', path, (api) => api.describeSecret(path));
  }

  /** AWSCURRENT onto `id` (AWS moves the old one to AWSPREVIOUS). */
  private promote(path: string, id: string, from: string | undefined): Promise<void> {
    return this.settle(
      path,
      (api) => api.updateSecretVersionStage(path, { versionStage: CURRENT, moveToVersionId: id, removeFromVersionId: from }),
      (d) => d.versionIdsToStages[id]?.includes(CURRENT) === true,
    );
  }

  /** AWSPENDING off `id`, once it is current. */
  private unstage(path: string, id: string): Promise<void> {
    return this.settle(
      path,
      (api) => api.updateSecretVersionStage(path, { versionStage: PENDING, removeFromVersionId: id }),
      (d) => d.versionIdsToStages[id]?.includes(PENDING) !== true,
    );
  }

  /**
   * A stage move, which AWS refuses when repeated (a retry after an answer lost on the way
   * back names a RemoveFromVersionId that no longer holds the label): if it fails, the
   * secret's stages say whether it took effect anyway.
   */
  private async settle(path: string, move: (api: SecretsApi) => Promise<void>, done: (d: SecretDescription) => boolean): Promise<void> {
    try {
      await this.call('UpdateSecretVersionStage', path, move);
    } catch (err) {
      const d = await this.describe(path).catch(() => undefined);
      if (!d || !done(d)) throw err;
    }
  }

  private async call<T>(operation: RotationOperation | 'GetSecretValue', path: string, fn: (api: SecretsApi) => Promise<T>): Promise<T> {
    try {
      return await this.p.gate.run(OPERATION_NAMES[operation], () => this.p.connection.use(fn), { isRetryable });
    } catch (err) {
      throw toAwsError(err, { source: this.p.source, operation, target: path, secrets: this.p.connection.redactions(), rotation: true });
    }
  }
}
