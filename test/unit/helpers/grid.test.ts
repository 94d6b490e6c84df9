import { gridPointsIn, nextOnGrid } from '../../helpers/grid.js';

test('nextOnGrid: the first grid instant strictly after, on either side of the tick seen', () => {
  expect(nextOnGrid(1_000, 10_000, 1_000)).toBe(11_000);
  expect(nextOnGrid(1_000, 10_000, 10_999)).toBe(11_000);
  expect(nextOnGrid(1_000, 10_000, 11_000)).toBe(21_000);
  expect(nextOnGrid(1_000, 10_000, 25_000)).toBe(31_000);
  expect(nextOnGrid(50_000, 10_000, 12_345)).toBe(20_000);
});

test('gridPointsIn counts the window (from, to]', () => {
  expect(gridPointsIn(1_000, 10_000, 1_000, 21_000)).toBe(2); // 11000, 21000
  expect(gridPointsIn(1_000, 10_000, 999, 21_000)).toBe(3);
  expect(gridPointsIn(1_000, 10_000, 2_000, 10_999)).toBe(0);
});
