/**
 * TASK_STORE=redis: a task created by one gateway is answered by a new gateway (new container, new
 * server, same Redis) after the first one is gone, and a terminal task is served without the upstream.
 */
import nock from 'nock';
import { deleteKeys, newRedis, REDIS_URL, redisOrSkip, uniquePrefix } from '../support/redis';
import { auth, call, HUB, hubConfig, KEY_A, KEY_B, postJson, start } from './gateway-support';

const IMAGE = 'https://cdn.hub.example/outputs/redis-0.png';

redisOrSkip()('gateway on Redis', () => {
  const prefix = uniquePrefix('gateway');
  const redis = newRedis();

  afterAll(async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
    nock.cleanAll();
  });

  it('a restarted gateway answers the tasks of the previous one', async () => {
    const env = { TASK_STORE: 'redis', REDIS_URL, REDIS_KEY_PREFIX: prefix, POLL_INTERVAL_MS: '1' };
    const submit = nock(HUB).post('/hub/v1/tasks').reply(201, { task_id: 'hub-r1', status: 'queued', ready: false });
    const first = await start(hubConfig(env));
    let id: string;
    try {
      const created = await postJson(`${first.url}/v1/images/tasks`, { model: 'gpt-image-2', prompt: 'a sphere', size: '1024x1024' }, auth(KEY_A));
      expect(created.status).toBe(201);
      id = (created.body as { task_id: string }).task_id;
      submit.done();
      expect(await redis.exists(`${prefix}task:${id}`)).toBe(1);
    } finally {
      await first.close();
    }

    const poll = nock(HUB)
      .get('/hub/v1/tasks/hub-r1')
      .reply(200, { task_id: 'hub-r1', status: 'succeeded', ready: true, output: { images: [{ url: IMAGE }] } });
    const second = await start(hubConfig(env));
    try {
      const expected = {
        code: 'success',
        message: '',
        data: { task_id: id, status: 'succeeded', progress: '100%', result_url: IMAGE, metadata: { task_type: 'text2image', result_count: 1, result_urls: [IMAGE] }, error: null },
      };
      const done = await call(`${second.url}/v1/images/tasks/${id}`, { headers: auth(KEY_A) });
      expect(done.body).toStrictEqual(expected);
      poll.done();
      // Terminal: answered from Redis, no further upstream call (no scope is registered any more).
      const again = await call(`${second.url}/v1/images/tasks/${id}`, { headers: auth(KEY_A) });
      expect(again.body).toStrictEqual(expected);
      expect((await call(`${second.url}/v1/images/tasks/${id}`, { headers: auth(KEY_B) })).status).toBe(404);
      const ready = await call(`${second.url}/readyz`);
      expect(ready.body).toStrictEqual({ status: 'ready' });
    } finally {
      await second.close();
    }
  });
});
