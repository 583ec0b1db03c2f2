/**
 * `npm run bench`: the benchmark suite. Prints a table and writes bench/results.json.
 *
 * 1. Translation core and store memory, in this process.
 * 2. BENCH_RUNS (default 3) repetitions of the gateway-against-floor comparison (bench/compare.ts), each with
 *    fresh processes: the instant mock hub, a bare node:http proxy to it (the floor) and the gateway. Every
 *    headline figure is printed with its ratio to the floor's, and the ranges over the repetitions.
 * 3. Engine scale (bench/engine-bench.ts), then the synchronous upstream (bench/sync-bench.ts: 200 tasks at once on a
 *    mock Gemini answering after 2 s with a 2 MiB image; peak RSS, event-loop delay, total time).
 * Everything binds 127.0.0.1; every phase is bounded in count and time; children are killed at the end.
 * Options (env): BENCH_QUICK=1 shortens every phase (smoke run), BENCH_RUNS, REDIS_URL for the Redis figure,
 * BENCH_GATEWAY_NODE_OPTIONS for the gateway's NODE_OPTIONS (docs/benchmarks.md "Memory"), BENCH_PROFILE=1 to run every
 * gateway under `node --cpu-prof` (bench/processes.ts; bench/profile-summary.ts reads the profiles),
 * BENCH_ENGINE_SCALEOUT=N (opt-in, e.g. 100000) for the scale-out check after the engine phase: N open tasks on the
 * Redis scheduler across two instances on one Redis (lag, CPU, Redis memory; BENCH_ENGINE_SCALEOUT_WINDOW_MS, 60 s).
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareOnce, type CompareFigures } from './compare';
import { BENCH_CLIENT_KEY, BENCH_HUB_KEY, comparisonGatewayEnv } from './floor-requests';
import { engineRun, type EngineFigures } from './engine-bench';
import { comparisonRecordFactory, measureMemoryStore, measureRedisStore } from './memory-bench';
import { ROOT } from './processes';
import { syncOptionsFromEnv, syncRow, syncRun } from './sync-bench';
import { summarizeRuns } from './ratios';
import { runTranslationBench } from './translation-bench';

const QUICK = process.env.BENCH_QUICK === '1';
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 1 : 3));
const POLL_INTERVAL_MS = 1000;

async function main(): Promise<void> {
  const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, quick: QUICK, runs: RUNS, cpus: (await import('node:os')).cpus().length };
  const rows: string[] = [];
  const row = (...cells: Array<string | number>) => rows.push(cells.map(String).join(' | '));

  const micro = runTranslationBench(join(ROOT, 'fixtures'), QUICK ? 500 : 2000);
  results.translation = micro;
  for (const m of micro) row('translation', m.name, `${m.opsPerSecond.toLocaleString('en')} ops/s`, `${m.nsPerOp} ns/op`);

  const mem = await measureMemoryStore(QUICK ? 20_000 : 100_000);
  results.memoryStore = mem;
  row('memory store', `${mem.tasks} finished tasks`, `${mem.heapBytesPerTask} B/task (heap)`, `RSS ${mem.rssMiBAfter} MiB after`);
  // The RSS target's allowance counts the comparison's stored tasks at the bytes of the records it stores.
  const memComparison = await measureMemoryStore(QUICK ? 20_000 : 100_000, comparisonRecordFactory());
  results.memoryStoreComparisonTasks = memComparison;
  row('memory store', `${memComparison.tasks} tasks as the comparison stores them (queued gpt-image-2)`, `${memComparison.heapBytesPerTask} B/task (heap)`);
  const redisFigures = await measureRedisStore(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', QUICK ? 1000 : 10_000);
  results.redisStore = redisFigures;
  row('redis store', 'tasks' in redisFigures ? `${redisFigures.tasks} tasks` : 'skipped', 'bytesPerTask' in redisFigures ? `${redisFigures.bytesPerTask} B/task (MEMORY USAGE)` : redisFigures.skipped);

  const runs: CompareFigures[] = [];
  for (let i = 0; i < RUNS; i++) {
    process.stderr.write(`bench: gateway against floor, repetition ${i + 1} of ${RUNS}\n`);
    runs.push(
      await compareOnce(
        {
          quick: QUICK,
          gatewayNodeOptions: process.env.BENCH_GATEWAY_NODE_OPTIONS ?? '',
          clientKey: BENCH_CLIENT_KEY,
          hubKey: BENCH_HUB_KEY,
          pollIntervalMs: POLL_INTERVAL_MS,
          // The engine polls open tasks in the background; at one poll a second its work stays out of the
          // per-request figures compared with the floor (docs/benchmarks.md "Method").
          gatewayEnv: comparisonGatewayEnv(POLL_INTERVAL_MS),
        },
        i === 0,
      ),
    );
  }
  results.compare = runs;
  if (runs.length > 0) {
    const summary = summarizeRuns(runs, memComparison.heapBytesPerTask);
    results.summary = summary.figures;
    rows.push('', ...summary.rows);
  }

  // Engine scale: open tasks polled by the engine alone, each scheduler (BENCH_ENGINE_TASKS, default 10,000).
  const engine: EngineFigures[] = [];
  const engineTasks = Number(process.env.BENCH_ENGINE_TASKS ?? (QUICK ? 1000 : 10_000));
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const engineRow = (e: EngineFigures): void => {
    row(
      'engine',
      `${e.scheduler} scheduler, ${e.instances > 1 ? `${e.instances} instances, ` : ''}${e.openTasks} open tasks, ${e.windowSeconds} s`,
      `${e.polls} upstream polls (${e.pollsPerSecond}/s)`,
      `max ${e.maxPollsPerTaskInAnyInterval} per task in any ${POLL_INTERVAL_MS} ms (${e.tasksPolledMoreThanOncePerInterval} tasks over 1)`,
      `due lag p50 ${e.dueLagP50}, p99 ${e.dueLagP99} (${e.dueLagCount} runs)`,
      `gateway CPU ${e.gatewayCpuMsPerPoll} ms/poll`,
      `RSS peak ${e.gatewayRssPeakMiB} MiB`,
      e.redisBytesPerOpenTask !== undefined ? `Redis ${e.redisBytesPerOpenTask} B per open task (record + job), ${e.redisCommandsPerPoll} commands and ${e.redisCpuMsPerPoll} ms CPU per poll` : '',
    );
  };
  const engineOptions = { redisUrl, clientKey: BENCH_CLIENT_KEY, hubKey: BENCH_HUB_KEY, pollIntervalMs: POLL_INTERVAL_MS, nodeOptions: process.env.BENCH_GATEWAY_NODE_OPTIONS ?? '' };
  for (const scheduler of ['memory', 'redis'] as const) {
    process.stderr.write(`bench: engine, ${engineTasks} open tasks, ${scheduler} scheduler\n`);
    const e = await engineRun({ scheduler, tasks: engineTasks, windowMs: QUICK ? 8000 : 30_000, ...engineOptions });
    engine.push(e);
    engineRow(e);
  }
  // Scale-out check (opt-in): many open tasks on the Redis scheduler across two instances on one Redis.
  const scaleOut = Number(process.env.BENCH_ENGINE_SCALEOUT ?? 0);
  if (scaleOut > 0) {
    process.stderr.write(`bench: engine scale-out, ${scaleOut} open tasks, redis scheduler, 2 instances\n`);
    const e = await engineRun({ scheduler: 'redis', tasks: scaleOut, instances: 2, windowMs: Number(process.env.BENCH_ENGINE_SCALEOUT_WINDOW_MS ?? 60_000), ...engineOptions });
    engine.push(e);
    engineRow(e);
  }
  results.engine = engine;

  const syncOptions = syncOptionsFromEnv(BENCH_CLIENT_KEY, QUICK);
  process.stderr.write(`bench: synchronous upstream, ${syncOptions.tasks} tasks at once\n`);
  const sync = await syncRun(syncOptions);
  results.sync = sync;
  rows.push(syncRow(sync));

  const out = join(ROOT, 'bench', 'results.json');
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\n${rows.join('\n')}\n\nwrote ${out}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
