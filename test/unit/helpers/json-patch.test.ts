import { describe, expect, it } from '@jest/globals';
import { applyPatch } from '../../helpers/json-patch.js';

// The applier must be as strict as the API server, or the webhook tests would pass patches it refuses.
describe('applyPatch (test helper)', () => {
  it('adds members, inserts and appends to arrays, unescaping ~1 and ~0, without touching its input', () => {
    const doc = { a: { 'x/y': 1 }, list: [1, 3] };
    const out = applyPatch(doc, [
      { op: 'add', path: '/a/k~1v~0w', value: 2 },
      { op: 'add', path: '/list/1', value: 2 },
      { op: 'add', path: '/list/-', value: 4 },
      { op: 'replace', path: '/a/x~1y', value: 9 },
      { op: 'add', path: '/b', value: [] },
    ]);
    expect(out).toEqual({ a: { 'x/y': 9, 'k/v~w': 2 }, list: [1, 2, 3, 4], b: [] });
    expect(doc).toEqual({ a: { 'x/y': 1 }, list: [1, 3] });
  });

  it('refuses what the API server refuses', () => {
    expect(() => applyPatch({ spec: {} }, [{ op: 'add', path: '/spec/volumes/-', value: 1 }])).toThrow('"volumes" does not exist');
    expect(() => applyPatch({ l: [1] }, [{ op: 'add', path: '/l/3', value: 1 }])).toThrow('out of bounds');
    expect(() => applyPatch({ l: [1] }, [{ op: 'replace', path: '/l/1', value: 1 }])).toThrow('out of bounds');
    expect(() => applyPatch({}, [{ op: 'replace', path: '/x', value: 1 }])).toThrow('does not exist');
    expect(() => applyPatch({}, [{ op: 'add', path: 'x', value: 1 }])).toThrow('does not start with "/"');
  });
});
