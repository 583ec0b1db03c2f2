/**
 * RedisTaskStore: the TaskStore for restarts and several instances (ioredis).
 *
 * Keys (prefix configurable, default `itb:`):
 * - `${prefix}task:${id}`    the record as one JSON string, expiring `ttlMs` after creation (default 7 days);
 * - `${prefix}lease:${id}`   the poll lease, `SET ... PX interval NX`: one holder per interval across instances;
 * - `${prefix}settled:${id}` the settlement: `claim` for the claim's lease (one holder at a time across
 *                            instances, lapsing if never confirmed), then `done` for the record's retention;
 * - `${prefix}idem:${key}`   an idempotency key's entry (JSON), pending then completed, changed only by Lua
 *                            scripts so that reserve/complete/release are atomic across instances.
 * Leases expire on the Redis server's clock, so instances with skewed clocks still agree.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { DEFAULT_TASK_TTL_MS } from './memory-task-store';
import { boundedRedisCall, boundedRedisOptions } from '../security/redis-unavailable';
import type { IdempotencyEntry, IdempotencyReservation, SettlementClaim, TaskStore } from './ports';
import { readStoredRecord, type TaskRecord } from './task-record';

/** Options of the Redis store. */
export interface RedisTaskStoreOptions {
  /** An existing client (the store does not quit it on close), or... */
  readonly client?: Redis;
  /** ...a URL to connect to (the store owns and quits that client). Default redis://127.0.0.1:6379. */
  readonly url?: string;
  /** Extra ioredis options when the store connects itself. */
  readonly redisOptions?: RedisOptions;
  /** Key prefix (default `itb:`). */
  readonly keyPrefix?: string;
  /** Retention of a record after creation, in ms (default 7 days). */
  readonly ttlMs?: number;
  /** Longest wait for one reply when the store connects itself (default 2000 ms; REDIS_COMMAND_TIMEOUT_MS). */
  readonly commandTimeoutMs?: number;
}

/** Default key prefix. */
export const DEFAULT_REDIS_KEY_PREFIX = 'itb:';

/**
 * Replaces a record unless the stored one is terminal with another status (a terminal record is final; a
 * slow poller must not overwrite it). Keeps the key's TTL; a vanished key is written again with a fresh TTL.
 */
const UPDATE_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, rec = pcall(cjson.decode, cur)
  if ok and type(rec) == 'table' and (rec.status == 'succeeded' or rec.status == 'failed') and rec.status ~= ARGV[2] then
    return 0
  end
  redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
  return 1
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1
`;

/** Stores the pending entry unless the key is taken; answers the current entry, or nil when reserved. */
const IDEM_RESERVE_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if cur then return cur end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
`;

