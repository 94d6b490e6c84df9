// decodingStrategy: strict decoding with ESO's names and meanings (decode.ts), and how
// fetchContent applies it per entry before data and dataFrom values merge.
import type { SecretSync } from '../../../src/api/types.js';
import { DecodingFailedError, InvalidSpecError, Reason } from '../../../src/errors.js';
import type { SecretProvider } from '../../../src/providers/provider.js';
import { decodeValue, strategyOf, tryDecode } from '../../../src/secretsync/decode.js';
import { fetchContent } from '../../../src/secretsync/fetch.js';
import { aSecretSync } from './fixtures.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const BYTES = Buffer.from([0xfb, 0xff, 0x00, 0x3e, 0x3f, 0x10]); // + and / in base64, - and _ in base64url
const STD = BYTES.toString('base64'); // "+/8APj8Q"
const URL = BYTES.toString('base64url'); // "-_8APj8Q"

describe('strategyOf', () => {
  test.each([
    [undefined, 'None'],
    ['', 'None'],
    ['none', 'None'],
    ['BASE64', 'Base64'],
    ['base64url', 'Base64URL'],
    ['Base64Url', 'Base64URL'],
    ['aUtO', 'Auto'],
  ])('%s is %s (any case, as ESO names them)', (written, want) => {
    expect(strategyOf(written, 'f')).toBe(want);
  });

  test('anything else is InvalidSpec naming the field', () => {
    expect(() => strategyOf('hex', 'spec.data[0].decodingStrategy')).toThrow(InvalidSpecError);
    expect(() => strategyOf('hex', 'spec.data[0].decodingStrategy')).toThrow(/spec\.data\[0\]\.decodingStrategy "hex".*None, Base64, Base64URL or Auto/);
  });
});

describe('tryDecode', () => {
  test('None keeps the value byte for byte, binary too', () => {
    expect(tryDecode(BYTES, 'None')).toBe(BYTES);
  });

  test('Base64: the standard alphabet, padded; line breaks ignored (a PEM-like wrapped value)', () => {
    expect(tryDecode(b(STD), 'Base64')).toEqual(BYTES);
    const long = Buffer.alloc(100, 0xab);
    const wrapped = long.toString('base64').replace(/(.{76})/g, '$1\r\n');
    expect(tryDecode(b(wrapped), 'Base64')).toEqual(long);
    expect(tryDecode(b('aGk='), 'Base64')).toEqual(b('hi'));
    expect(tryDecode(b(''), 'Base64')).toEqual(Buffer.alloc(0));
  });

  test.each([
    ['the URL-safe alphabet', URL],
    ['missing padding', 'aGk'],
    ['a character outside the alphabet (Buffer.from would skip it)', 'aG*k'],
    ['a space inside', 'aGk =' ],
    ['padding in the middle', 'aG==aGk='],
    ['text that is not base64', 'happy street'],
  ])('Base64 refuses %s', (_what, value) => {
    expect(tryDecode(b(value), 'Base64')).toBeUndefined();
  });

  test('Base64 refuses a binary value (bytes outside ASCII)', () => {
    expect(tryDecode(BYTES, 'Base64')).toBeUndefined();
  });

  test('Base64URL: the URL-safe alphabet, padded or not', () => {
    expect(tryDecode(b(URL), 'Base64URL')).toEqual(BYTES);
    expect(tryDecode(b('aGk'), 'Base64URL')).toEqual(b('hi'));
    expect(tryDecode(b('aGk='), 'Base64URL')).toEqual(b('hi'));
    expect(tryDecode(b(STD), 'Base64URL')).toBeUndefined();
    expect(tryDecode(b('a'), 'Base64URL')).toBeUndefined(); // no length leaves one character over
  });

  test('Auto: Base64, then padded Base64URL, else the value as stored (ESO)', () => {
    expect(tryDecode(b(STD), 'Auto')).toEqual(BYTES);
    expect(tryDecode(b(URL), 'Auto')).toEqual(BYTES);
    expect(tryDecode(b('happy street'), 'Auto')).toEqual(b('happy street'));
    expect(tryDecode(b('aGk'), 'Auto')).toEqual(b('aGk')); // unpadded: kept, as ESO's URLEncoding does
    expect(tryDecode(BYTES, 'Auto')).toBe(BYTES);
    // ESO's documented limitation, kept: a plain value that happens to be valid base64 is decoded.
    expect(tryDecode(b('1234'), 'Auto')).toEqual(Buffer.from('1234', 'base64'));
  });
});

