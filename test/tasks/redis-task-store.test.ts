import { RedisTaskStore } from '../../src/tasks/redis-task-store';
import { deleteKeys, newRedis, redisOrSkip, uniquePrefix } from '../support/redis';
import { sampleRecord } from '../support/task-records';
import { describeTaskStoreContract } from './task-store.contract';

const describeRedis = redisOrSkip();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describeTaskStoreContract(
  describeRedis,
  'redis',
  async ({ ttlMs }) => {
    const keyPrefix = uniquePrefix('store');
    const a = newRedis();
    const b = newRedis();
    const store = new RedisTaskStore({ client: a, keyPrefix, ...(ttlMs === undefined ? {} : { ttlMs }) });
    const peer = new RedisTaskStore({ client: b, keyPrefix, ...(ttlMs === undefined ? {} : { ttlMs }) });
    return {
      store,
      peer,
      // Leases and TTLs run on the Redis server's clock: real time has to pass.
      advance: (ms) => sleep(ms),
      dispose: async () => {
        await deleteKeys(a, keyPrefix);
        await store.close();
        await peer.close();
        await a.quit();
        await b.quit();
      },
    };
  },
  60,
);

describeRedis('RedisTaskStore', () => {
  test('keys: record JSON with a TTL under the prefix, lease and settlement keys', async () => {
    const keyPrefix = uniquePrefix('keys');
    const redis = newRedis();
    const store = new RedisTaskStore({ client: redis, keyPrefix, ttlMs: 3_600_000 });
    try {
      const record = sampleRecord();
      await store.create(record);
      await store.tryAcquirePollLease(record.id, 1000);
      await store.claimSettlement(record.id, 30_000);
      expect(JSON.parse((await redis.get(`${keyPrefix}task:${record.id}`))!)).toStrictEqual(record);
      const ttl = await redis.pttl(`${keyPrefix}task:${record.id}`);
      expect(ttl).toBeGreaterThan(3_500_000);
      expect(ttl).toBeLessThanOrEqual(3_600_000);
      expect(await redis.pttl(`${keyPrefix}lease:${record.id}`)).toBeLessThanOrEqual(1000);
      expect(await redis.get(`${keyPrefix}settled:${record.id}`)).toBe('claim');
      expect(await redis.pttl(`${keyPrefix}settled:${record.id}`)).toBeLessThanOrEqual(30_000);
      await store.confirmSettlement(record.id);
      expect(await redis.get(`${keyPrefix}settled:${record.id}`)).toBe('done');
      expect(await redis.pttl(`${keyPrefix}settled:${record.id}`)).toBeGreaterThan(3_500_000);
      // update keeps the retention counted from creation.
      await redis.pexpire(`${keyPrefix}task:${record.id}`, 50_000);
      await store.update({ ...record, status: 'processing' });
      expect(await redis.pttl(`${keyPrefix}task:${record.id}`)).toBeLessThanOrEqual(50_000);
    } finally {
      await deleteKeys(redis, keyPrefix);
      await store.close();
      await redis.quit();
    }
  });

  test('a record stored before billing said requestedImages (billing { model, units }) is read as today\'s record', async () => {
    const keyPrefix = uniquePrefix('old');
    const redis = newRedis();
    const store = new RedisTaskStore({ client: redis, keyPrefix });
    try {
      const record = sampleRecord({ model: 'gpt-image-2', family: 'gpt-image-2', billing: { tier: '2K', quality: 'high', requestedImages: 3 } });
      const old = { ...record, billing: { model: 'gpt-image-2', tier: '2K', quality: 'high', units: 3 } };
      await redis.set(`${keyPrefix}task:${record.id}`, JSON.stringify(old));
      expect(await store.get(record.id)).toStrictEqual(record);
    } finally {
      await deleteKeys(redis, keyPrefix);
      await store.close();
      await redis.quit();
    }
  });

  test('a store that connects itself quits its client on close', async () => {
    const keyPrefix = uniquePrefix('own');
    const store = new RedisTaskStore({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', keyPrefix });
    await store.ping();
    await store.close();
    await expect(store.ping()).rejects.toThrow();
  });
});
