// The envelope core: AES-256-GCM values bound to where they belong, and the Secret layout.
// Buffers are compared with equals(), never with toEqual, so a failing test cannot print
// a data key or a value.
import {
  EnvelopeError,
  decodeEnvelope,
  encodeEnvelope,
  open,
  openEntry,
  pickVersion,
  randomDataKey,
  seal,
  sealEntry,
  type Binding,
  type Envelope,
  type VersionEnvelope,
} from '../../../src/crypto/envelope.js';
import { canary, leaksIn } from '../../helpers/canary.js';

const binding: Binding = { namespace: 'payments', secretsync: 'db-creds', uid: '6f1c1a0e-2b7e-4f9a-9d51-0c3e1c7a1b2d', version: 7 };
const b = (s: string) => Buffer.from(s, 'utf8');
const sameBytes = (x: Buffer | undefined, y: Buffer) => x !== undefined && x.equals(y);

function errorOf(fn: () => unknown): EnvelopeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof EnvelopeError) return err;
    throw err;
  }
  throw new Error('expected an EnvelopeError');
}

describe('seal and open', () => {
  test('round trip of every key, empty and binary values included', () => {
    const key = randomDataKey();
    const content = { password: b(canary()), empty: Buffer.alloc(0), binary: Buffer.from([0, 255, 1, 254]) };
    const opened = open(key, binding, seal(key, binding, content));
    expect(Object.keys(opened).sort()).toEqual(['binary', 'empty', 'password']);
    for (const [k, v] of Object.entries(content)) expect(sameBytes(opened[k], v)).toBe(true);
  });

  test('a value is nonce (12) ‖ ciphertext (as long as the value) ‖ tag (16), base64', () => {
    const key = randomDataKey();
    const raw = Buffer.from(seal(key, binding, { k: b('12345') }).k as string, 'base64');
    expect(raw).toHaveLength(12 + 5 + 16);
  });

  test.each<[string, Partial<Binding>]>([
    ['namespace', { namespace: 'other' }],
    ['secretsync', { secretsync: 'other' }],
    ['uid', { uid: '00000000-0000-0000-0000-000000000000' }],
    ['version', { version: 8 }],
  ])('a value does not open when the %s differs', (_field, change) => {
    const key = randomDataKey();
    const sealed = seal(key, binding, { password: b(canary()) });
    const err = errorOf(() => open(key, { ...binding, ...change }, sealed));
    expect(err.message).toContain('value "password"');
    expect(err.message).toContain('copied from another Secret, namespace or version');
  });

  test('a value does not open under another key name (moved between keys of one Secret)', () => {
    const key = randomDataKey();
    const sealed = seal(key, binding, { password: b('pw'), username: b('app') });
    expect(() => open(key, binding, { username: sealed.password as string })).toThrow(EnvelopeError);
    expect(() => open(key, binding, { password: sealed.username as string, username: sealed.password as string })).toThrow(
      EnvelopeError,
    );
  });

  test('AAD fields are separated, so moving characters between them does not open', () => {
    const key = randomDataKey();
    const sealed = seal(key, { ...binding, namespace: 'ab', secretsync: 'c' }, { k: b('v') });
    expect(() => open(key, { ...binding, namespace: 'a', secretsync: 'bc' }, sealed)).toThrow(EnvelopeError);
  });

  test('a flipped bit anywhere in nonce, ciphertext or tag is detected', () => {
    const key = randomDataKey();
    const raw = Buffer.from(seal(key, binding, { k: b('a value of some length') }).k as string, 'base64');
    for (let i = 0; i < raw.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const altered = Buffer.from(raw);
        altered[i] = (altered[i] as number) ^ bit;
        expect(() => open(key, binding, { k: altered.toString('base64') })).toThrow(EnvelopeError);
      }
    }
  });

  test('a truncated value, and another data key, do not open', () => {
    const key = randomDataKey();
    const sealed = seal(key, binding, { k: b('v') });
    const raw = Buffer.from(sealed.k as string, 'base64');
    expect(errorOf(() => open(key, binding, { k: raw.subarray(0, 27).toString('base64') })).message).toContain('too short');
    expect(() => open(key, binding, { k: raw.subarray(0, raw.length - 1).toString('base64') })).toThrow(EnvelopeError);
    expect(() => open(randomDataKey(), binding, sealed)).toThrow(EnvelopeError);
  });

  test('a data key must be 32 bytes', () => {
    expect(errorOf(() => seal(Buffer.alloc(16), binding, { k: b('v') })).message).toBe('a data key must be 32 bytes, got 16');
    expect(() => open(Buffer.alloc(31), binding, {})).toThrow(EnvelopeError);
  });

  test('nonces differ per value and per seal, so equal values never give equal ciphertexts', () => {
    const key = randomDataKey();
    const nonce = (text: string) => Buffer.from(text, 'base64').subarray(0, 12).toString('hex');
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const sealed = seal(key, binding, { a: b('same'), b: b('same') });
      expect(sealed.a).not.toBe(sealed.b);
      seen.add(nonce(sealed.a as string));
      seen.add(nonce(sealed.b as string));
    }
    expect(seen.size).toBe(100);
  });

  test('error messages never carry the value or the key', () => {
    const key = randomDataKey();
    const value = canary();
    const sealed = seal(key, binding, { password: b(value) });
    const err = errorOf(() => open(key, { ...binding, version: 1 }, sealed));
    expect(leaksIn(err.message, value)).toEqual([]);
    expect(err.message).not.toContain(key.toString('base64'));
    expect(err.message).not.toContain(key.toString('hex'));
  });
});

