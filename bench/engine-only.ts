/**
 * The engine-scale phase alone (bench/engine-bench.ts), for profiling and tuning the schedulers without the
 * rest of `npm run bench`: `npm run build && node dist/bench/engine-only.js`. Options (env):
 * BENCH_ENGINE_TASKS (default 10,000), BENCH_ENGINE_SCHEDULERS (default `memory,redis`), BENCH_ENGINE_WINDOW_MS
 * (default 30,000), BENCH_ENGINE_INSTANCES (gateways on one Redis, redis scheduler; default 1), REDIS_URL,
 * BENCH_PROFILE=1 (bench/processes.ts), BENCH_GATEWAY_NODE_OPTIONS.
 */
import { engineRun } from './engine-bench';
import { BENCH_CLIENT_KEY, BENCH_HUB_KEY } from './floor-requests';

async function main(): Promise<void> {
  const tasks = Number(process.env.BENCH_ENGINE_TASKS ?? 10_000);
  const windowMs = Number(process.env.BENCH_ENGINE_WINDOW_MS ?? 30_000);
  const schedulers = (process.env.BENCH_ENGINE_SCHEDULERS ?? 'memory,redis').split(',').map((s) => s.trim()) as Array<'memory' | 'redis'>;
  for (const scheduler of schedulers) {
    const figures = await engineRun({
      scheduler,
      tasks,
      windowMs,
      redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      clientKey: BENCH_CLIENT_KEY,
      hubKey: BENCH_HUB_KEY,
      pollIntervalMs: 1000,
      nodeOptions: process.env.BENCH_GATEWAY_NODE_OPTIONS ?? '',
      instances: Number(process.env.BENCH_ENGINE_INSTANCES ?? 1),
    });
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`engine bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
