/**
 * Memory figures: bytes per task in the memory store (heap delta over 100,000 realistic records, and the
 * process RSS after), and bytes per task in Redis (MEMORY USAGE of stored keys).
 */
import 'reflect-metadata';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import Redis from 'ioredis';
import { HubAdapter } from '../adapters/hub/hub-adapter';
import { planSubmit } from '../src/routing/plan';
import { AdapterRegistry } from '../src/routing/registry';
import { MemoryTaskStore } from '../src/tasks/memory-task-store';
import { COMPARISON_SUBMIT_BODY } from './floor-requests';
import { newTaskRecord } from '../src/tasks/task-record';
import { RedisTaskStore } from '../src/tasks/redis-task-store';
import type { TaskRecord } from '../src/tasks/task-record';

/** A task id of the real shape (`task_` + 22 characters) for record `i`. */
function benchTaskId(i: number): string {
  return `task_${i.toString(36).padStart(22, 'A')}`;
}

/** A realistic finished gpt-image-2 record (one result URL, one warning, size metadata). */
export function benchRecord(i: number): TaskRecord {
  return {
    id: benchTaskId(i),
    owner: 'bench-owner',
    channelId: 'hub',
    adapterId: 'hub',
    upstreamRef: { id: `0f9c2e7a-4b1d-4e8a-9c3f-${i.toString(16).padStart(12, '0')}` },
    model: 'gpt-image-2',
    family: 'gpt-image-2',
    taskType: 'text2image',
    billing: { tier: '2K', quality: 'medium', requestedImages: 1 },
    status: 'succeeded',
    progress: 100,
    resultUrls: [`https://cdn.example.com/results/2026/11/25/${i.toString(16).padStart(16, '0')}.png`],
    error: null,
    warnings: [{ code: 'size_adjusted', param: 'size', message: 'The upstream needs edges that are multiples of 16; size 1920x1080 was generated as 1920x1088.' }],
    metadata: { requested_size: '1920x1080', actual_size: '1920x1088' },
    createdAt: 1_764_000_000_000 + i,
    updatedAt: 1_764_000_000_000 + i,
    lastPolledAt: 1_764_000_000_000 + i,
    usageSettled: true,
  };
}

/**
 * The record the gateway stores for each task of the floor comparison (COMPARISON_SUBMIT_BODY: a queued
 * gpt-image-2 1024x768 task on the hub), built the way the submitter builds it (planSubmit, then newTaskRecord).
 * The comparison's RSS allowance counts the stored tasks at these bytes.
 */
export function comparisonRecordFactory(): (i: number) => TaskRecord {
  const registry = new AdapterRegistry([new HubAdapter()]);
  const { intent, built } = planSubmit({ body: COMPARISON_SUBMIT_BODY }, registry);
  return (i) =>
    newTaskRecord({
      id: benchTaskId(i),
      owner: 'bench',
      channelId: 'hub',
      adapterId: 'hub',
      upstreamRef: { id: `up_${i + 1}` },
      intent,
      built,
      now: 1_764_000_000_000 + i,
    });
}

/** Memory store figures. */
export interface MemoryStoreFigures {
  tasks: number;
  heapBytesPerTask: number;
  rssMiBAfter: number;
}

/**
 * A full GC on demand: `global.gc` when node runs with --expose-gc, else the same function got by setting the flag now
 * and reading `gc` from a new context (node does not expose it otherwise). Without it the heap delta below counted
 * whatever garbage the GC had not yet collected: 698-830 B per task from run to run of `npm run bench`, and the RSS
 * target's allowance moved with it.
 */
function fullGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Fills a memory store with `n` records (`record(i)`) and reports the heap growth per task (after full GCs) and the RSS after. */
export async function measureMemoryStore(n = 100_000, record: (i: number) => TaskRecord = benchRecord): Promise<MemoryStoreFigures> {
  const gc = fullGc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const store = new MemoryTaskStore({ now: () => 1_764_000_000_000 });
  for (let i = 0; i < n; i++) await store.create(record(i));
  gc();
  const after = process.memoryUsage();
  const figures = { tasks: n, heapBytesPerTask: Math.round((after.heapUsed - before) / n), rssMiBAfter: Math.round(after.rss / 1048576) };
  // Keep the store alive until measured.
  if ((await store.get(record(0).id)) === undefined) throw new Error('store lost a record');
  return figures;
}

/** Stores `n` records in Redis and reports MEMORY USAGE per task key (cleaned up afterwards). */
export async function measureRedisStore(url: string, n = 10_000): Promise<{ tasks: number; bytesPerTask: number } | { skipped: string }> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 1000 });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    return { skipped: `Redis not reachable at ${url}: ${(err as Error).message}` };
  }
  const prefix = `itb-bench-${process.pid}:`;
  const store = new RedisTaskStore({ client: redis, keyPrefix: prefix });
  try {
    for (let i = 0; i < n; i += 500) {
      await Promise.all(Array.from({ length: Math.min(500, n - i) }, (_, k) => store.create(benchRecord(i + k))));
    }
    let total = 0;
    let sampled = 0;
    for (let i = 0; i < n; i += Math.ceil(n / 200)) {
      const keys = await redis.keys(`${prefix}*${benchRecord(i).id}`);
      for (const key of keys) total += Number(await redis.memory('USAGE', key)) || 0;
      sampled++;
    }
    return { tasks: n, bytesPerTask: Math.round(total / sampled) };
  } finally {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  }
}