const version = (v: number, extra: Partial<VersionEnvelope> = {}): VersionEnvelope => ({
  version: v,
  kek: { type: 'aws-kms', region: 'eu-west-1', keyId: 'alias/secretsync', version: 'arn:aws:kms:eu-west-1:123456789012:key/k1' },
  wrappedKey: 'AQIDBA==',
  values: { password: 'bm9uY2UuLi4=' },
  ...extra,
});
const transit = (v: number): VersionEnvelope =>
  version(v, {
    kek: {
      type: 'vault-transit',
      address: 'https://vault:8200',
      mount: 'transit',
      key: 'secretsync',
      version: '2',
      agentAuth: { mount: 'kubernetes', role: 'app' },
    },
    wrappedKey: 'vault:v2:abcd',
  });
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const entry = (v: VersionEnvelope) => b64(JSON.stringify(v));

describe('the envelope Secret layout', () => {
  test('encode then decode gives the envelope back, with and without a previous version', () => {
    const alone: Envelope = { current: version(3) };
    expect(Object.keys(encodeEnvelope(alone)).sort()).toEqual(['current', 'format', 'v3']);
    expect(decodeEnvelope(encodeEnvelope(alone))).toEqual(alone);

    const both: Envelope = { current: transit(4), previous: [version(3)] };
    const data = encodeEnvelope(both);
    expect(Object.keys(data).sort()).toEqual(['current', 'format', 'v3', 'v4']);
    expect(Buffer.from(data.format as string, 'base64').toString()).toBe('secretsync.io/envelope/v1');
    expect(Buffer.from(data.current as string, 'base64').toString()).toBe('4');
    expect(decodeEnvelope(data)).toEqual(both);
  });

  test('a previous version equal to the current one is not written twice', () => {
    const data = encodeEnvelope({ current: version(3), previous: [version(3)] });
    expect(Object.keys(data).sort()).toEqual(['current', 'format', 'v3']);
  });

  test.each<[string, Record<string, string> | undefined, string]>([
    ['no data at all', undefined, 'not an envelope: it has no "format" entry'],
    ['no format', { current: b64('1'), v1: entry(version(1)) }, 'not an envelope: it has no "format" entry'],
    [
      'an unknown format',
      { format: b64('secretsync.io/envelope/v9'), current: b64('1'), v1: entry(version(1)) },
      'unknown envelope format "secretsync.io/envelope/v9" (this agent reads secretsync.io/envelope/v1 and secretsync.io/envelope/v2)',
    ],
    ['a current that is no number', { format: b64('secretsync.io/envelope/v1'), current: b64('latest') }, 'the "current" entry is not a version number'],
    [
      'a missing current entry',
      { format: b64('secretsync.io/envelope/v1'), current: b64('2'), v1: entry(version(1)) },
      'the current version 2 has no entry v2',
    ],
    [
      'four versions',
      { format: b64('secretsync.io/envelope/v1'), current: b64('4'), v1: entry(version(1)), v2: entry(version(2)), v3: entry(version(3)), v4: entry(version(4)) },
      'it holds 4 versions; an envelope holds the current and at most 2 older ones',
    ],
    ['bad JSON', { format: b64('secretsync.io/envelope/v1'), current: b64('1'), v1: b64('{"version":1,') }, 'entry v1 is not JSON'],
    [
      'JSON that is not a version envelope',
      { format: b64('secretsync.io/envelope/v1'), current: b64('1'), v1: b64('{"version":1}') },
      'entry v1 is not a version envelope (secretsync.io/envelope/v1)',
    ],
    [
      'an entry holding another version',
      { format: b64('secretsync.io/envelope/v1'), current: b64('1'), v1: entry(version(2)) },
      'entry v1 holds version 2',
    ],
  ])('decoding %s fails with a clear message', (_name, data, message) => {
    expect(errorOf(() => decodeEnvelope(data)).message).toBe(message);
  });

  test('an unknown format is quoted at most 64 characters long', () => {
    const err = errorOf(() => decodeEnvelope({ format: b64('x'.repeat(500)) }));
    expect(err.message).toContain(`"${'x'.repeat(64)}"`);
    expect(err.message).not.toContain('x'.repeat(65));
  });

  test('three versions (a rollout still running pods of two older ones): encoded and decoded, newest first', () => {
    const three: Envelope = { current: version(5), previous: [version(4), version(2)] };
    const data = encodeEnvelope(three);
    expect(Object.keys(data).sort()).toEqual(['current', 'format', 'v2', 'v4', 'v5']);
    expect(decodeEnvelope(data)).toEqual(three);
    expect(pickVersion(three, 2)).toBe(three.previous?.[1]);
    expect(errorOf(() => pickVersion(three, 3)).message).toBe('version 3 is not in the Secret (it holds version 5, 4 and 2)');
  });

  test('pickVersion: the current one by default or by number, the previous by number, else which ones it holds', () => {
    const e: Envelope = { current: version(4), previous: [version(3)] };
    expect(pickVersion(e)).toBe(e.current);
    expect(pickVersion(e, 4)).toBe(e.current);
    expect(pickVersion(e, 3)).toBe(e.previous?.[0]);
    expect(errorOf(() => pickVersion(e, 2)).message).toBe('version 2 is not in the Secret (it holds version 4 and 3)');
    expect(errorOf(() => pickVersion({ current: version(4) }, 3)).message).toBe('version 3 is not in the Secret (it holds version 4)');
  });
});

