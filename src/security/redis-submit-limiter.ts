/**
 * RedisSubmitLimiter: the submit limits of submit-limiter.ts shared by every instance on one Redis.
 *
 * Keys (prefix as the task store's, default `itb:`):
 * - `${prefix}rate:${owner}`  hash {tokens, ts}: the owner's token bucket;
 * - `${prefix}open:${owner}`  sorted set: open task ids scored by slot expiry (ms).
 * One Lua script checks both and takes both or neither, on the Redis server's clock (TIME), so instances
 * with skewed clocks still share one bucket.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Admission, SubmitLimiter } from './ports';
import { boundedRedisCall, boundedRedisOptions } from './redis-unavailable';
import { checkSubmitLimits, OPEN_TASKS_RETRY_AFTER_MS, type SubmitLimits } from './submit-limiter';

/** Options of the Redis limiter. */
export interface RedisSubmitLimiterOptions {
  /** An existing client (not quit on close), or... */
  readonly client?: Redis;
  /** ...a URL to connect to (the limiter owns and quits that client). Default redis://127.0.0.1:6379. */
  readonly url?: string;
  /** Extra ioredis options when the limiter connects itself. */
  readonly redisOptions?: RedisOptions;
  /** Key prefix (default `itb:`). */
  readonly keyPrefix?: string;
  /** Longest wait for one reply when the limiter connects itself (default 2000 ms; REDIS_COMMAND_TIMEOUT_MS). */
  readonly commandTimeoutMs?: number;
}

/**
 * KEYS: bucket, open set. ARGV: tokens per ms, burst, max open, task id, slot ttl ms.
 * Returns {0} admitted, {1, wait_ms} rate, {2} open tasks.
 */
/** What a failing call names in its 503. */
const LIMITER = 'submit limiter (Redis)';

const ADMIT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local perMs = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local maxOpen = tonumber(ARGV[3])
local slotTtl = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= maxOpen then return {2} end
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1])
local ts = tonumber(b[2])
if tokens == nil or ts == nil then tokens = burst; ts = now end
local elapsed = now - ts
if elapsed < 0 then elapsed = 0 end
tokens = math.min(burst, tokens + elapsed * perMs)
if tokens < 1 then return {1, math.ceil((1 - tokens) / perMs)} end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens - 1), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / perMs) + 1000)
redis.call('ZADD', KEYS[2], now + slotTtl, ARGV[4])
redis.call('PEXPIRE', KEYS[2], slotTtl + 1000)
return {0}
`;

type WithAdmit = Redis & { itbAdmit(bucket: string, open: string, perMs: string, burst: string, maxOpen: string, taskId: string, slotTtlMs: string): Promise<number[]> };

export class RedisSubmitLimiter implements SubmitLimiter {
  private readonly redis: WithAdmit;
  private readonly ownsClient: boolean;
  private readonly prefix: string;

  constructor(
    private readonly limits: SubmitLimits,
    options: RedisSubmitLimiterOptions = {},
  ) {
    checkSubmitLimits(limits);
    this.ownsClient = options.client === undefined;
    const client = options.client ?? new Redis(options.url ?? 'redis://127.0.0.1:6379', { ...boundedRedisOptions(options.commandTimeoutMs), ...options.redisOptions });
    client.defineCommand('itbAdmit', { numberOfKeys: 2, lua: ADMIT_SCRIPT });
    this.redis = client as WithAdmit;
    this.prefix = options.keyPrefix ?? 'itb:';
  }

  async admit(owner: string, taskId: string): Promise<Admission> {
    const { ratePerMinute, burst, maxOpenTasks, openTaskTtlMs } = this.limits;
    const [verdict, waitMs] = await boundedRedisCall(LIMITER, () => this.redis.itbAdmit(
      `${this.prefix}rate:${owner}`,
      `${this.prefix}open:${owner}`,
      String(ratePerMinute / 60_000),
      String(burst),
      String(maxOpenTasks),
      taskId,
      String(Math.ceil(openTaskTtlMs)),
    ));
    if (verdict === 0) return { admitted: true };
    if (verdict === 2) return { admitted: false, reason: 'open_tasks', limit: maxOpenTasks, retryAfterMs: OPEN_TASKS_RETRY_AFTER_MS };
    return { admitted: false, reason: 'rate', limit: ratePerMinute, retryAfterMs: Math.max(1, waitMs ?? 1000) };
  }

  async release(owner: string, taskId: string): Promise<void> {
    await boundedRedisCall(LIMITER, () => this.redis.zrem(`${this.prefix}open:${owner}`, taskId));
  }

  async close(): Promise<void> {
    if (!this.ownsClient || this.redis.status === 'end') return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}