/** Completes the key when it is free or still pending for the same task id (ARGV[2]). */
const IDEM_COMPLETE_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, e = pcall(cjson.decode, cur)
  if not (ok and type(e) == 'table' and e.state == 'pending' and e.taskId == ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1
`;

/** Deletes the key only while it is pending for the same task id (ARGV[1]). */
const IDEM_RELEASE_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local ok, e = pcall(cjson.decode, cur)
if ok and type(e) == 'table' and e.state == 'pending' and e.taskId == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

/** Claims the settlement key unless it is confirmed (`done`) or claimed (an unexpired `claim`). */
const SETTLE_CLAIM_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if cur == 'done' then return 'settled' end
if cur then return 'held' end
redis.call('SET', KEYS[1], 'claim', 'PX', ARGV[1])
return 'claimed'
`;

type WithUpdate = Redis & {
  itbSettleClaim(key: string, leaseMs: string): Promise<'claimed' | 'held' | 'settled'>;
  itbTaskUpdate(key: string, json: string, status: string, ttlMs: string): Promise<number>;
  itbIdemReserve(key: string, json: string, pendingTtlMs: string): Promise<string | null>;
  itbIdemComplete(key: string, json: string, taskId: string, ttlMs: string): Promise<number>;
  itbIdemRelease(key: string, taskId: string): Promise<number>;
};

function positiveMs(ms: number): string {
  return String(Math.max(1, Math.ceil(ms)));
}

/** What a failing call names in its 503. */
const STORE = 'task store (Redis)';

export class RedisTaskStore implements TaskStore {
  private readonly redis: WithUpdate;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private readonly ttlMs: number;

  constructor(options: RedisTaskStoreOptions = {}) {
    this.ownsClient = options.client === undefined;
    // Bounded: a Redis that stops answering fails the request with a 503 instead of hanging it (redis-unavailable.ts).
    // Auto-pipelining: the commands of concurrent requests and engine runs issued in one tick leave in one write
    // (one syscall, not one per command; docs/benchmarks.md "Engine scale"). Order per connection is kept.
    const client = options.client ?? new Redis(options.url ?? 'redis://127.0.0.1:6379', { ...boundedRedisOptions(options.commandTimeoutMs), enableAutoPipelining: true, ...options.redisOptions });
    client.defineCommand('itbTaskUpdate', { numberOfKeys: 1, lua: UPDATE_SCRIPT });
    client.defineCommand('itbSettleClaim', { numberOfKeys: 1, lua: SETTLE_CLAIM_SCRIPT });
    client.defineCommand('itbIdemReserve', { numberOfKeys: 1, lua: IDEM_RESERVE_SCRIPT });
    client.defineCommand('itbIdemComplete', { numberOfKeys: 1, lua: IDEM_COMPLETE_SCRIPT });
    client.defineCommand('itbIdemRelease', { numberOfKeys: 1, lua: IDEM_RELEASE_SCRIPT });
    this.redis = client as WithUpdate;
    this.prefix = options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX;
    this.ttlMs = options.ttlMs ?? DEFAULT_TASK_TTL_MS;
    if (!(this.ttlMs > 0)) throw new RangeError('RedisTaskStore ttlMs must be positive');
  }

  async create(record: TaskRecord): Promise<void> {
    const ok = await boundedRedisCall(STORE, () => this.redis.set(this.taskKey(record.id), JSON.stringify(record), 'PX', this.ttlMs, 'NX'));
    if (ok !== 'OK') throw new Error(`Task ${record.id} already exists`);
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    return boundedRedisCall(STORE, async () => {
      const json = await this.redis.get(this.taskKey(id));
      return json === null ? undefined : readStoredRecord(json);
    });
  }

  async update(record: TaskRecord): Promise<void> {
    return boundedRedisCall(STORE, async () => {
      await this.redis.itbTaskUpdate(this.taskKey(record.id), JSON.stringify(record), record.status, String(this.ttlMs));
    });
  }

  async tryAcquirePollLease(id: string, intervalMs: number): Promise<boolean> {
    return boundedRedisCall(STORE, async () => {
      const px = Math.max(1, Math.ceil(intervalMs));
      return (await this.redis.set(`${this.prefix}lease:${id}`, '1', 'PX', px, 'NX')) === 'OK';
    });
  }

  async claimSettlement(id: string, leaseMs: number): Promise<SettlementClaim> {
    return boundedRedisCall(STORE, () => this.redis.itbSettleClaim(`${this.prefix}settled:${id}`, positiveMs(leaseMs)));
  }

  async confirmSettlement(id: string): Promise<void> {
    await boundedRedisCall(STORE, () => this.redis.set(`${this.prefix}settled:${id}`, 'done', 'PX', this.ttlMs));
  }

  async reserveIdempotencyKey(key: string, entry: IdempotencyEntry, pendingTtlMs: number): Promise<IdempotencyReservation> {
    return boundedRedisCall(STORE, async () => {
      const pending: IdempotencyEntry = { ...entry, state: 'pending' };
      const current = await this.redis.itbIdemReserve(this.idemKey(key), JSON.stringify(pending), positiveMs(pendingTtlMs));
      if (current === null) return { outcome: 'reserved' };
      return { outcome: 'exists', entry: JSON.parse(current) as IdempotencyEntry };
    });
  }

  async completeIdempotencyKey(key: string, entry: IdempotencyEntry, ttlMs: number): Promise<boolean> {
    return boundedRedisCall(STORE, async () => {
      const completed: IdempotencyEntry = { ...entry, state: 'completed' };
      return (await this.redis.itbIdemComplete(this.idemKey(key), JSON.stringify(completed), entry.taskId, positiveMs(ttlMs))) === 1;
    });
  }

  async releaseIdempotencyKey(key: string, taskId: string): Promise<void> {
    return boundedRedisCall(STORE, async () => {
      await this.redis.itbIdemRelease(this.idemKey(key), taskId);
    });
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    if (!this.ownsClient) return;
    if (this.redis.status === 'end') return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  private idemKey(key: string): string {
    return `${this.prefix}idem:${key}`;
  }

  private taskKey(id: string): string {
    return `${this.prefix}task:${id}`;
  }
}
