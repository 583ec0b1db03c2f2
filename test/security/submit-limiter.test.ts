import type { Redis } from 'ioredis';
import { RedisSubmitLimiter } from '../../src/security/redis-submit-limiter';
import { checkSubmitLimits, MemorySubmitLimiter, OPEN_TASKS_RETRY_AFTER_MS, type SubmitLimits } from '../../src/security/submit-limiter';
import type { SubmitLimiter } from '../../src/security/ports';
import { FakeClock } from '../support/fake-clock';
import { deleteKeys, newRedis, redisOrSkip, uniquePrefix } from '../support/redis';

describe('MemorySubmitLimiter (fake clock)', () => {
  const limits: SubmitLimits = { ratePerMinute: 60, burst: 3, maxOpenTasks: 100, openTaskTtlMs: 600_000 };

  it('token bucket: a burst, then one submit per refill interval, with the wait as Retry-After', async () => {
    const clock = new FakeClock();
    const limiter = new MemorySubmitLimiter(clock, limits);
    for (let i = 0; i < 3; i += 1) expect(await limiter.admit('alice', `t${i}`)).toStrictEqual({ admitted: true });
    expect(await limiter.admit('alice', 't3')).toStrictEqual({ admitted: false, reason: 'rate', limit: 60, retryAfterMs: 1000 });
    clock.advance(400);
    expect(await limiter.admit('alice', 't3')).toStrictEqual({ admitted: false, reason: 'rate', limit: 60, retryAfterMs: 600 });
    clock.advance(600);
    expect(await limiter.admit('alice', 't3')).toStrictEqual({ admitted: true });
    expect(await limiter.admit('alice', 't4')).toMatchObject({ admitted: false, reason: 'rate' });
    // Owners have separate buckets.
    expect(await limiter.admit('bob', 'b0')).toStrictEqual({ admitted: true });
    // A long pause refills up to the burst, never beyond.
    clock.advance(3_600_000);
    for (let i = 0; i < 3; i += 1) expect(await limiter.admit('alice', `u${i}`)).toStrictEqual({ admitted: true });
    expect(await limiter.admit('alice', 'u3')).toMatchObject({ admitted: false, reason: 'rate' });
  });

  it('open tasks: at most maxOpenTasks per owner; release frees a slot; refusals take no token', async () => {
    const clock = new FakeClock();
    const limiter = new MemorySubmitLimiter(clock, { ratePerMinute: 600, burst: 10, maxOpenTasks: 2, openTaskTtlMs: 600_000 });
    expect(await limiter.admit('alice', 'a')).toStrictEqual({ admitted: true });
    expect(await limiter.admit('alice', 'b')).toStrictEqual({ admitted: true });
    for (let i = 0; i < 20; i += 1) {
      expect(await limiter.admit('alice', 'c')).toStrictEqual({ admitted: false, reason: 'open_tasks', limit: 2, retryAfterMs: OPEN_TASKS_RETRY_AFTER_MS });
    }
    expect(await limiter.admit('bob', 'x')).toStrictEqual({ admitted: true });
    await limiter.release('alice', 'a');
    await limiter.release('alice', 'a');
    expect(await limiter.admit('alice', 'c')).toStrictEqual({ admitted: true });
    expect(await limiter.admit('alice', 'd')).toMatchObject({ admitted: false, reason: 'open_tasks' });
  });

  it('a slot lapses after openTaskTtlMs (tasks nobody polls, crashes between admit and release)', async () => {
    const clock = new FakeClock();
    const limiter = new MemorySubmitLimiter(clock, { ratePerMinute: 600, burst: 10, maxOpenTasks: 1, openTaskTtlMs: 60_000 });
    await limiter.admit('alice', 'a');
    clock.advance(59_999);
    expect(await limiter.admit('alice', 'b')).toMatchObject({ admitted: false, reason: 'open_tasks' });
    clock.advance(1);
    expect(await limiter.admit('alice', 'b')).toStrictEqual({ admitted: true });
  });

  it('forgets idle owners (full bucket, no open slot)', async () => {
    const clock = new FakeClock();
    const limiter = new MemorySubmitLimiter(clock, { ratePerMinute: 60_000, burst: 5, maxOpenTasks: 5, openTaskTtlMs: 1000 });
    for (let i = 0; i < 1023; i += 1) await limiter.admit(`owner-${i}`, 't');
    expect(limiter.size).toBe(1023);
    clock.advance(2000);
    await limiter.admit('last', 't');
    expect(limiter.size).toBe(1);
  });

  it('rejects limits that cannot work', () => {
    expect(() => checkSubmitLimits({ ratePerMinute: 0, burst: 1, maxOpenTasks: 1, openTaskTtlMs: 1 })).toThrow('submit limit ratePerMinute must be at least 1; got 0');
    expect(() => new MemorySubmitLimiter(new FakeClock(), { ...limits, burst: Number.NaN })).toThrow(RangeError);
  });
});

