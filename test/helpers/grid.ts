// Expected times of a fixed-interval schedule, from a tick the test saw (an operator log
// line) and the interval the test wrote: never from the scheduling code under test, which
// would make the expectation agree with whatever that code does.

/** The first instant strictly after `after` on the grid `tick + k * periodMs` (k any integer). */
export function nextOnGrid(tick: number, periodMs: number, after: number): number {
  return tick + (Math.floor((after - tick) / periodMs) + 1) * periodMs;
}

/** How many instants of the grid `tick + k * periodMs` lie in the window (from, to]. */
export function gridPointsIn(tick: number, periodMs: number, from: number, to: number): number {
  let n = 0;
  for (let t = nextOnGrid(tick, periodMs, from); t <= to; t += periodMs) n++;
  return n;
}
