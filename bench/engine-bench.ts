/**
 * Engine scale (docs/benchmarks.md "Engine"): N open tasks on one gateway instance against the mock hub, whose
 * tasks never finish, so the task engine polls every one on the hub's cadence (1 s, 2 s, 4 s, then every 5 s)
 * with no client query at all. Measured over a window after the submits: upstream polls per task per
 * interval (the mock's per-task poll times), the engine's due lag (its bridge_engine_due_lag_seconds
 * histogram, the window's runs only), gateway CPU per engine poll, RSS, and with TASK_STORE=redis the Redis memory per open task
 * (task record + BullMQ job).
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { COMPARISON_SUBMIT_BODY } from './floor-requests';
import { send } from './load';
import { cpuMs, getJson, RssPeaks, startGateway, startScript, stopChildren, type Child } from './processes';

/** What one engine run measured. */
export interface EngineFigures {
  scheduler: 'memory' | 'redis';
  /** Gateway instances working the queue (the scale-out check runs two on one Redis). */
  instances: number;
  openTasks: number;
  windowSeconds: number;
  polls: number;
  pollsPerSecond: number;
  maxPollsPerTaskInAnyInterval: number;
  tasksPolledMoreThanOncePerInterval: number;
  dueLagP50: string;
  dueLagP99: string;
  dueLagCount: number;
  gatewayCpuMsPerPoll: number;
  /** The highest RSS of any instance. */
  gatewayRssPeakMiB: number;
  redisBytesPerOpenTask?: number;
  /** Redis CPU (user + sys, INFO cpu) per upstream poll in the window: the scheduler's and the store's work. */
  redisCpuMsPerPoll?: number;
  /** Redis commands (INFO stats total_commands_processed) per upstream poll in the window; Lua scripts count once. */
  redisCommandsPerPoll?: number;
}

/** The cumulative bucket counts of a prometheus histogram (text format), by upper bound. */
function histogramBuckets(metrics: string, name: string): Array<{ le: string; value: number }> {
  return metrics
    .split('\n')
    .filter((l) => l.startsWith(`${name}_bucket{`))
    .map((l) => ({ le: /le="([^"]+)"/.exec(l)?.[1] ?? '+Inf', value: Number(l.split(' ').pop()) }));
}

/**
 * The upper bound of the bucket holding quantile q of a histogram's observations between two scrapes (text
 * format): the window's runs only, not the submit burst before it.
 */
function histogramQuantile(before: readonly string[], after: readonly string[], name: string, q: number): { bound: string; count: number } {
  // Several instances: their bucket counts add up.
  const start = new Map<string, number>();
  for (const text of before) for (const b of histogramBuckets(text, name)) start.set(b.le, (start.get(b.le) ?? 0) + b.value);
  const end = new Map<string, number>();
  for (const text of after) for (const b of histogramBuckets(text, name)) end.set(b.le, (end.get(b.le) ?? 0) + b.value);
  const buckets = [...end.entries()].map(([le, value]) => ({ le, value: value - (start.get(le) ?? 0) })).sort((a, b) => (a.le === '+Inf' ? 1 : b.le === '+Inf' ? -1 : Number(a.le) - Number(b.le)));
  const total = buckets.find((b) => b.le === '+Inf')?.value ?? 0;
  const hit = buckets.find((b) => b.value >= q * total);
  return { bound: total === 0 ? 'n/a' : hit?.le === '+Inf' ? '> largest bucket' : `<= ${Number(hit?.le) * 1000} ms`, count: total };
}

/** Redis's CPU time so far (ms) and commands processed, from INFO (the whole server: run it on a quiet Redis). */
async function redisWork(url: string): Promise<{ cpuMs: number; commands: number }> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    const cpu = await r.info('cpu');
    const stats = await r.info('stats');
    const num = (text: string, name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(text)?.[1] ?? 0);
    return { cpuMs: (num(cpu, 'used_cpu_user') + num(cpu, 'used_cpu_sys')) * 1000, commands: num(stats, 'total_commands_processed') };
  } finally {
    r.disconnect();
  }
}

async function redisUsedMemory(url: string): Promise<number> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    const info = await r.info('memory');
    return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
  } finally {
    r.disconnect();
  }
}

