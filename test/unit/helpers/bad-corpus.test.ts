// The bad-input corpus (test/fixtures/bad/) holds at least 80 entries and every entry says
// what it tries and what must happen, so the integration test (operator/bad-input) can
// check each one; its placeholders are all known.
import { fill, instantiate, loadCorpus } from '../../helpers/bad-corpus.js';

const corpus = loadCorpus();
const VARS = { ID: 'id', NS: 'ns', OTHER_NS: 'other', VAULT_ADDR: 'http://v', HOSTILE: 'http://h', TLS_WRONG_NAME: 'https://w', TLS_RIGHT_NAME: 'https://r', TLS_CA: 'ca', TLS_OTHER_CA: 'ca2', HOSTILE_AWS: 'http://a', AWS_REGION: 'us-east-1', AWS_TLS_WRONG_NAME: 'https://aw', AWS_TLS_UNKNOWN_CA: 'https://au' };

test('the corpus has at least 80 entries', () => {
  expect(corpus.length).toBeGreaterThanOrEqual(80);
});

test.each(corpus.map((e) => [e.file, e] as const))('%s declares what it tries and what must happen', (_file, e) => {
  expect(e.tries.length).toBeGreaterThan(5);
  expect(e.message.length).toBeGreaterThan(0);
  expect(['refused', 'condition-false']).toContain(e.expect.kind);
  for (const d of e.docs) {
    expect(typeof d.kind).toBe('string');
    expect(typeof d.metadata?.name).toBe('string');
  }
  // Every placeholder has a value.
  expect(() => instantiate(e.docs, VARS)).not.toThrow();
});

test('names are unique within a namespace and a kind, so the whole corpus applies at once', () => {
  const seen = new Set<string>();
  for (const e of corpus) {
    for (const d of e.docs) {
      const k = `${d.kind}/${d.metadata.name}`;
      expect(seen.has(k) ? k : undefined).toBeUndefined();
      seen.add(k);
    }
  }
});

test('placeholders: values and repeats are filled in, unknown ones refused', () => {
  expect(fill('${ID}/x ${REPEAT:3:a}', { ID: 'q' })).toBe('q/x aaa');
  expect(() => fill('${NOPE}', {})).toThrow('no value for placeholder ${NOPE}');
});
