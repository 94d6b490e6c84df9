// The KeyEncrypter on Vault / OpenBao Transit. Transit mints the data key
// (datakey/plaintext: the plaintext for us, the `vault:vN:…` ciphertext for the Secret),
// unwraps it (decrypt), and re-wraps it under the key's newest version (rewrap) without
// the plaintext leaving Vault. The KEK version is Transit's key version, as a string.
// Who calls is the caller's business: `token` hands out a token per call (the provider's
// session, or the agent's own login), and `onDenied` tells its owner that Vault refused
// one, so it can log in again next time. Transit keys are not derived here, so the
// KeyContext is not sent: the envelope's additional data binds the values instead.
import type { DataKey, KekVersion, KeyContext, KeyEncrypter, WrappedKey } from '../../crypto/key-encrypter.js';
import { InvalidSpecError, InvalidValueError, SourceUnavailableError } from '../../errors.js';
import type { VaultHttp } from './client.js';
import { statusOf, toTransitError, type TransitOperation } from './errors.js';
import { encodePath } from './kv.js';

export interface TransitOptions {
  http: VaultHttp;
  /** A token for the next call (the session logs in, renews and logs in again as it must). */
  token: () => Promise<string>;
  /** The Transit engine's mount, e.g. "transit". */
  mount: string;
  /** The Transit key's name (the KEK). */
  key: string;
  /** One call per request sent: transit-datakey, transit-decrypt, transit-rewrap, transit-read-key. */
  onCall?: (operation: string, result: 'success' | 'error') => void;
  /** Vault answered 403 (a token it no longer honours, or a policy that denies the call). */
  onDenied?: () => void;
  /** How errors name whose key this is (e.g. the SecretSource); default "Vault Transit". */
  source?: string;
  /** host[:port] of the Vault address, for "could not be reached" messages. */
  host?: string;
}

const DATA_KEY_BYTES = 32;
/** `vault:v<version>:<base64>`, as Transit writes a ciphertext. */
const CIPHERTEXT = /^vault:v([1-9]\d{0,9}):[A-Za-z0-9+/]+={0,2}$/;

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function vaultTransit(o: TransitOptions): KeyEncrypter {
  const mount = o.mount.replace(/^\/+|\/+$/g, '');
  const mountPath = encodePath(mount, 'kek.vaultTransit.mount');
  if (!o.key || o.key.includes('/') || o.key === '.' || o.key === '..') {
    throw new InvalidSpecError(`kek.vaultTransit.key "${o.key}" is not a Transit key name: write one name without slashes, e.g. "secretsync"`);
  }
  const key = o.key;
  const source = o.source ?? 'Vault Transit';
  const route: Record<TransitOperation, string> = {
    'transit-datakey': 'datakey/plaintext',
    'transit-decrypt': 'decrypt',
    'transit-rewrap': 'rewrap',
    'transit-read-key': 'keys',
  };
  /** As a policy names it (and messages show it). */
  const policyPath = (op: TransitOperation) => `${mount}/${route[op]}/${key}`;
  const apiPath = (op: TransitOperation) => `${mountPath}/${route[op]}/${encodeURIComponent(key)}`;
  const what = (op: TransitOperation) => `${source}: Vault Transit "${policyPath(op)}"`;

  /** One request; resolves to the answer's `data` block. `secrets` are cut out of error text. */
  async function call(op: TransitOperation, body: Record<string, unknown> | undefined, secrets: string[]): Promise<Record<string, unknown>> {
    const token = await o.token();
    let answer: unknown;
    try {
      answer = body === undefined ? await o.http.read(apiPath(op), token) : await o.http.write(apiPath(op), body, token);
      o.onCall?.(op, 'success');
    } catch (err) {
      o.onCall?.(op, 'error');
      if (statusOf(err) === 403) o.onDenied?.();
      throw toTransitError(err, {
        source,
        host: o.host ?? 'its address',
        operation: op,
        path: policyPath(op),
        mount,
        key,
        capability: body === undefined ? 'read' : 'update',
        secrets: [token, ...secrets],
      });
    }
    const data = isMap(answer) ? answer.data : undefined;
    if (!isMap(data)) throw new SourceUnavailableError(`${what(op)}: the answer has no data block`);
    return data;
  }

  function dataKeyOf(op: TransitOperation, plaintext: unknown): Buffer {
    const bytes = typeof plaintext === 'string' ? Buffer.from(plaintext, 'base64') : Buffer.alloc(0);
    if (bytes.length !== DATA_KEY_BYTES) {
      bytes.fill(0);
      throw new InvalidValueError(`${what(op)}: the data key is not ${DATA_KEY_BYTES} bytes (was it wrapped by something else than secretsync?)`);
    }
    return bytes;
  }

  /** The wrapped key and the key version Transit reports (or the one its prefix names). */
  function wrappedOf(op: TransitOperation, data: Record<string, unknown>): WrappedKey {
    const wrapped = data.ciphertext;
    const m = typeof wrapped === 'string' ? CIPHERTEXT.exec(wrapped) : null;
    if (!m) throw new SourceUnavailableError(`${what(op)}: the answer has no Transit ciphertext`);
    const version = typeof data.key_version === 'number' ? String(data.key_version) : (m[1] as string);
    return { wrapped: wrapped as string, kekVersion: version };
  }

  function checkWrapped(op: TransitOperation, wrapped: string): void {
    if (!CIPHERTEXT.test(wrapped)) {
      throw new InvalidValueError(`${what(op)}: the wrapped data key is not a Transit ciphertext (vault:v<N>:…)`);
    }
  }

  return {
    async generateDataKey(_ctx: KeyContext): Promise<DataKey> {
      const data = await call('transit-datakey', { bits: DATA_KEY_BYTES * 8 }, []);
      const { wrapped, kekVersion } = wrappedOf('transit-datakey', data);
      return { plaintext: dataKeyOf('transit-datakey', data.plaintext), wrapped, kekVersion };
    },

    async decrypt(wrapped: string, _ctx: KeyContext): Promise<Buffer> {
      checkWrapped('transit-decrypt', wrapped);
      const data = await call('transit-decrypt', { ciphertext: wrapped }, [wrapped]);
      return dataKeyOf('transit-decrypt', data.plaintext);
    },

    async rewrap(wrapped: string, _ctx: KeyContext): Promise<WrappedKey> {
      checkWrapped('transit-rewrap', wrapped);
      return wrappedOf('transit-rewrap', await call('transit-rewrap', { ciphertext: wrapped }, [wrapped]));
    },

    async currentVersion(): Promise<KekVersion> {
      const data = await call('transit-read-key', undefined, []);
      const latest = data.latest_version;
      if (typeof latest !== 'number' || !Number.isSafeInteger(latest) || latest < 1) {
        throw new SourceUnavailableError(`${what('transit-read-key')}: the answer has no latest_version`);
      }
      return String(latest);
    },
  };
}
