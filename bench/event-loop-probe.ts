/**
 * Loaded into the gateway with `NODE_OPTIONS=--require <this file>` by the synchronous-upstream phase
 * (bench/sync-bench.ts): measures the process's event-loop delay with perf_hooks' monitorEventLoopDelay
 * (10 ms resolution) and writes `{ p50Ms, p99Ms, maxMs, meanMs, count }` to BENCH_ELD_FILE every 250 ms. Each figure
 * is the delay beyond the 10 ms sampling interval (the histogram holds whole intervals: an idle loop reads ~10.1 ms).
 * SIGUSR2 resets the histogram, so the figures cover the measured window only.
 */
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.BENCH_ELD_FILE;
if (file) {
  const RESOLUTION_MS = 10;
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  const ms = (ns: number): number => Math.max(0, Math.round((ns - RESOLUTION_MS * 1e6) / 1e4) / 100);
  const write = (): void => {
    const figures = { p50Ms: ms(histogram.percentile(50)), p99Ms: ms(histogram.percentile(99)), maxMs: ms(histogram.max), meanMs: ms(histogram.mean), count: histogram.count };
    writeFileSync(file, JSON.stringify(figures));
  };
  setInterval(write, 250).unref();
  process.on('SIGUSR2', () => {
    histogram.reset();
    write();
  });
}
