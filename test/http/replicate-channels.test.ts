/**
 * Replicate first and the hub second, from one CONFIG_FILE, over HTTP: what Replicate's capabilities do not
 * serve (an 8:1 ratio at 0.5K, `auto`, n above 1) is refused for Replicate before any request and served by the
 * hub, with the exact upstream bodies; what it serves goes to Replicate and is polled at urls.get; a channel
 * without credit (402) fails over; a 422 does not; a channel with `prefer_wait_seconds` sends `Prefer: wait=N`
 * and a prediction finished in time makes the POST answer the finished task.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { loadConfig } from '../../src/config/config';
import { closeAppContainer, createAppContainer } from '../../src/di/container';
import { TASK_OPTIONS } from '../../src/di/tokens';
import type { TaskOptions } from '../../src/tasks/task-options';
import type { Gateway } from '../../src/http/gateway';
import { auth, call, KEY_A, postJson, start } from './gateway-support';

const HUB = 'http://hub-b.test';
const REPLICATE = 'https://api.replicate.com';
const HUB_KEY = 'hub-b-secret-key-0002';
const REPLICATE_KEY = 'r8_replicate-secret-0001';
const ID = 'q7dk3hbz2drj00cpxq8r6xyyqm';
const OUT = 'https://replicate.delivery/xezq/fF2mPq7Rk1sLbJzT9aWc3YvHn0GdXe4uK8oM5iQ6tBlN/tmpa1b2c3d4.jpg';
const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(__dirname, '..', '..', 'fixtures', 'replicate', name), 'utf8')) as Record<string, unknown>;
const HUB_TASK = { task_id: 'hub-task-1', status: 'queued', ready: false };

let gateway: Gateway;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'itb-replicate-'));
  const file = join(dir, 'bridge.json');
  writeFileSync(
    file,
    JSON.stringify({
      channels: [
        { id: 'replicate-wait', adapter: 'replicate', base_url: REPLICATE, api_key_env: 'REPLICATE_KEY', priority: 20, models: ['NanoBananaPro-2K'], prefer_wait_seconds: 5 },
        { id: 'replicate-a', adapter: 'replicate', base_url: REPLICATE, api_key_env: 'REPLICATE_KEY', priority: 10 },
        { id: 'hub-b', adapter: 'hub', base_url: HUB, api_key_env: 'HUB_B_KEY', priority: 0 },
      ],
    }),
  );
  const config = loadConfig({ PORT: '0', GATEWAY_API_KEYS: `${KEY_A}:alice`, CONFIG_FILE: file, REPLICATE_KEY, HUB_B_KEY: HUB_KEY, LOG_LEVEL: 'silent' });
  gateway = await start(config);
});

afterAll(async () => {
  await gateway.close();
});

afterEach(() => nock.cleanAll());

async function submit(body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await postJson(`${gateway.url}/v1/images/tasks`, body, auth(KEY_A));
  return { status: res.status, body: res.body as Record<string, unknown> };
}

describe('what Replicate does not serve fails over to the hub before any request to Replicate', () => {
  it.each([
    ['NanoBanana2-0.5K at 8:1 (no 0.5K tier on Replicate)', { model: 'NanoBanana2-0.5K', prompt: 'a banner', aspect_ratio: '8:1' }, { model: 'nano-banana-2', input: { prompt: 'a banner', num_images: 1, output_format: 'png', aspect_ratio: '8:1', resolution: '0.5K' } }],
    ['aspect_ratio auto (not a Replicate ratio)', { model: 'NanoBananaPro-1K', prompt: 'a fox', aspect_ratio: 'auto' }, { model: 'nano-banana-pro', input: { prompt: 'a fox', num_images: 1, output_format: 'png', aspect_ratio: 'auto', resolution: '1K' } }],
    ['n = 3 (one image per Replicate prediction)', { model: 'NanoBanana', prompt: 'a fox', n: 3 }, { model: 'nano-banana', input: { prompt: 'a fox', num_images: 3, output_format: 'png' } }],
    ['webp (Replicate makes png or jpg)', { model: 'NanoBanana', prompt: 'a fox', output_format: 'webp' }, { model: 'nano-banana', input: { prompt: 'a fox', num_images: 1, output_format: 'webp' } }],
  ])('%s: the hub gets the exact body, Replicate nothing', async (_name, request, hubBody) => {
    const replicate = nock(REPLICATE).post(/.*/).reply(201, fixture('submit.starting.json'));
    const hub = nock(HUB, { reqheaders: { authorization: `Bearer ${HUB_KEY}` } })
      .post('/hub/v1/tasks', hubBody)
      .reply(200, HUB_TASK);
    const res = await submit(request);
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('queued');
    hub.done();
    expect(replicate.isDone()).toBe(false);
  });
});

