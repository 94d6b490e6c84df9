// Indexer: the store with secondary indexes. An object is found under each value its index
// function returns, moves when an update changes them, leaves on delete, and a replace (a
// relist) rebuilds every index.
import { Indexer } from '../../../src/runtime/indexer.js';

interface Obj {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
}
const obj = (namespace: string, name: string, team?: string): Obj => ({ metadata: { name, namespace, ...(team ? { labels: { team } } : {}) } });
const key = (o: Obj) => `${o.metadata.namespace}/${o.metadata.name}`;
const names = (os: Obj[]) => os.map((o) => o.metadata.name).sort();

function store(): Indexer<Obj> {
  const s = new Indexer<Obj>();
  s.addIndexers({
    namespace: (o) => [o.metadata.namespace],
    team: (o) => (o.metadata.labels?.team ? [o.metadata.labels.team] : []),
  });
  return s;
}

test('add: an object is found under each of its values, and nowhere else', () => {
  const s = store();
  for (const o of [obj('a', 'x', 'red'), obj('a', 'y'), obj('b', 'z', 'red')]) s.set(key(o), o);
  expect(names(s.byIndex('namespace', 'a'))).toEqual(['x', 'y']);
  expect(names(s.byIndex('namespace', 'b'))).toEqual(['z']);
  expect(names(s.byIndex('team', 'red'))).toEqual(['x', 'z']);
  expect(s.byIndex('team', 'blue')).toEqual([]);
  expect(s.indexKeys('namespace', 'a').sort()).toEqual(['a/x', 'a/y']);
});

test('update: an object moves between values when its index values change', () => {
  const s = store();
  s.set('a/x', obj('a', 'x', 'red'));
  s.set('a/x', obj('a', 'x', 'blue'));
  expect(s.byIndex('team', 'red')).toEqual([]);
  expect(names(s.byIndex('team', 'blue'))).toEqual(['x']);
  s.set('a/x', obj('a', 'x'));
  expect(s.byIndex('team', 'blue')).toEqual([]);
  expect(names(s.byIndex('namespace', 'a'))).toEqual(['x']);
  // byIndex answers with the current object, not the one it was filed with.
  s.set('a/x', obj('a', 'x', 'red'));
  expect(s.byIndex('team', 'red')[0]?.metadata.labels).toEqual({ team: 'red' });
});

test('delete: the object leaves every index; deleting an unknown key is a no-op', () => {
  const s = store();
  s.set('a/x', obj('a', 'x', 'red'));
  s.set('a/y', obj('a', 'y', 'red'));
  s.delete('a/x');
  s.delete('a/never');
  expect(names(s.byIndex('namespace', 'a'))).toEqual(['y']);
  expect(names(s.byIndex('team', 'red'))).toEqual(['y']);
  s.delete('a/y');
  expect(s.byIndex('namespace', 'a')).toEqual([]);
  expect(s.list()).toEqual([]);
});

test('replace (a relist): every index is rebuilt from the new objects; the old ones are returned', () => {
  const s = store();
  s.set('a/x', obj('a', 'x', 'red'));
  s.set('a/y', obj('a', 'y', 'red'));
  const old = s.replace(new Map([['a/y', obj('a', 'y', 'blue')], ['b/z', obj('b', 'z', 'red')]]));
  expect([...old.keys()]).toEqual(['a/x', 'a/y']);
  expect(names(s.byIndex('team', 'red'))).toEqual(['z']);
  expect(names(s.byIndex('team', 'blue'))).toEqual(['y']);
  expect(names(s.byIndex('namespace', 'a'))).toEqual(['y']);
  expect(s.get('a/x')).toBeUndefined();
});

test('an index added later is built from what is already stored; duplicate values file once', () => {
  const s = new Indexer<Obj>();
  s.set('a/x', obj('a', 'x', 'red'));
  s.addIndexers({ twice: (o) => [o.metadata.namespace, o.metadata.namespace] });
  expect(s.indexKeys('twice', 'a')).toEqual(['a/x']);
  s.delete('a/x');
  expect(s.indexKeys('twice', 'a')).toEqual([]);
});

test('an unknown index or a name used twice throws; a throwing index function files the object nowhere', () => {
  const errors: unknown[] = [];
  const s = new Indexer<Obj>((e) => errors.push(e));
  s.addIndexers({
    namespace: (o) => [o.metadata.namespace],
    broken: (o) => {
      if (o.metadata.name === 'bad') throw new Error('no');
      return ['ok'];
    },
  });
  expect(() => s.byIndex('nope', 'a')).toThrow(/no index named "nope"/);
  expect(() => s.addIndexers({ namespace: () => [] })).toThrow(/"namespace" already exists/);
  s.set('a/bad', obj('a', 'bad'));
  s.set('a/good', obj('a', 'good'));
  expect(names(s.byIndex('broken', 'ok'))).toEqual(['good']);
  expect(names(s.byIndex('namespace', 'a'))).toEqual(['bad', 'good']);
  expect(errors).toHaveLength(1);
});
