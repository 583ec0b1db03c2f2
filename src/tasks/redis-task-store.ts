/**
 * RedisTaskStore: the TaskStore for restarts and several instances (ioredis).
 *
 * Keys (prefix configurable, default `itb:`):
 * - `${prefix}task:${id}`    the record as one JSON string, expiring `ttlMs` after creation (default 7 days);
 * - `${prefix}lease:${id}`   the poll lease, `SET ... PX interval NX`: one holder per interval across instances;
 * - `${prefix}settled:${id}` the settlement claim, `SET ... NX`: exactly one instance ever wins.
 * Leases expire on the Redis server's clock, so instances with skewed clocks still agree.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { DEFAULT_TASK_TTL_MS } from './memory-task-store';
import type { TaskStore } from './ports';
import type { TaskRecord } from './task-record';

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

type WithUpdate = Redis & { itbTaskUpdate(key: string, json: string, status: string, ttlMs: string): Promise<number> };

export class RedisTaskStore implements TaskStore {
  private readonly redis: WithUpdate;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private readonly ttlMs: number;

  constructor(options: RedisTaskStoreOptions = {}) {
    this.ownsClient = options.client === undefined;
    const client = options.client ?? new Redis(options.url ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 2, ...options.redisOptions });
    client.defineCommand('itbTaskUpdate', { numberOfKeys: 1, lua: UPDATE_SCRIPT });
    this.redis = client as WithUpdate;
    this.prefix = options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX;
    this.ttlMs = options.ttlMs ?? DEFAULT_TASK_TTL_MS;
    if (!(this.ttlMs > 0)) throw new RangeError('RedisTaskStore ttlMs must be positive');
  }

  async create(record: TaskRecord): Promise<void> {
    const ok = await this.redis.set(this.taskKey(record.id), JSON.stringify(record), 'PX', this.ttlMs, 'NX');
    if (ok !== 'OK') throw new Error(`Task ${record.id} already exists`);
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    const json = await this.redis.get(this.taskKey(id));
    return json === null ? undefined : (JSON.parse(json) as TaskRecord);
  }

  async update(record: TaskRecord): Promise<void> {
    await this.redis.itbTaskUpdate(this.taskKey(record.id), JSON.stringify(record), record.status, String(this.ttlMs));
  }

  async tryAcquirePollLease(id: string, intervalMs: number): Promise<boolean> {
    const px = Math.max(1, Math.ceil(intervalMs));
    return (await this.redis.set(`${this.prefix}lease:${id}`, '1', 'PX', px, 'NX')) === 'OK';
  }

  async claimSettlement(id: string): Promise<boolean> {
    return (await this.redis.set(`${this.prefix}settled:${id}`, '1', 'PX', this.ttlMs, 'NX')) === 'OK';
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

  private taskKey(id: string): string {
    return `${this.prefix}task:${id}`;
  }
}