it('a request Replicate serves goes to Replicate with the exact body, and its polls go to urls.get', async () => {
  const scope = nock(REPLICATE, { reqheaders: { authorization: `Bearer ${REPLICATE_KEY}` }, badheaders: ['prefer'] })
    .post('/v1/models/google/nano-banana/predictions', { input: { prompt: 'a fox', output_format: 'jpg', aspect_ratio: '16:9' } })
    .reply(201, fixture('submit.starting.json'))
    .get(`/v1/predictions/${ID}`)
    .reply(200, fixture('poll.succeeded.json'));
  const hub = nock(HUB).post(/.*/).reply(200, HUB_TASK);
  const submitted = await submit({ model: 'NanoBanana', prompt: 'a fox', aspect_ratio: '16:9', output_format: 'jpeg' });
  expect(submitted.status).toBe(201);
  const taskId = submitted.body.task_id as string;
  const queried = await call(`${gateway.url}/v1/images/tasks/${taskId}`, { headers: auth(KEY_A) });
  expect(queried.body).toStrictEqual({
    code: 'success',
    message: '',
    data: { task_id: taskId, status: 'succeeded', progress: '100%', result_url: OUT, metadata: { task_type: 'text2image', result_count: 1, result_urls: [OUT] }, error: null },
  });
  scope.done();
  expect(hub.isDone()).toBe(false);
});

it('Replicate answers 402 (no credit): the hub takes the same task', async () => {
  const replicate = nock(REPLICATE).post('/v1/models/google/nano-banana/predictions').reply(402, fixture('error.402-insufficient-credit.json'), { 'Content-Type': 'application/problem+json' });
  const hub = nock(HUB).post('/hub/v1/tasks', { model: 'nano-banana', input: { prompt: 'a fox', num_images: 1, output_format: 'png' } }).reply(200, HUB_TASK);
  const res = await submit({ model: 'NanoBanana', prompt: 'a fox' });
  expect(res.status).toBe(201);
  replicate.done();
  hub.done();
});

it('Replicate refuses the input (422): the client gets 400 with the invalid field, and the hub is never called', async () => {
  const replicate = nock(REPLICATE).post('/v1/models/google/nano-banana/predictions').reply(422, fixture('error.422-invalid-input.json'), { 'Content-Type': 'application/problem+json' });
  const hub = nock(HUB).post(/.*/).reply(200, HUB_TASK);
  const res = await submit({ model: 'NanoBanana', prompt: 'a fox', aspect_ratio: '21:9' });
  expect(res).toStrictEqual({
    status: 400,
    body: {
      code: 'upstream_rejected',
      message:
        'upstream replicate-a rejected the request (HTTP 422): Input validation failed: aspect_ratio: aspect_ratio must be one of the following: "match_input_image", "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9".',
      data: null,
    },
  });
  replicate.done();
  expect(hub.isDone()).toBe(false);
});

describe('prefer_wait_seconds', () => {
  it('an Idempotency-Key stays pending as long as a waiting submit can run: a 60 s wait is a 75 s submit, not the 30 s default', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'itb-replicate-wait-')), 'bridge.json');
    writeFileSync(file, JSON.stringify({ channels: [{ id: 'replicate-60', adapter: 'replicate', base_url: REPLICATE, api_key_env: 'REPLICATE_KEY', prefer_wait_seconds: 60 }] }));
    const container = createAppContainer(loadConfig({ GATEWAY_API_KEYS: `${KEY_A}:alice`, CONFIG_FILE: file, REPLICATE_KEY, LOG_LEVEL: 'silent' }), { processMetrics: false });
    try {
      // One channel x (60 s wait + 15 s margin, + 5 s connect) + 30 s.
      expect(container.resolve<TaskOptions>(TASK_OPTIONS).idempotencyPendingTtlMs).toBe(75_000 + 5_000 + 30_000);
    } finally {
      await closeAppContainer(container);
    }
  });

  it('sends Prefer: wait=5; a prediction finished in time makes the POST answer the succeeded task, with no poll', async () => {
    const scope = nock(REPLICATE, { reqheaders: { authorization: `Bearer ${REPLICATE_KEY}`, prefer: 'wait=5' } })
      .post('/v1/models/google/nano-banana-pro/predictions', { input: { prompt: 'a fox', output_format: 'png', resolution: '2K' } })
      .reply(201, fixture('submit.wait-succeeded.json'));
    const res = await submit({ model: 'NanoBananaPro-2K', prompt: 'a fox' });
    expect(res).toStrictEqual({
      status: 201,
      body: { task_id: res.body.task_id, status: 'succeeded', progress: '100%', result_url: OUT, metadata: { task_type: 'text2image', result_count: 1, result_urls: [OUT] }, error: null },
    });
    scope.done();
  });

  it('the wait ran out: the POST answers the task as usual and it is polled at urls.get', async () => {
    const scope = nock(REPLICATE, { reqheaders: { prefer: 'wait=5' } })
      .post('/v1/models/google/nano-banana-pro/predictions')
      .reply(201, fixture('submit.wait-processing.json'));
    const poll = nock(REPLICATE, { badheaders: ['prefer'] }).get(`/v1/predictions/${ID}`).reply(200, fixture('poll.succeeded.json'));
    const submitted = await submit({ model: 'NanoBananaPro-2K', prompt: 'a fox' });
    expect(submitted.status).toBe(201);
    expect(submitted.body.status).toBe('queued');
    const taskId = submitted.body.task_id as string;
    const queried = await call(`${gateway.url}/v1/images/tasks/${taskId}`, { headers: auth(KEY_A) });
    expect((queried.body as { data: unknown }).data).toStrictEqual({
      task_id: taskId,
      status: 'succeeded',
      progress: '100%',
      result_url: OUT,
      metadata: { task_type: 'text2image', result_count: 1, result_urls: [OUT] },
      error: null,
    });
    scope.done();
    poll.done();
  });
});
