// Loaded into the operator process by the scale benchmark (node --import bench/probe.mjs):
// event-loop delay from perf_hooks (10 ms resolution) and V8 heap figures, written as one
// JSON line per second to $SECRETSYNC_BENCH_PROBE. SIGUSR2 starts a new phase: the delay
// histogram is reset, so each phase's p99 and max are its own. Not part of the product.
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const out = process.env.SECRETSYNC_BENCH_PROBE;
if (out) {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  let phase = 0;
  process.on('SIGUSR2', () => {
    h.reset();
    phase++;
  });
  const ms = (ns) => Math.round((ns / 1e6) * 100) / 100;
  setInterval(() => {
    const m = process.memoryUsage();
    const line = {
      t: Date.now(),
      phase,
      lagP50: ms(h.percentile(50)),
      lagP99: ms(h.percentile(99)),
      lagMax: ms(h.max),
      samples: h.count,
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
    };
    appendFileSync(out, `${JSON.stringify(line)}\n`);
  }, 1000).unref();
}
