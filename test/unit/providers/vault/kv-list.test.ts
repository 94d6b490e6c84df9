// KV listing for dataFrom find: the LIST paths of KV v1 and v2, the answer's keys, and the
// recursive walk with its bound on names seen.
import { FindLimitError, InvalidSpecError, InvalidValueError } from '../../../../src/errors.js';
import { kvListPath, parseKvList, walkKv } from '../../../../src/providers/vault/kv-list.js';

describe('kvListPath', () => {
  test.each<[1 | 2, string, string]>([
    [2, 'payments/app', 'secret/metadata/payments/app/?list=true'],
    [2, 'payments/app/', 'secret/metadata/payments/app/?list=true'],
    [2, '', 'secret/metadata/?list=true'],
    [1, 'a b', 'secret/a%20b/?list=true'],
  ])('KV v%s %j', (version, folder, want) => {
    expect(kvListPath({ mount: 'secret', version }, folder)).toBe(want);
  });

  test('a ".." segment is refused', () => {
    expect(() => kvListPath({ mount: 'secret', version: 2 }, 'a/../b')).toThrow(InvalidSpecError);
  });
});

test('parseKvList', () => {
  expect(parseKvList({ data: { keys: ['a', 'b/'] } }, 'w')).toEqual(['a', 'b/']);
  expect(() => parseKvList({ data: {} }, 'w')).toThrow(InvalidValueError);
});

describe('walkKv', () => {
  const tree: Record<string, string[]> = { app: ['db', 'nested/'], 'app/nested': ['cache', 'deeper/'], 'app/nested/deeper': ['x'] };
  const list = (folder: string) => Promise.resolve(tree[folder]);

  test('every secret under the folder, recursively', async () => {
    expect((await walkKv('app', 100, list, 'find.path')).sort()).toEqual(['app/db', 'app/nested/cache', 'app/nested/deeper/x']);
  });

  test('an absent folder lists nothing', async () => {
    expect(await walkKv('none', 100, list, 'find.path')).toEqual([]);
  });

  test('more names seen than the bound stops the walk', async () => {
    const folders: string[] = [];
    const counting = (f: string) => {
      folders.push(f);
      return list(f);
    };
    await expect(walkKv('app', 3, counting, 'find.path')).rejects.toThrow(FindLimitError);
    expect(folders).toEqual(['app', 'app/nested']);
  });
});
