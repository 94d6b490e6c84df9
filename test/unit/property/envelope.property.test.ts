// Properties of the envelope (issue 21, item 4): open(seal(x)) is x for any key names,
// values and bindings; a ciphertext opens only for the binding it was sealed for; and any
// single-bit change to an envelope Secret, anywhere in its stored bytes (format, current,
// the version JSON: kek coordinates, wrapped key, key names, nonce, ciphertext, tag), is
// refused by the agent's path (decode, pick, unwrap, open) or opens to exactly what the
// operator sealed for the version opened. Values are synthetic; buffers are compared with
// equals() so a failure prints the counterexample (synthetic) and never a real secret.
import fc from 'fast-check';
import {
  EnvelopeError,
  decodeEnvelope,
  encodeEnvelope,
  open,
  pickVersion,
  randomDataKey,
  seal,
  type Binding,
  type Envelope,
  type VersionEnvelope,
} from '../../../src/crypto/envelope.js';
import { FakeKek } from '../secretsync/fake-kek.js';

const NUM_RUNS = 200;

/** Kubernetes names and Secret keys as they really are (the AAD joins its fields with NUL, which none can hold). */
const dnsLabel = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);
// Not "__proto__": every record of the pipeline (providers' encodeMap, fetch.ts, seal and open)
// is a plain object, where that key sets the prototype and is dropped (reported on issue 21).
const secretKey = fc.stringMatching(/^[-._a-zA-Z0-9]{1,30}$/).filter((k) => k !== '__proto__');
const binding: fc.Arbitrary<Binding> = fc.record({
  namespace: dnsLabel,
  secretsync: dnsLabel,
  uid: fc.uuid(),
  version: fc.integer({ min: 1, max: 1_000_000 }),
});
const content = fc.dictionary(secretKey, fc.uint8Array({ maxLength: 96 }).map((a) => Buffer.from(a)), { minKeys: 1, maxKeys: 5 });

const sameContent = (x: Record<string, Buffer>, y: Record<string, Buffer>) =>
  Object.keys(x).length === Object.keys(y).length && Object.entries(y).every(([k, v]) => x[k]?.equals(v) === true);

function flipBit(buf: Buffer, bit: number): Buffer {
  const out = Buffer.from(buf);
  const i = Math.floor(bit / 8) % out.length;
  out[i] = (out[i] as number) ^ (1 << (bit % 8));
  return out;
}

test('open(seal(x)) is x for any key names (any unicode too), values and binding', () => {
  const anyKeys = fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 20 }).filter((k) => k !== '__proto__'), fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)), {
    maxKeys: 6,
  });
  const anyBinding = fc.record({ namespace: fc.string(), secretsync: fc.string(), uid: fc.string(), version: fc.nat() });
  fc.assert(
    fc.property(anyBinding, anyKeys, (b, c) => {
      const key = randomDataKey();
      expect(sameContent(open(key, b, seal(key, b, c)), c)).toBe(true);
    }),
    { numRuns: NUM_RUNS },
  );
});

test('a ciphertext opens only for the binding and key name it was sealed for', () => {
  fc.assert(
    fc.property(binding, binding, secretKey, secretKey, (b1, b2, k1, k2) => {
      fc.pre(JSON.stringify([b1, k1]) !== JSON.stringify([b2, k2]));
      const key = randomDataKey();
      const sealed = seal(key, b1, { [k1]: Buffer.from('v') });
      expect(() => open(key, b2, { [k2]: sealed[k1] as string })).toThrow(EnvelopeError);
    }),
    { numRuns: NUM_RUNS },
  );
});

test('any single-bit change to a sealed value (nonce, ciphertext, tag) is refused by open, at every bit', () => {
  fc.assert(
    fc.property(binding, secretKey, fc.uint8Array({ maxLength: 48 }), (b, k, value) => {
      const key = randomDataKey();
      const raw = Buffer.from(seal(key, b, { [k]: Buffer.from(value) })[k] as string, 'base64');
      const opened: number[] = [];
      for (let bit = 0; bit < raw.length * 8; bit++) {
        try {
          open(key, b, { [k]: flipBit(raw, bit).toString('base64') });
          opened.push(bit);
        } catch (err) {
          if (!(err instanceof EnvelopeError)) throw err;
        }
      }
      expect(opened).toEqual([]);
    }),
    { numRuns: 40 },
  );
});

interface Sealed {
  ns: string;
  sync: string;
  uid: string;
  kek: FakeKek;
  /** Each version's content as sealed, by version number. */
  contents: Map<number, Record<string, Buffer>>;
  data: Record<string, string>;
}

