// Indexer: an informer's store, objects by cache key, with secondary indexes (client-go's
// cache.Indexer). An index is a named function from an object to the values it is filed
// under (its namespace, the source it reads through, its owners' uids); byIndex(name,
// value) answers "which cached objects have this value" without scanning the cache. The
// informer updates the indexes with every add, update, delete and relist before any
// handler runs, so a handler looking up by index sees the state it is being told about.

/** The values an object is filed under in one index; [] files it nowhere. Must be pure. */
export type IndexFunc<T> = (obj: T) => string[];

export type Indexers<T> = Record<string, IndexFunc<T>>;

/** What readers and event handlers use of a store: get, list and look-ups by index. */
export interface IndexedStore<T> {
  get(key: string): T | undefined;
  list(): T[];
  /** Adds indexes (built at once from what is cached). A name already in use throws. */
  addIndexers(indexers: Indexers<T>): void;
  /** The cached objects filed under `value` in index `indexName`; an unknown index throws. */
  byIndex(indexName: string, value: string): T[];
}

export class Indexer<T> implements IndexedStore<T> {
  private items = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  /** index name → value → keys of the objects filed under it. */
  private readonly indices = new Map<string, Map<string, Set<string>>>();

  /** `onIndexError`: an index function threw; the object is then filed nowhere in that index. */
  constructor(private readonly onIndexError?: (err: unknown) => void) {}

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  set(key: string, obj: T): void {
    const prev = this.items.get(key);
    this.items.set(key, obj);
    for (const [name, fn] of this.indexers) {
      if (prev !== undefined) this.unfile(name, key, this.valuesOf(fn, prev));
      this.file(name, key, this.valuesOf(fn, obj));
    }
  }

  delete(key: string): void {
    const prev = this.items.get(key);
    if (prev === undefined) return;
    this.items.delete(key);
    for (const [name, fn] of this.indexers) this.unfile(name, key, this.valuesOf(fn, prev));
  }

  /** Replaces every object (a relist) and rebuilds the indexes; returns the previous objects. */
  replace(items: Map<string, T>): Map<string, T> {
    const old = this.items;
    this.items = items;
    for (const name of this.indexers.keys()) this.rebuild(name);
    return old;
  }

  addIndexers(indexers: Indexers<T>): void {
    for (const name of Object.keys(indexers)) {
      if (this.indexers.has(name)) throw new Error(`indexer: an index named "${name}" already exists`);
    }
    for (const [name, fn] of Object.entries(indexers)) {
      this.indexers.set(name, fn);
      this.rebuild(name);
    }
  }

  byIndex(indexName: string, value: string): T[] {
    return this.indexKeys(indexName, value)
      .map((k) => this.items.get(k))
      .filter((o): o is T => o !== undefined);
  }

  /** The keys of the cached objects filed under `value` in index `indexName`. */
  indexKeys(indexName: string, value: string): string[] {
    const index = this.indices.get(indexName);
    if (index === undefined) throw new Error(`indexer: no index named "${indexName}"`);
    return [...(index.get(value) ?? [])];
  }

  private rebuild(name: string): void {
    const fn = this.indexers.get(name) as IndexFunc<T>;
    this.indices.set(name, new Map());
    for (const [key, obj] of this.items) this.file(name, key, this.valuesOf(fn, obj));
  }

  private file(name: string, key: string, values: string[]): void {
    const index = this.indices.get(name) as Map<string, Set<string>>;
    for (const v of values) {
      let keys = index.get(v);
      if (keys === undefined) index.set(v, (keys = new Set()));
      keys.add(key);
    }
  }

  private unfile(name: string, key: string, values: string[]): void {
    const index = this.indices.get(name) as Map<string, Set<string>>;
    for (const v of values) {
      const keys = index.get(v);
      keys?.delete(key);
      if (keys?.size === 0) index.delete(v);
    }
  }

  private valuesOf(fn: IndexFunc<T>, obj: T): string[] {
    try {
      return fn(obj);
    } catch (err) {
      try {
        this.onIndexError?.(err);
      } catch {
        // a broken error reporter must not break the store
      }
      return [];
    }
  }
}
