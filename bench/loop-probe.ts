/**
 * The gateway side of bench/event-loop-probe.ts for a bench phase: the node option and env that load the probe into
 * the gateway, and `window`, which resets the probe (SIGUSR2), runs a piece of load and reads what the probe saw
 * during it: event-loop delay and GC pauses by kind. Used by the synchronous-upstream phase and by the comparison's
 * rate searches, where it says whether the steps that broke p99 < 10 ms met a pause.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GcPauses } from './event-loop-probe';
import type { Child } from './processes';

/** What the probe saw in one window: event-loop delay beyond the 10 ms sampling interval, and GC pauses by kind. */
export interface LoopFigures {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  count: number;
  gc: Record<string, GcPauses>;
  /** Bytes the window's scavenges promoted to the old space. */
  promotedBytes: number;
}

/** A probe for one gateway. */
export interface LoopProbe {
  /** Add to the gateway's NODE_OPTIONS. */
  readonly nodeOptions: string;
  /** Add to the gateway's environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Resets the probe in `gateway`, runs `load`, and answers its result with the probe's figures for that window. */
  window<T>(gateway: Child, load: () => Promise<T>): Promise<{ result: T; loop: LoopFigures }>;
}

/** A probe writing to a file in `dir` (a new temp dir by default). */
export function loopProbe(dir: string = mkdtempSync(join(tmpdir(), 'itb-bench-loop-'))): LoopProbe {
  const file = join(dir, 'event-loop.json');
  const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  return {
    nodeOptions: `--require ${join(__dirname, 'event-loop-probe.js')}`,
    env: { BENCH_ELD_FILE: file },
    async window(gateway, load) {
      gateway.child.kill('SIGUSR2');
      await pause(50);
      const result = await load();
      await pause(300); // one more probe write after the window
      return { result, loop: JSON.parse(readFileSync(file, 'utf8')) as LoopFigures };
    },
  };
}

/** `gc` of a window as one short text: `minor 12 (max 1.2 ms), major 1 (max 9.8 ms)`. */
export function gcText(loop: LoopFigures): string {
  const kinds = Object.entries(loop.gc);
  return kinds.length === 0 ? 'no GC' : kinds.map(([kind, g]) => `${kind} ${g.count} (max ${g.maxMs} ms)`).join(', ');
}