/** An envelope Secret's data as the operator writes it: the current version and up to two older ones, each with its own data key. */
async function sealedEnvelope(ns: string, sync: string, uid: string, versions: number[], contents: Record<string, Buffer>[], kms: boolean): Promise<Sealed> {
  const kek = new FakeKek();
  const held: VersionEnvelope[] = [];
  const map = new Map<number, Record<string, Buffer>>();
  for (const [i, version] of versions.entries()) {
    const c = contents[i % contents.length] as Record<string, Buffer>;
    const dk = await kek.generateDataKey({ namespace: ns, secretsync: sync });
    held.push({
      version,
      kek: kms
        ? { type: 'aws-kms', region: 'eu-west-1', keyId: 'alias/secretsync', version: 'arn:aws:kms:eu-west-1:123456789012:key/k1' }
        : {
            type: 'vault-transit',
            address: 'https://bao.example:8200',
            mount: 'transit',
            key: 'secretsync',
            version: dk.kekVersion,
            agentAuth: { mount: 'kubernetes', role: 'agent' },
          },
      wrappedKey: dk.wrapped,
      values: seal(dk.plaintext, { namespace: ns, secretsync: sync, uid, version }, c),
    });
    map.set(version, c);
  }
  const [current, ...previous] = held.sort((x, y) => y.version - x.version);
  const envelope: Envelope = { current: current as VersionEnvelope, ...(previous.length > 0 ? { previous } : {}) };
  return { ns, sync, uid, kek, contents: map, data: encodeEnvelope(envelope) };
}

/** What the agent does with an envelope Secret (src/agent/plan.ts, deliver.ts), with the fake key service. */
async function agentOpens(s: Sealed, data: Record<string, string>, pin?: number): Promise<{ version: number; files: Record<string, Buffer> }> {
  const entry = pickVersion(decodeEnvelope(data), pin);
  const dataKey = await s.kek.decrypt(entry.wrappedKey, { namespace: s.ns, secretsync: s.sync });
  return { version: entry.version, files: open(dataKey, { namespace: s.ns, secretsync: s.sync, uid: s.uid, version: entry.version }, entry.values) };
}

const envelopeCase = fc.record({
  ns: dnsLabel,
  sync: dnsLabel,
  uid: fc.uuid(),
  versions: fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 3 }),
  contents: fc.array(content, { minLength: 1, maxLength: 3 }),
  kms: fc.boolean(),
});

test('any single-bit change to an envelope Secret is refused, or opens to exactly what was sealed for the version opened', async () => {
  let refused = 0;
  let unchanged = 0;
  await fc.assert(
    fc.asyncProperty(envelopeCase, fc.nat(), fc.nat(), fc.option(fc.nat()), async (c, entryPick, bit, pinPick) => {
      const s = await sealedEnvelope(c.ns, c.sync, c.uid, c.versions, c.contents, c.kms);
      const pin = pinPick === null ? undefined : c.versions[pinPick % c.versions.length];
      // Untouched, it opens to what was sealed.
      const before = await agentOpens(s, s.data, pin);
      expect(sameContent(before.files, s.contents.get(before.version) as Record<string, Buffer>)).toBe(true);
      // One bit of the stored bytes of one entry (the API server keeps .data base64: flip the bytes it decodes to).
      const names = Object.keys(s.data).sort();
      const name = names[entryPick % names.length] as string;
      const altered = { ...s.data, [name]: flipBit(Buffer.from(s.data[name] as string, 'base64'), bit).toString('base64') };
      let after: Awaited<ReturnType<typeof agentOpens>>;
      try {
        after = await agentOpens(s, altered, pin);
      } catch {
        refused++;
        return;
      }
      unchanged++;
      // Accepted: then it is what the operator sealed for that version, never another value.
      expect(sameContent(after.files, s.contents.get(after.version) as Record<string, Buffer>)).toBe(true);
      // And only a change of "current" (there are older versions) or of unauthenticated
      // kek coordinates (the real key service would refuse another key) may be accepted.
      if (after.version !== before.version) expect(name).toBe('current');
    }),
    { numRuns: 400 },
  );
  expect(refused).toBeGreaterThan(unchanged);
});

test('a single-bit change inside the current version JSON: decodeEnvelope accepts it or throws EnvelopeError, never a TypeError', async () => {
  await fc.assert(
    fc.asyncProperty(envelopeCase, fc.nat(), async (c, bit) => {
      const s = await sealedEnvelope(c.ns, c.sync, c.uid, c.versions, c.contents, c.kms);
      const current = Buffer.from(s.data.current as string, 'base64').toString('utf8');
      const name = `v${current}`;
      const json = flipBit(Buffer.from(s.data[name] as string, 'base64'), bit);
      const altered = { ...s.data, [name]: json.toString('base64') };
      try {
        decodeEnvelope(altered);
      } catch (err) {
        expect(err).toBeInstanceOf(EnvelopeError);
      }
    }),
    { numRuns: NUM_RUNS },
  );
});