describe('envelope/v2: a template sealed with the values', () => {
  const template = { data: { url: 'postgres://{{ user }}:{{ password }}@db' } };

  test('round trip: values and template open; the format is v2 while a templated entry is held', () => {
    const key = randomDataKey();
    const secret = b(canary());
    const sealed = sealEntry(key, binding, { user: b('app'), password: secret }, template);
    expect(typeof sealed.template).toBe('string');
    // The template is ciphertext too: not readable in the Secret.
    expect(Buffer.from(sealed.template as string, 'base64').toString('latin1')).not.toContain('postgres');
    const opened = openEntry(key, binding, sealed);
    expect(opened.template).toEqual(template);
    expect(sameBytes(opened.values.password, secret)).toBe(true);

    const v = { ...version(7), ...sealed };
    const data = encodeEnvelope({ current: v, previous: [version(6)] });
    expect(Buffer.from(data.format as string, 'base64').toString()).toBe('secretsync.io/envelope/v2');
    const back = decodeEnvelope(data);
    expect(back.current.template).toBe(sealed.template);
    expect(back.previous?.[0]?.template).toBeUndefined();
    // Without a templated entry the Secret stays v1, readable by agents that know only v1.
    expect(Buffer.from(encodeEnvelope({ current: version(6) }).format as string, 'base64').toString()).toBe('secretsync.io/envelope/v1');
  });

  test('an entry without a template opens as before (v1 entries in a v2 Secret)', () => {
    const key = randomDataKey();
    const opened = openEntry(key, binding, sealEntry(key, binding, { k: b('v') }));
    expect(opened.template).toBeUndefined();
    expect(opened.values.k?.toString()).toBe('v');
  });

  test('stripping the template (or adding one) makes the values fail to open', () => {
    const key = randomDataKey();
    const sealed = sealEntry(key, binding, { password: b(canary()) }, template);
    expect(errorOf(() => openEntry(key, binding, { values: sealed.values })).message).toContain('value "password" of version 7 does not open');
    const plain = sealEntry(key, binding, { password: b(canary()) });
    expect(errorOf(() => openEntry(key, binding, { ...plain, template: sealed.template })).message).toContain('value "password" of version 7 does not open');
  });

  test('a template swapped for another one (or copied from another version) does not open', () => {
    const key = randomDataKey();
    const sealed = sealEntry(key, binding, { user: b('u') }, template);
    const other = sealEntry(key, { ...binding, version: 8 }, { user: b('u') }, { data: { url: 'https://evil.example/{{ user }}' } });
    expect(errorOf(() => openEntry(key, binding, { ...sealed, template: other.template })).message).toContain('the template of version 7 does not open');
  });

  test('a v1 Secret whose entry carries a template is refused (a v1 reader would write unrendered values)', () => {
    const v = { ...version(3), template: 'AAAA' };
    const err = errorOf(() => decodeEnvelope({ format: b64('secretsync.io/envelope/v1'), current: b64('3'), v3: entry(v) }));
    expect(err.message).toBe('entry v3 carries a template, which secretsync.io/envelope/v1 does not');
  });
});
