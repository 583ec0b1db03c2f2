/**
 * Loaded into the gateway with `NODE_OPTIONS=--require <this file>` by the synchronous-upstream phase
 * (bench/sync-bench.ts) and the comparison's rate search (bench/compare.ts): measures the process's event-loop delay
 * with perf_hooks' monitorEventLoopDelay (10 ms resolution) and its GC pauses (perf_hooks 'gc' entries, by kind),
 * and the bytes its scavenges promoted to the old space (v8.GCProfiler: old-space use after minus before each
 * scavenge), and writes `{ p50Ms, p99Ms, maxMs, meanMs, count, gc, promotedBytes }` to BENCH_ELD_FILE every 250 ms.
 * Each delay figure is the delay beyond the 10 ms sampling interval (the histogram holds whole intervals: an idle loop
 * reads ~10.1 ms). `gc` has, per kind (minor: scavenge, major: mark-compact, incremental: marking steps, weakcb), the
 * count, the total and the longest pause in ms. Promoted bytes are what fills the old space between mark-compacts:
 * objects that outlive two scavenges, the live ones and those that die soon after (docs/benchmarks.md "Promoted
 * bytes"). SIGUSR2 resets all of it, so the figures cover the measured window only.
 */
import { writeFileSync } from 'node:fs';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { GCProfiler } from 'node:v8';

/** GC pauses of one kind. */
export interface GcPauses {
  count: number;
  totalMs: number;
  maxMs: number;
}

const GC_KINDS: Readonly<Record<number, string>> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

const file = process.env.BENCH_ELD_FILE;
if (file) {
  const RESOLUTION_MS = 10;
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  let gc: Record<string, GcPauses> = {};
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = GC_KINDS[(entry as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
      const pauses = (gc[kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
      pauses.count += 1;
      pauses.totalMs = Math.round((pauses.totalMs + entry.duration) * 100) / 100;
      pauses.maxMs = Math.max(pauses.maxMs, Math.round(entry.duration * 100) / 100);
    }
  }).observe({ entryTypes: ['gc'] });
  // GCProfiler only answers when stopped: each write stops it, adds up what it saw, and starts a new one.
  let profiler = new GCProfiler();
  profiler.start();
  let promotedBytes = 0;
  const oldSpaceUsed = (spaces: ReadonlyArray<{ spaceName: string; spaceUsedSize: number }>): number => spaces.find((x) => x.spaceName === 'old_space')?.spaceUsedSize ?? 0;
  const harvest = (): void => {
    const seen = profiler.stop();
    profiler = new GCProfiler();
    profiler.start();
    for (const gcRun of seen?.statistics ?? []) {
      if (gcRun.gcType !== 'Scavenge') continue;
      promotedBytes += Math.max(0, oldSpaceUsed(gcRun.afterGC.heapSpaceStatistics) - oldSpaceUsed(gcRun.beforeGC.heapSpaceStatistics));
    }
  };
  const ms = (ns: number): number => Math.max(0, Math.round((ns - RESOLUTION_MS * 1e6) / 1e4) / 100);
  const write = (): void => {
    harvest();
    const figures = { p50Ms: ms(histogram.percentile(50)), p99Ms: ms(histogram.percentile(99)), maxMs: ms(histogram.max), meanMs: ms(histogram.mean), count: histogram.count, gc, promotedBytes };
    writeFileSync(file, JSON.stringify(figures));
  };
  setInterval(write, 250).unref();
  process.on('SIGUSR2', () => {
    histogram.reset();
    gc = {};
    harvest();
    promotedBytes = 0;
    write();
  });
}
