// A walk over one ESO object that accounts for every field: each field read is marked,
// and whatever was never read is reported as not carried over, so nothing is dropped silently.

export type Report = (line: string) => void;

export type Obj = Record<string, unknown>;

/** An object that cannot be converted at all: the message says why, in one line. */
export class Unconvertible extends Error {}

/** What a store converted earlier in the same input says about remote paths (the Vault KV mount). */
export interface StoreInfo {
  vaultMount?: string;
}

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The fields of one object at `path`; `done()` reports every field nobody took. */
export class Fields {
  private readonly taken = new Set<string>();
  constructor(
    readonly obj: Obj,
    readonly path: string,
    private readonly report: (path: string, why: string) => void,
  ) {}

  /** The path of a field of this object. */
  at(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }
  /** The value of a field, marking it carried (or deliberately reported). */
  take(key: string): unknown {
    this.taken.add(key);
    return this.obj[key];
  }
  str(key: string): string | undefined {
    const v = this.take(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    this.report(`${this.at(key)}`, 'not a string');
    return undefined;
  }
  /** A nested object as Fields (undefined when absent). */
  sub(key: string): Fields | undefined {
    const v = this.take(key);
    if (v === undefined || v === null) return undefined;
    if (!isObj(v)) {
      this.report(`${this.at(key)}`, 'not an object');
      return undefined;
    }
    return new Fields(v, `${this.at(key)}`, this.report);
  }
  list(key: string): { f: Fields | undefined; v: unknown; path: string }[] {
    const v = this.take(key);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.report(`${this.at(key)}`, 'not a list');
      return [];
    }
    return v.map((item, i) => {
      const path = `${this.at(key)}[${i}]`;
      return { f: isObj(item) ? new Fields(item, path, this.report) : undefined, v: item, path };
    });
  }
  /** Reports a field that is set, with why it is not carried over; returns whether it was set. */
  cannot(key: string, why: string): boolean {
    const v = this.take(key);
    if (v === undefined || v === null) return false;
    this.report(`${this.at(key)}`, why);
    return true;
  }
  /** A line about a field whether or not it is set (e.g. why an entry was left out). */
  note(key: string, why: string): void {
    this.taken.add(key);
    this.report(`${this.at(key)}`, why);
  }
  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }
  done(): void {
    for (const key of Object.keys(this.obj)) {
      if (!this.taken.has(key) && this.obj[key] !== undefined && this.obj[key] !== null) {
        this.report(`${this.at(key)}`, 'a field the converter does not know; add its equivalent by hand');
      }
    }
  }
}
