import { Manager, type Runnable } from '../../../src/runtime/manager.js';

function recorder() {
  const events: string[] = [];
  const runnable = (name: string): Runnable => ({
    start: () => void events.push(`start ${name}`),
    stop: async () => void events.push(`stop ${name}`),
  });
  const cache = (name: string) => ({ ...runnable(name), waitForSync: async () => void events.push(`synced ${name}`) });
  return { events, runnable, cache };
}

test('without an elector: servers, caches, sync, controllers; stop in reverse with cleanup before release', async () => {
  const r = recorder();
  const m = new Manager();
  m.addServer(r.runnable('http')).addCache(r.cache('informer')).addController(r.runnable('controller'));
  m.addCleanup(async () => void r.events.push('cleanup'));
  await m.start();
  expect(m.hasSynced()).toBe(true);
  await m.stop('SIGTERM');
  expect(await m.done).toBe(0);
  expect(r.events).toEqual([
    'start http',
    'start informer',
    'synced informer',
    'start controller',
    'stop controller',
    'cleanup',
    'stop informer',
    'stop http',
  ]);
});

test('with an elector: controllers start only when leading; losing the lease stops with exit code 1', async () => {
  const r = recorder();
  const leading: boolean[] = [];
  const m = new Manager({ onLeading: (l) => leading.push(l) });
  let released = false;
  m.addCache(r.cache('informer')).addController(r.runnable('controller'));
  m.useElector({ run: async () => undefined, stop: async (o) => void (released = !!o.release) });
  await m.start();
  expect(r.events).not.toContain('start controller');
  m.startedLeading();
  m.startedLeading(); // idempotent
  expect(r.events.filter((e) => e === 'start controller')).toHaveLength(1);
  m.stoppedLeading();
  expect(await m.done).toBe(1);
  expect(released).toBe(true);
  expect(leading).toEqual([true, false]);
});

test('leadership ending during a graceful stop is not a loss', async () => {
  const leading: boolean[] = [];
  const mm = new Manager({ onLeading: (l) => leading.push(l) });
  mm.useElector({ run: async () => undefined, stop: async () => mm.stoppedLeading() });
  await mm.start();
  mm.startedLeading();
  await mm.stop('SIGTERM');
  expect(await mm.done).toBe(0);
  expect(leading).toEqual([true]);
});
