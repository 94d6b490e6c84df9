// A small RFC 6902 applier (add, replace, remove) for asserting what a patch does to an
// object rather than its text. Strict like the API server: a missing parent, an index past
// the end or "/-" on a non-array throws.

export interface PatchOp {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

function tokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`JSON pointer "${pointer}" does not start with "/"`);
  return pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function index(arr: unknown[], t: string, forAdd: boolean): number {
  if (forAdd && t === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(t)) throw new Error(`"${t}" is not an array index`);
  const i = Number(t);
  if (i > arr.length || (!forAdd && i === arr.length)) throw new Error(`index ${i} is out of bounds (length ${arr.length})`);
  return i;
}

export function applyPatch<T>(doc: T, ops: readonly PatchOp[]): T {
  const root = { v: structuredClone(doc) as unknown };
  for (const op of ops) {
    const path = tokens(op.path);
    const last = path.pop();
    if (last === undefined) throw new Error('patching the whole document is not supported');
    let parent: unknown = root.v;
    for (const t of path) {
      if (Array.isArray(parent)) parent = parent[index(parent, t, false)];
      else if (typeof parent === 'object' && parent !== null && t in parent) parent = (parent as Record<string, unknown>)[t];
      else throw new Error(`${op.op} ${op.path}: "${t}" does not exist`);
    }
    if (Array.isArray(parent)) {
      const i = index(parent, last, op.op === 'add');
      if (op.op === 'add') parent.splice(i, 0, structuredClone(op.value));
      else if (op.op === 'replace') parent[i] = structuredClone(op.value);
      else parent.splice(i, 1);
    } else if (typeof parent === 'object' && parent !== null) {
      const obj = parent as Record<string, unknown>;
      if (op.op !== 'add' && !(last in obj)) throw new Error(`${op.op} ${op.path}: "${last}" does not exist`);
      if (op.op === 'remove') delete obj[last];
      else obj[last] = structuredClone(op.value);
    } else {
      throw new Error(`${op.op} ${op.path}: the parent is not an object or array`);
    }
  }
  return root.v as T;
}
