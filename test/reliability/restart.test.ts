/**
 * Restart and scale-out on Redis with real processes: the CLI (`src/cli/main.ts serve`, run by node with
 * ts-node's transpile-only hook) as child processes on TASK_STORE=redis and a unique key prefix, the sandbox
 * hub in this process as the upstream. A gateway killed with SIGKILL while tasks run is replaced by a new
 * process that answers and finishes every task; two processes on one Redis behind alternating requests give
 * the same answers. Usage is counted from the `event: "usage"` log lines of every process: one per task.
 */
import nock from 'nock';
import { startSandboxHub, type SandboxHub } from '../../src/sandbox';
import { spawnGateway, stopAllGateways, stopGateway as stop, type ChildGateway as Proc } from '../support/child-gateway';
import { deleteKeys, newRedis, REDIS_URL, redisOrSkip, uniquePrefix } from '../support/redis';

const KEY = 'sk-restart-key-0001';
const TASKS = 4;
/** Child processes start ts-node and connect to Redis: generous, a loaded 2-core machine is slow. */
jest.setTimeout(90_000);

async function api(proc: Proc, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${proc.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function submit(proc: Proc, i: number): Promise<string> {
  const res = await api(proc, 'POST', '/v1/images/tasks', { model: 'NanoBanana2-0.5K', prompt: `restart test task ${i}`, aspect_ratio: '1:1' });
  expect(res.status).toBe(201);
  return String(res.body.task_id);
}

type Task = { task_id: string; status: string; progress: string; result_url: string | null; error: unknown; metadata: Record<string, unknown> };

async function query(proc: Proc, id: string): Promise<Task> {
  const res = await api(proc, 'GET', `/v1/images/tasks/${id}`);
  expect(res.status).toBe(200);
  return res.body.data as Task;
}

const terminal = (t: Task): boolean => t.status === 'succeeded' || t.status === 'failed';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls every task, spreading the requests over `procs` in turn, until all are terminal (bounded by a count). */
async function untilTerminal(procs: readonly Proc[], ids: readonly string[]): Promise<Map<string, Task>> {
  const done = new Map<string, Task>();
  let turn = 0;
  for (let round = 0; round < 600 && done.size < ids.length; round++) {
    for (const id of ids) {
      if (done.has(id)) continue;
      const task = await query(procs[turn++ % procs.length] as Proc, id);
      if (terminal(task)) done.set(id, task);
    }
    await sleep(25);
  }
  expect(done.size).toBe(ids.length);
  return done;
}

/** Usage lines per task id, over every process. */
function usageCounts(procs: readonly Proc[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const p of procs) for (const l of p.lines) if (l.event === 'usage') counts.set(String(l.task_id), (counts.get(String(l.task_id)) ?? 0) + 1);
  return counts;
}

redisOrSkip()('gateway processes on one Redis', () => {
  const redis = newRedis();
  const prefixes: string[] = [];
  let hub: SandboxHub;

  const env = (prefix: string): Record<string, string> => ({
    PORT: '0',
    HOST: '127.0.0.1',
    GATEWAY_API_KEYS: `${KEY}:restarter`,
    HUB_BASE_URL: hub.baseUrl,
    HUB_API_KEY: hub.apiKey,
    TASK_STORE: 'redis',
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    POLL_INTERVAL_MS: '50',
    LOG_LEVEL: 'info',
  });

  beforeAll(async () => {
    // Loopback only; nock's interceptor would sit between this test and the processes under test.
    nock.restore();
    hub = await startSandboxHub({ timing: { queuedMs: 200, runningMs: 1500 } });
  });

  afterAll(async () => {
    await stopAllGateways();
    await hub.close();
    for (const prefix of prefixes) await deleteKeys(redis, prefix);
    await redis.quit();
  });

  it('SIGKILL while tasks run: a new process answers and finishes every task, usage settles once per task', async () => {
    const prefix = uniquePrefix('restart');
    prefixes.push(prefix);
    const first = await spawnGateway('first', env(prefix));

    // One task finishes (and settles) in the first process before the kill.
    const early = await submit(first, 0);
    const [earlyDone] = (await untilTerminal([first], [early])).values();
    expect(earlyDone?.status).toBe('succeeded');

    const ids = [early];
    for (let i = 1; i < TASKS; i++) ids.push(await submit(first, i));
    for (const id of ids.slice(1)) expect(terminal(await query(first, id))).toBe(false);
    await stop(first, 'SIGKILL');
    expect(first.child.signalCode).toBe('SIGKILL');

    const second = await spawnGateway('second', env(prefix));
    try {
      // Every task is answered right away (none is lost), then finishes.
      for (const id of ids) expect((await query(second, id)).task_id).toBe(id);
      const done = await untilTerminal([second], ids);
      for (const id of ids) {
        const task = done.get(id) as Task;
        expect(task).toMatchObject({ task_id: id, status: 'succeeded', progress: '100%', error: null });
        expect(task.result_url).toMatch(new RegExp(`^${hub.baseUrl}/files/sbx_[0-9a-f]{32}-0\\.png$`));
      }
      // No submit was repeated, and each task settled exactly once across both processes.
      expect(hub.stats().accepted).toBe(TASKS);
      const counts = usageCounts([first, second]);
      expect(ids.map((id) => counts.get(id))).toStrictEqual(ids.map(() => 1));
      expect(usageCounts([first]).get(early)).toBe(1);
      // Terminal tasks are answered again without a second settlement.
      for (const id of ids) expect(await query(second, id)).toStrictEqual(done.get(id));
      expect([...usageCounts([first, second]).values()].every((n) => n === 1)).toBe(true);
    } finally {
      await stop(second, 'SIGTERM');
    }
  });

  it('two processes behind alternating requests answer alike and settle once', async () => {
    const prefix = uniquePrefix('scale-out');
    prefixes.push(prefix);
    const acceptedBefore = hub.stats().accepted;
    const [a, b] = await Promise.all([spawnGateway('a', env(prefix)), spawnGateway('b', env(prefix))]);
    const procs = [a, b];
    try {
      const ids: string[] = [];
      for (let i = 0; i < TASKS; i++) ids.push(await submit(procs[i % 2] as Proc, i));
      // Before the end: a task submitted to one is known to the other.
      for (const id of ids) expect((await query(b, id)).task_id).toBe(id);

      const done = await untilTerminal(procs, ids);
      for (const id of ids) {
        const fromA = await query(a, id);
        const fromB = await query(b, id);
        expect(fromA).toStrictEqual(fromB);
        expect(fromA).toStrictEqual(done.get(id));
        expect(fromA).toMatchObject({ task_id: id, status: 'succeeded', progress: '100%', error: null });
      }
      expect(hub.stats().accepted - acceptedBefore).toBe(TASKS);
      const counts = usageCounts(procs);
      expect(ids.map((id) => counts.get(id))).toStrictEqual(ids.map(() => 1));
      expect(counts.size).toBe(TASKS);
    } finally {
      await Promise.all(procs.map((p) => stop(p, 'SIGTERM')));
    }
    expect(a.child.exitCode).toBe(0);
    expect(b.child.exitCode).toBe(0);
  });
});
