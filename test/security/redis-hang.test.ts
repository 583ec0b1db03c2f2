/**
 * A Redis that stops answering (issue 10, docs/reliability.md "hostile clients"): the gateway talks to the real
 * Redis through a TCP proxy on loopback that the test can freeze, as SIGSTOP would: connections stay open, nothing
 * is answered. Submits and queries must end with a 503 envelope within the command timeout, never hang, and the
 * gateway must recover once Redis answers again.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import type { Gateway } from '../../src/http/gateway';
import { auth, HUB, hubConfig, KEY_A } from '../http/gateway-support';
import { deleteKeys, newRedis, REDIS_URL, redisOrSkip, uniquePrefix } from '../support/redis';

/** A TCP proxy to Redis whose traffic can be held (frozen) and released. */
class FreezableProxy {
  frozen = false;
  private server: Server | undefined;
  private readonly pairs = new Set<{ client: Socket; redis: Socket; held: Array<() => void> }>();

  async start(target: URL): Promise<number> {
    this.server = createServer((client) => {
      const redis = connect(Number(target.port || 6379), target.hostname);
      const pair = { client, redis, held: [] as Array<() => void> };
      this.pairs.add(pair);
      const relay = (from: Socket, to: Socket): void => {
        from.on('data', (chunk: Buffer) => {
          const send = (): void => void (to.destroyed || to.write(chunk));
          if (this.frozen) pair.held.push(send);
          else send();
        });
      };
      relay(client, redis);
      relay(redis, client);
      const close = (): void => {
        client.destroy();
        redis.destroy();
        this.pairs.delete(pair);
      };
      client.on('close', close).on('error', close);
      redis.on('close', close).on('error', close);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return (this.server?.address() as AddressInfo).port;
  }

  thaw(): void {
    this.frozen = false;
    for (const pair of this.pairs) for (const send of pair.held.splice(0)) send();
  }

  async stop(): Promise<void> {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.redis.destroy();
    }
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

const NANO = { model: 'NanoBanana', prompt: 'a fox' };
const ACCEPTED = { task_id: 'hub-job-1', status: 'queued', ready: false };
const RUNNING = { task_id: 'hub-job-1', status: 'running', ready: false, progress: 10 };

redisOrSkip()('a Redis that stops answering', () => {
  const proxy = new FreezableProxy();
  const prefix = uniquePrefix('redis-hang');
  let gw: Gateway;

  beforeAll(async () => {
    const port = await proxy.start(new URL(REDIS_URL));
    const { start } = await import('../http/gateway-support');
    gw = await start(hubConfig({ TASK_STORE: 'redis', REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_KEY_PREFIX: prefix, REDIS_COMMAND_TIMEOUT_MS: '300', POLL_INTERVAL_MS: '1' }));
  });
  afterAll(async () => {
    proxy.thaw();
    await gw.close();
    await proxy.stop();
    const redis = newRedis();
    await deleteKeys(redis, prefix);
    await redis.quit();
  });
  afterEach(() => nock.cleanAll());

  /** One request, bounded by a client-side timeout so that a hang fails the test instead of blocking it. */
  async function request(path: string, init: RequestInit = {}): Promise<{ status: number; retryAfter: string | null; body: unknown }> {
    const res = await fetch(`${gw.url}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
  }
  const submit = (key?: string): Promise<{ status: number; retryAfter: string | null; body: unknown }> =>
    request('/v1/images/tasks', { method: 'POST', headers: { ...auth(KEY_A), 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) }, body: JSON.stringify(NANO) });

  it('submits and queries answer 503 upstream_unavailable with Retry-After while Redis is frozen, and recover after', async () => {
    nock(HUB).post('/hub/v1/tasks').reply(201, ACCEPTED);
    nock(HUB).get('/hub/v1/tasks/hub-job-1').times(10).reply(200, RUNNING);
    const first = await submit();
    expect(first.status).toBe(201);
    const taskId = (first.body as { task_id: string }).task_id;

    proxy.frozen = true;
    const untouched = nock(HUB).post('/hub/v1/tasks').reply(201, ACCEPTED);
    const expected = { code: 'upstream_unavailable', message: 'The task store (Redis) does not answer right now; nothing was lost. Retry in a moment.', data: null };
    const [hungSubmit, hungKeyed, hungQuery] = await Promise.all([submit(), submit('order-frozen-1'), request(`/v1/images/tasks/${taskId}`, { headers: auth(KEY_A) })]);
    for (const r of [hungSubmit, hungKeyed, hungQuery]) {
      expect(r.status).toBe(503);
      expect(r.retryAfter).toBe('1');
    }
    expect(hungKeyed.body).toStrictEqual(expected);
    expect(hungQuery.body).toStrictEqual(expected);
    expect(hungSubmit.body).toMatchObject({ code: 'upstream_unavailable', data: null });
    expect(untouched.isDone()).toBe(false);

    proxy.thaw();
    const after = await request(`/v1/images/tasks/${taskId}`, { headers: auth(KEY_A) });
    expect(after.status).toBe(200);
    expect((after.body as { data: { task_id: string } }).data.task_id).toBe(taskId);
  });
});