const describeRedis = redisOrSkip();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describeRedis('RedisSubmitLimiter (real Redis, two instances)', () => {
  let prefix: string;
  let clients: Redis[];
  let limiters: SubmitLimiter[];

  function pair(limits: SubmitLimits): [SubmitLimiter, SubmitLimiter] {
    const a = newRedis();
    const b = newRedis();
    clients.push(a, b);
    const made: [SubmitLimiter, SubmitLimiter] = [new RedisSubmitLimiter(limits, { client: a, keyPrefix: prefix }), new RedisSubmitLimiter(limits, { client: b, keyPrefix: prefix })];
    limiters.push(...made);
    return made;
  }

  beforeEach(() => {
    prefix = uniquePrefix('limits');
    clients = [];
    limiters = [];
  });
  afterEach(async () => {
    if (clients[0]) await deleteKeys(clients[0], prefix);
    for (const l of limiters) await l.close();
    await Promise.all(clients.map((c) => c.quit()));
  });

  it('one bucket per owner across instances: exactly `burst` of 30 concurrent submits pass', async () => {
    const [one, two] = pair({ ratePerMinute: 1, burst: 5, maxOpenTasks: 1000, openTaskTtlMs: 60_000 });
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? one : two).admit('alice', `t${i}`)));
    expect(results.filter((r) => r.admitted)).toHaveLength(5);
    for (const r of results) {
      if (r.admitted) continue;
      expect(r.reason).toBe('rate');
      expect(r.limit).toBe(1);
      // One token a minute: the wait is close to a minute.
      expect(r.retryAfterMs).toBeGreaterThan(50_000);
      expect(r.retryAfterMs).toBeLessThanOrEqual(60_000);
    }
    expect(await one.admit('bob', 'b')).toStrictEqual({ admitted: true });
  });

  it('the bucket refills on the server clock', async () => {
    // One token a second: the refusal holds on a loaded machine (600/min refilled within a slow round trip).
    const [one, two] = pair({ ratePerMinute: 60, burst: 1, maxOpenTasks: 1000, openTaskTtlMs: 60_000 });
    expect(await one.admit('alice', 'a')).toStrictEqual({ admitted: true });
    const refused = await two.admit('alice', 'b');
    expect(refused).toMatchObject({ admitted: false, reason: 'rate', limit: 60 });
    await sleep(1100);
    expect(await two.admit('alice', 'b')).toStrictEqual({ admitted: true });
  });

  it('open tasks across instances: 20 concurrent submits with max 3 -> 3 admitted; release on one instance frees a slot for the other', async () => {
    const [one, two] = pair({ ratePerMinute: 6000, burst: 100, maxOpenTasks: 3, openTaskTtlMs: 60_000 });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).admit('alice', `t${i}`)));
    const admitted = results.flatMap((r, i) => (r.admitted ? [`t${i}`] : []));
    expect(admitted).toHaveLength(3);
    for (const r of results) if (!r.admitted) expect(r).toStrictEqual({ admitted: false, reason: 'open_tasks', limit: 3, retryAfterMs: OPEN_TASKS_RETRY_AFTER_MS });
    await one.release('alice', admitted[0] as string);
    expect(await two.admit('alice', 'next')).toStrictEqual({ admitted: true });
    expect(await one.admit('alice', 'again')).toMatchObject({ admitted: false, reason: 'open_tasks' });
  });

  it('slots lapse after openTaskTtlMs; keys carry TTLs', async () => {
    const [one] = pair({ ratePerMinute: 6000, burst: 100, maxOpenTasks: 1, openTaskTtlMs: 80 });
    expect(await one.admit('alice', 'a')).toStrictEqual({ admitted: true });
    expect(await one.admit('alice', 'b')).toMatchObject({ admitted: false, reason: 'open_tasks' });
    const redis = clients[0] as Redis;
    expect(await redis.pttl(`${prefix}open:alice`)).toBeGreaterThan(0);
    expect(await redis.pttl(`${prefix}rate:alice`)).toBeGreaterThan(0);
    await sleep(120);
    expect(await one.admit('alice', 'b')).toStrictEqual({ admitted: true });
  });
});
