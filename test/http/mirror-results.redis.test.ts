/**
 * mirror_results across two instances on one Redis (TASK_STORE=redis, a shared BLOB_DIR, no engine workers so
 * only queries poll): instance A's poll finds the success and starts the download, which the file host holds;
 * instance B's poll finds the same success meanwhile and, the task's mirror claim being A's, applies nothing and
 * fetches nothing. Once the file host answers, A stores the copy and both instances serve the bridge's URL; the
 * image was downloaded exactly once.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { loadConfig } from '../../src/config/config';
import { RESULT_MIRROR_OPTIONS } from '../../src/di/tokens';
import type { Gateway } from '../../src/http/gateway';
import { deleteKeys, newRedis, REDIS_URL, redisOrSkip, uniquePrefix } from '../support/redis';
import { auth, call, KEY_A, postJson, start } from './gateway-support';

const REPLICATE = 'https://api.replicate.com';
const ID = 'q7dk3hbz2drj00cpxq8r6xyyqm';
const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(__dirname, '..', '..', 'fixtures', 'replicate', name), 'utf8')) as Record<string, unknown>;

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 20));
}

redisOrSkip()('mirror_results on two instances', () => {
  const prefix = uniquePrefix('mirror');
  const redis = newRedis();
  const image = randomBytes(256 * 1024);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(image);
  const fileHits: string[] = [];
  let held: ServerResponse | undefined;
  let files: Server;
  let dir: string;
  let a: Gateway;
  let b: Gateway;

  beforeAll(async () => {
    files = createServer((req, res) => {
      fileHits.push(req.url ?? '');
      held = res;
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    dir = mkdtempSync(join(tmpdir(), 'itb-mirror-redis-'));
    const file = join(dir, 'bridge.json');
    writeFileSync(file, JSON.stringify({ channels: [{ id: 'replicate-mirror', adapter: 'replicate', base_url: REPLICATE, api_key_env: 'REPLICATE_KEY', mirror_results: true }] }));
    const env = {
      PORT: '0',
      GATEWAY_API_KEYS: `${KEY_A}:alice`,
      CONFIG_FILE: file,
      REPLICATE_KEY: 'r8_mirror-redis-0001',
      BLOB_DIR: join(dir, 'blobs'),
      TASK_STORE: 'redis',
      REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      ENGINE_CONCURRENCY: '0',
      POLL_INTERVAL_MS: '1',
      QUERY_WAIT_MS: '100',
      LOG_LEVEL: 'silent',
    };
    const options = { register: (c: import('tsyringe').DependencyContainer) => c.register(RESULT_MIRROR_OPTIONS, { useValue: { allowHosts: ['127.0.0.1'] } }) };
    a = await start(loadConfig(env), options);
    b = await start(loadConfig(env), options);
  });

  afterAll(async () => {
    await a.close();
    await b.close();
    files.closeAllConnections();
    await new Promise<void>((resolve) => files.close(() => resolve()));
    await deleteKeys(redis, prefix);
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
    nock.cleanAll();
  });

  it('the second instance applies nothing while the first downloads; the image is fetched once and both serve the copy', async () => {
    const upstreamUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}/xezq/out.png`;
    nock(REPLICATE).post('/v1/models/google/nano-banana/predictions').reply(201, fixture('submit.starting.json'));
    let polls = 0;
    nock(REPLICATE)
      .persist()
      .get(`/v1/predictions/${ID}`)
      .reply(200, () => {
        polls += 1;
        return { ...fixture('poll.succeeded.json'), output: upstreamUrl };
      });
    const submitted = await postJson(`${a.url}/v1/images/tasks`, { model: 'NanoBanana', prompt: 'a fox' }, auth(KEY_A));
    expect(submitted.status).toBe(201);
    const taskId = (submitted.body as { task_id: string }).task_id;
    const read = async (g: Gateway): Promise<Record<string, unknown>> => ((await call(`${g.url}/v1/images/tasks/${taskId}`, { headers: auth(KEY_A) })).body as { data: Record<string, unknown> }).data;
    const open = { task_id: taskId, status: 'queued', progress: '0%', result_url: null, metadata: { task_type: 'text2image', result_count: 0 }, error: null };

    // A polls, finds the success, claims the mirror and starts the download, which the file host holds.
    expect(await read(a)).toStrictEqual(open);
    await until(() => held !== undefined);
    // B polls the same success: the claim is A's, so B applies nothing and fetches nothing.
    const pollsBefore = polls;
    expect(await read(b)).toStrictEqual(open);
    expect(polls).toBeGreaterThan(pollsBefore);
    expect(fileHits).toStrictEqual(['/xezq/out.png']);

    (held as ServerResponse).writeHead(200, { 'content-type': 'image/png', 'content-length': String(image.length) }).end(image);
    await until(async () => (await read(b)).status === 'succeeded');
    const done = await read(b);
    const url = done.result_url as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/images\/blobs\/[A-Za-z0-9_-]{32}\.png$/);
    expect(done).toStrictEqual({ task_id: taskId, status: 'succeeded', progress: '100%', result_url: url, metadata: { task_type: 'text2image', result_count: 1, result_urls: [url] }, error: null });
    expect(await read(a)).toStrictEqual(done);
    expect(fileHits).toStrictEqual(['/xezq/out.png']);
    // The copy is served from the shared BLOB_DIR by the other instance too.
    const viaB = `${b.url}${new URL(url).pathname}`;
    expect(Buffer.from(await (await fetch(viaB)).arrayBuffer()).equals(image)).toBe(true);
  });
});