describe('decodeValue', () => {
  test('a value that does not decode: DecodingFailed naming the key and the strategy, never the value', () => {
    const value = 'not-base64 s3cr3t-value!';
    let err: unknown;
    try {
      decodeValue(b(value), 'Base64', 'key "tls.crt" (spec.data[0], path certs/web, spec.data[0].decodingStrategy Base64)');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DecodingFailedError);
    const e = err as DecodingFailedError;
    expect(e.reason).toBe(Reason.DecodingFailed);
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('key "tls.crt"');
    expect(e.message).toContain('Base64');
    expect(e.message).not.toContain('s3cr3t');
  });
});

describe('fetchContent decodes per entry', () => {
  const provider = (values: Record<string, Record<string, string>>): SecretProvider =>
    ({
      async getSecret(ref) {
        const m = values[ref.path] ?? {};
        return { value: b(ref.property ? (m[ref.property] ?? '') : JSON.stringify(m)), version: '1' };
      },
      async getSecretMap(ref) {
        return { values: Object.fromEntries(Object.entries(values[ref.path] ?? {}).map(([k, v]) => [k, b(v)])), version: '1' };
      },
    }) as SecretProvider;
  const remote = { certs: { crt: STD, plain: 'as-is' }, bundle: { a: 'aGk=', b: URL } };

  test('data: each entry by its own strategy; dataFrom: every property by the entry\'s', async () => {
    const ss: SecretSync = aSecretSync({
      data: [
        { key: 'tls.crt', remoteRef: { path: 'certs', property: 'crt' }, decodingStrategy: 'base64' },
        { key: 'plain', remoteRef: { path: 'certs', property: 'plain' } },
        { key: 'raw', remoteRef: { path: 'certs', property: 'crt' }, decodingStrategy: 'None' },
      ],
      dataFrom: [{ remoteRef: { path: 'bundle' }, decodingStrategy: 'Auto' }],
    });
    const { content } = await fetchContent(ss, provider(remote));
    expect(content['tls.crt']).toEqual(BYTES);
    expect(content.plain).toEqual(b('as-is'));
    expect(content.raw).toEqual(b(STD));
    expect(content.a).toEqual(b('hi'));
    expect(content.b).toEqual(BYTES);
  });

  test('a dataFrom property that does not decode: DecodingFailed naming the property, the entry and the path', async () => {
    const ss = aSecretSync({ data: [], dataFrom: [{ remoteRef: { path: 'certs' }, decodingStrategy: 'Base64' }] });
    await expect(fetchContent(ss, provider(remote))).rejects.toThrow(/property "plain" of spec\.dataFrom\[0\] \(path certs, spec\.dataFrom\[0\]\.decodingStrategy Base64\)/);
  });

  test('data wins over dataFrom after both are decoded', async () => {
    const ss = aSecretSync({
      data: [{ key: 'a', remoteRef: { path: 'certs', property: 'plain' } }],
      dataFrom: [{ remoteRef: { path: 'bundle' }, decodingStrategy: 'Base64' }],
    });
    const { content } = await fetchContent({ ...ss, spec: { ...ss.spec, dataFrom: [{ remoteRef: { path: 'bundle' }, decodingStrategy: 'Base64URL' }] } }, provider(remote));
    expect(content.a).toEqual(b('as-is'));
  });
});
