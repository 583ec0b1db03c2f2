/**
 * The task engine survives the death of an instance (real processes, real Redis, BullMQ): two gateway
 * processes (test/support/engine-gateway-child.ts, the real startGateway with a short BullMQ lock) work one
 * queue in front of a counting hub in this process. One is killed with SIGKILL while both hold tasks; no
 * client ever queries. The survivor finishes every task (the dead one's active jobs come back through
 * BullMQ's stalled-job check), and each task has exactly one usage line across both processes' logs.
 */
import nock from 'nock';
import { RedisTaskStore } from '../../src/tasks/redis-task-store';
import type { TaskRecord } from '../../src/tasks/task-record';
import { spawnGateway, stopAllGateways, stopGateway, type ChildGateway } from '../support/child-gateway';
import { startCountingHub, type CountingHub } from '../support/counting-hub';
import { deleteKeys, newRedis, REDIS_URL, redisOrSkip, uniquePrefix } from '../support/redis';

const KEY = 'sk-engine-kill-key-0001';
const TASKS = 30;
/** Child processes start ts-node and connect to Redis: generous, a loaded 2-core machine is slow. */
jest.setTimeout(120_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function usageCounts(procs: readonly ChildGateway[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const p of procs) for (const l of p.lines) if (l.event === 'usage') counts.set(String(l.task_id), (counts.get(String(l.task_id)) ?? 0) + 1);
  return counts;
}

redisOrSkip()('engine processes on one Redis', () => {
  const redis = newRedis();
  const prefix = uniquePrefix('engine-kill');
  let hub: CountingHub;

  beforeAll(async () => {
    // Loopback only; nock's interceptor would sit between this test and the processes under test.
    nock.restore();
    // Each task ends on its 15th poll: with polls 150-300 ms apart it is open for several seconds.
    hub = await startCountingHub({ pollsToFinish: 15 });
  });

  afterAll(async () => {
    await stopAllGateways();
    await hub.close();
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  it('SIGKILL one of two instances while they hold jobs: the other finishes every task, one usage line per task', async () => {
    const env: Record<string, string> = {
      PORT: '0',
      HOST: '127.0.0.1',
      GATEWAY_API_KEYS: `${KEY}:killer`,
      HUB_BASE_URL: hub.baseUrl,
      HUB_API_KEY: hub.apiKey,
      TASK_STORE: 'redis',
      REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      POLL_INTERVAL_MS: '150',
      RATE_LIMIT_BURST: '1000',
      RATE_LIMIT_PER_MINUTE: '100000',
      LOG_LEVEL: 'info',
      TEST_ENGINE_OPTIONS: JSON.stringify({ pollCadence: { firstMs: 100, factor: 1.5, capMs: 300 }, lockDurationMs: 1000, stalledIntervalMs: 500 }),
    };
    const script = ['test/support/engine-gateway-child.ts'];
    const doomed = await spawnGateway('doomed', env, script);
    const survivor = await spawnGateway('survivor', env, script);

    const ids: string[] = [];
    for (let i = 0; i < TASKS; i += 1) {
      const res = await fetch(`${(i % 2 ? survivor : doomed).url}/v1/images/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'NanoBanana2-0.5K', prompt: `kill test ${i}`, aspect_ratio: '1:1' }),
      });
      expect(res.status).toBe(201);
      ids.push(String(((await res.json()) as { task_id: string }).task_id));
    }
    // Kill once every task has been polled by the engines, while (nearly all) are still open.
    for (let i = 0; i < 600 && [...hub.polls.values()].some((t) => t.length < 1); i += 1) await sleep(20);
    expect(hub.finished.size).toBeLessThan(TASKS / 2);
    await stopGateway(doomed, 'SIGKILL');
    expect(doomed.child.signalCode).toBe('SIGKILL');
    const killedAt = Date.now();

    // No query from here on: the survivor's engine alone finishes every task.
    const store = new RedisTaskStore({ client: redis, keyPrefix: prefix });
    let records: TaskRecord[] = [];
    for (let i = 0; i < 1500; i += 1) {
      records = (await Promise.all(ids.map((id) => store.get(id)))) as TaskRecord[];
      if (records.every((r) => r.usageSettled)) break;
      await sleep(40);
    }
    expect(records.map((r) => [r.status, r.usageSettled])).toStrictEqual(ids.map(() => ['succeeded', true]));
    expect(hub.submitted).toHaveLength(TASKS);
    expect(hub.finished.size).toBe(TASKS);
    // Every task was polled after the kill (the doomed process's tasks were taken over).
    for (const times of hub.polls.values()) expect(times.some((t) => t > killedAt)).toBe(true);
    // One usage line per task across both processes: none lost, none doubled.
    await sleep(300);
    const counts = usageCounts([doomed, survivor]);
    expect(ids.map((id) => counts.get(id) ?? 0)).toStrictEqual(ids.map(() => 1));
    expect(counts.size).toBe(TASKS);
    await stopGateway(survivor, 'SIGTERM');
  });
});
