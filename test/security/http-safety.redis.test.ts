/**
 * TASK_STORE=redis: two gateways (two containers, two servers, one Redis) share Idempotency-Keys and the
 * per-owner submit limits.
 */
import nock from 'nock';
import type { Gateway } from '../../src/http/gateway';
import { deleteKeys, newRedis, REDIS_URL, redisOrSkip, uniquePrefix } from '../support/redis';
import { auth, HUB, hubConfig, KEY_A, postJson, start } from '../http/gateway-support';

const NANO = { model: 'NanoBanana2-0.5K', prompt: 'A small red cube', aspect_ratio: '1:1' };

redisOrSkip()('two gateways on one Redis', () => {
  const prefix = uniquePrefix('http-safety');
  const redis = newRedis();
  let one: Gateway;
  let two: Gateway;

  beforeAll(async () => {
    const env = { TASK_STORE: 'redis', REDIS_URL, REDIS_KEY_PREFIX: prefix, RATE_LIMIT_PER_MINUTE: '1', RATE_LIMIT_BURST: '3' };
    one = await start(hubConfig(env));
    two = await start(hubConfig(env));
  });

  afterAll(async () => {
    await one.close();
    await two.close();
    await deleteKeys(redis, prefix);
    await redis.quit();
    nock.cleanAll();
  });

  it('simultaneous submits with one key on both gateways -> one upstream job, one task; the key is stored hashed', async () => {
    const scope = nock(HUB).post('/hub/v1/tasks').delay(200).reply(201, { task_id: 'hub-shared', status: 'queued', ready: false });
    const [a, b] = await Promise.all([
      postJson(`${one.url}/v1/images/tasks`, NANO, { ...auth(KEY_A), 'idempotency-key': 'cross-instance' }),
      postJson(`${two.url}/v1/images/tasks`, NANO, { ...auth(KEY_A), 'idempotency-key': 'cross-instance' }),
    ]);
    scope.done();
    expect([a.status, b.status]).toStrictEqual([201, 201]);
    expect(a.body).toStrictEqual(b.body);
    const keys = await redis.keys(`${prefix}idem:*`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain('cross-instance');
    const ttl = await redis.pttl(keys[0] as string);
    expect(ttl).toBeGreaterThan(23 * 3600 * 1000);
    expect(ttl).toBeLessThanOrEqual(24 * 3600 * 1000);
  });

  it('the rate limit is shared: the burst is spent across both gateways, then 429 on either', async () => {
    // The first test took one token (the replayed duplicate took none).
    const scope = nock(HUB).post('/hub/v1/tasks').times(2).reply(201, { task_id: 'hub-more', status: 'queued', ready: false });
    expect((await postJson(`${one.url}/v1/images/tasks`, NANO, auth(KEY_A))).status).toBe(201);
    expect((await postJson(`${two.url}/v1/images/tasks`, NANO, auth(KEY_A))).status).toBe(201);
    scope.done();
    const untouched = nock(HUB).post('/hub/v1/tasks').reply(201, { task_id: 'hub-never', status: 'queued', ready: false });
    for (const gw of [one, two]) {
      const r = await postJson(`${gw.url}/v1/images/tasks`, NANO, auth(KEY_A));
      expect(r.status).toBe(429);
      expect((r.body as { code: string }).code).toBe('rate_limited');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(untouched.isDone()).toBe(false);
  });
});