/** Runs one scheduler's engine phase with fresh processes. */
export async function engineRun(o: {
  scheduler: 'memory' | 'redis';
  tasks: number;
  windowMs: number;
  redisUrl: string;
  clientKey: string;
  hubKey: string;
  pollIntervalMs: number;
  nodeOptions: string;
  /** Gateway instances on one Redis (redis scheduler only; default 1); submits go round robin. */
  instances?: number;
}): Promise<EngineFigures> {
  const instances = o.scheduler === 'redis' ? Math.max(1, o.instances ?? 1) : 1;
  const mock = await startScript('mock-hub.js');
  const env: Record<string, string> = {
    HUB_API_KEY: o.hubKey,
    GATEWAY_API_KEYS: `${o.clientKey}:bench`,
    LOG_LEVEL: 'warn',
    POLL_INTERVAL_MS: String(o.pollIntervalMs),
    RATE_LIMIT_PER_MINUTE: '100000000',
    MAX_OPEN_TASKS_PER_OWNER: '100000000',
    // Limits high enough for the cadence of N tasks (N / 5 s at the cap): the figure is the engine's, not the limiter's.
    POLL_RATE_PER_CHANNEL: String(Math.max(200, Math.ceil(o.tasks / 2))),
    POLL_CONCURRENCY_PER_CHANNEL: '256',
    ENGINE_CONCURRENCY: '256',
  };
  const prefix = `itb-bench:${randomBytes(4).toString('hex')}:`;
  if (o.scheduler === 'redis') Object.assign(env, { TASK_STORE: 'redis', REDIS_URL: o.redisUrl, REDIS_KEY_PREFIX: prefix });
  const redisBefore = o.scheduler === 'redis' ? await redisUsedMemory(o.redisUrl) : 0;
  const gateways: Child[] = [];
  for (let i = 0; i < instances; i++) gateways.push(await startGateway(mock.url, env, o.nodeOptions));
  const children: Child[] = [mock, ...gateways];
  const hardStop = setTimeout(() => {
    for (const c of children) c.child.kill('SIGKILL');
    process.exit(3);
  }, (instances > 1 ? 25 : 10) * 60_000);
  const rss = new RssPeaks(Object.fromEntries(gateways.map((g, i) => [`gateway${i}`, g.child])));
  const scrape = async (): Promise<string[]> => Promise.all(gateways.map(async (g) => (await send(new http.Agent(), new URL(g.url), { method: 'GET', path: '/metrics' })).body));
  const cpuOfAll = (): number => gateways.reduce((sum, g) => sum + cpuMs(g.child.pid), 0);
  try {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    const body = JSON.stringify(COMPARISON_SUBMIT_BODY);
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${o.clientKey}` };
    const urls = gateways.map((g) => new URL(g.url));
    for (let i = 0; i < o.tasks; i += 32) {
      await Promise.all(Array.from({ length: Math.min(32, o.tasks - i) }, (_, j) => send(agent, urls[(i + j) % urls.length] as URL, { method: 'POST', path: '/v1/images/tasks', headers, body })));
    }
    agent.destroy();
    const redisAfter = o.scheduler === 'redis' ? await redisUsedMemory(o.redisUrl) : 0;
    // Every task has been polled at least once by now or soon; the window starts clean.
    await new Promise((r) => setTimeout(r, 2000));
    await send(new http.Agent(), new URL(mock.url), { method: 'POST', path: '/stats/reset' });
    const metricsBefore = await scrape();
    const cpuBefore = cpuOfAll();
    const redisWorkBefore = o.scheduler === 'redis' ? await redisWork(o.redisUrl) : undefined;
    await new Promise((r) => setTimeout(r, o.windowMs));
    const cpu = cpuOfAll() - cpuBefore;
    const redisWorkAfter = o.scheduler === 'redis' ? await redisWork(o.redisUrl) : undefined;
    const metrics = await scrape();
    const stats = (await getJson(mock.url, `/stats/per-task?interval=${o.pollIntervalMs}`)) as { polls: number; maxPollsPerTaskInAnyInterval: number; tasksOverOne: number };
    const p50 = histogramQuantile(metricsBefore, metrics, 'bridge_engine_due_lag_seconds', 0.5);
    const p99 = histogramQuantile(metricsBefore, metrics, 'bridge_engine_due_lag_seconds', 0.99);
    return {
      scheduler: o.scheduler,
      instances,
      openTasks: o.tasks,
      windowSeconds: o.windowMs / 1000,
      polls: stats.polls,
      pollsPerSecond: Math.round(stats.polls / (o.windowMs / 1000)),
      maxPollsPerTaskInAnyInterval: stats.maxPollsPerTaskInAnyInterval,
      tasksPolledMoreThanOncePerInterval: stats.tasksOverOne,
      dueLagP50: p50.bound,
      dueLagP99: p99.bound,
      dueLagCount: p99.count,
      gatewayCpuMsPerPoll: stats.polls > 0 ? Math.round((cpu / stats.polls) * 1000) / 1000 : Number.NaN,
      gatewayRssPeakMiB: Math.max(0, ...Object.values(rss.stop())),
      ...(o.scheduler === 'redis' ? { redisBytesPerOpenTask: Math.round((redisAfter - redisBefore) / o.tasks) } : {}),
      ...(redisWorkBefore && redisWorkAfter && stats.polls > 0
        ? {
            redisCpuMsPerPoll: Math.round(((redisWorkAfter.cpuMs - redisWorkBefore.cpuMs) / stats.polls) * 1000) / 1000,
            redisCommandsPerPoll: Math.round(((redisWorkAfter.commands - redisWorkBefore.commands) / stats.polls) * 10) / 10,
          }
        : {}),
    };
  } finally {
    rss.stop();
    clearTimeout(hardStop);
    await stopChildren(children);
    if (o.scheduler === 'redis') await deletePrefix(o.redisUrl, prefix);
  }
}

async function deletePrefix(url: string, prefix: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}
