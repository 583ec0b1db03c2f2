/**
 * Hub and fal side by side from one CONFIG_FILE, over HTTP: a retryable failure of the first channel
 * fails the submit over to the second under the same platform task, whose polls then go to that
 * channel; a validation refusal (4xx) is not failed over; a fal job whose result is an error is a failed task.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { loadConfig } from '../../src/config/config';
import type { Gateway } from '../../src/http/gateway';
import { auth, call, KEY_A, postJson, start } from './gateway-support';

const HUB = 'http://hub-a.test';
const FAL = 'https://queue.fal.test';
const HUB_KEY = 'hub-a-secret-key-0001';
const FAL_KEY = 'fal-b-secret-key-0002';
const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(__dirname, '..', '..', 'fixtures', 'fal', name), 'utf8')) as Record<string, unknown>;
/** fal's own fixtures, re-pointed at the test origin (the client only follows URLs on the channel's origin). */
const onFal = (body: Record<string, unknown>): Record<string, unknown> => JSON.parse(JSON.stringify(body).replaceAll('https://queue.fal.run', FAL)) as Record<string, unknown>;

let gateway: Gateway;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'itb-channels-'));
  const file = join(dir, 'bridge.json');
  writeFileSync(
    file,
    JSON.stringify({
      channels: [
        { id: 'hub-a', adapter: 'hub', base_url: HUB, api_key_env: 'HUB_A_KEY', priority: 10 },
        { id: 'fal-b', adapter: 'fal', base_url: FAL, api_key_env: 'FAL_B_KEY', priority: 5, models: ['NanoBanana'] },
      ],
    }),
  );
  const config = loadConfig({ PORT: '0', GATEWAY_API_KEYS: `${KEY_A}:alice`, CONFIG_FILE: file, HUB_A_KEY: HUB_KEY, FAL_B_KEY: FAL_KEY, LOG_LEVEL: 'silent' });
  expect(config.sandbox).toBe(false);
  gateway = await start(config);
});

afterAll(async () => {
  await gateway.close();
});

afterEach(() => nock.cleanAll());

test('hub-a answers 503: fal-b accepts the same task, and its polls go to fal-b', async () => {
  const hub = nock(HUB, { reqheaders: { authorization: `Bearer ${HUB_KEY}` } })
    .post('/hub/v1/tasks', { model: 'nano-banana', input: { prompt: 'a fox', num_images: 1, output_format: 'png', aspect_ratio: '1:1' } })
    .reply(503, { error: 'overloaded' });
  const fal = nock(FAL, { reqheaders: { authorization: `Key ${FAL_KEY}` } })
    .post('/fal-ai/nano-banana', { prompt: 'a fox', num_images: 1, output_format: 'png', aspect_ratio: '1:1' })
    .reply(200, onFal(fixture('submit.accepted.json')))
    .get('/fal-ai/nano-banana/requests/8f3c2a71-5b9e-4d0a-9c1e-2f6b7a8d9e01/status')
    .reply(200, onFal(fixture('status.completed.json')))
    .get('/fal-ai/nano-banana/requests/8f3c2a71-5b9e-4d0a-9c1e-2f6b7a8d9e01')
    .reply(200, fixture('result.succeeded.json'));

  const submitted = await postJson(`${gateway.url}/v1/images/tasks`, { model: 'NanoBanana', prompt: 'a fox', aspect_ratio: '1:1' }, auth(KEY_A));
  expect(submitted.status).toBe(201);
  const taskId = (submitted.body as { task_id: string }).task_id;
  expect(submitted.body).toStrictEqual({
    task_id: taskId,
    status: 'queued',
    progress: '0%',
    result_url: null,
    metadata: { task_type: 'text2image', result_count: 0 },
    error: null,
  });

  const queried = await call(`${gateway.url}/v1/images/tasks/${taskId}`, { headers: auth(KEY_A) });
  expect(queried.status).toBe(200);
  expect(queried.body).toStrictEqual({
    code: 'success',
    message: '',
    data: {
      task_id: taskId,
      status: 'succeeded',
      progress: '100%',
      result_url: 'https://v3.fal.media/files/rabbit/Xq1b2C3d4E5f6G7h8I9j0_output.png',
      metadata: { task_type: 'text2image', result_count: 1, result_urls: ['https://v3.fal.media/files/rabbit/Xq1b2C3d4E5f6G7h8I9j0_output.png'] },
      error: null,
    },
  });
  hub.done();
  fal.done();
});

test('hub-a refuses the request (422): the client gets 400 with the reason and fal-b is never called', async () => {
  const hub = nock(HUB).post('/hub/v1/tasks').reply(422, { error: { code: 'validation_error', message: 'prompt flagged by the safety system' } });
  const fal = nock(FAL).post(/.*/).reply(200, {});

  const res = await postJson(`${gateway.url}/v1/images/tasks`, { model: 'NanoBanana', prompt: 'a fox' }, auth(KEY_A));
  expect(res.status).toBe(400);
  expect(res.body).toStrictEqual({
    code: 'upstream_rejected',
    message: 'upstream hub-a rejected the request (HTTP 422): prompt flagged by the safety system.',
    data: null,
  });
  hub.done();
  expect(fal.isDone()).toBe(false);
});

test('fal-b COMPLETED but its result answers 504 request_timeout: the platform task fails at once with fal\'s error_type and detail', async () => {
  const hub = nock(HUB).post('/hub/v1/tasks').reply(503, { error: 'overloaded' });
  const fal = nock(FAL, { reqheaders: { authorization: `Key ${FAL_KEY}` } })
    .post('/fal-ai/nano-banana', { prompt: 'a slow fox', num_images: 1, output_format: 'png' })
    .reply(200, onFal(fixture('submit.accepted.json')))
    .get('/fal-ai/nano-banana/requests/8f3c2a71-5b9e-4d0a-9c1e-2f6b7a8d9e01/status')
    .reply(200, onFal(fixture('status.completed.json')))
    .get('/fal-ai/nano-banana/requests/8f3c2a71-5b9e-4d0a-9c1e-2f6b7a8d9e01')
    .reply(504, fixture('result.failed-504-request-timeout.json'), { 'X-Fal-Error-Type': 'request_timeout' });

  const submitted = await postJson(`${gateway.url}/v1/images/tasks`, { model: 'NanoBanana', prompt: 'a slow fox' }, auth(KEY_A));
  expect(submitted.status).toBe(201);
  const taskId = (submitted.body as { task_id: string }).task_id;
  const queried = await call(`${gateway.url}/v1/images/tasks/${taskId}`, { headers: auth(KEY_A) });
  expect(queried.body).toStrictEqual({
    code: 'success',
    message: '',
    data: {
      task_id: taskId,
      status: 'failed',
      progress: '100%',
      result_url: null,
      metadata: { task_type: 'text2image', result_count: 0 },
      error: { code: 'request_timeout', message: 'fal could not generate the image (HTTP 504): Request timed out' },
    },
  });
  hub.done();
  fal.done();
});

test("/metrics reports each channel's circuit breaker state (two failures in a row leave hub-a's circuit closed)", async () => {
  const res = await call(`${gateway.url}/metrics`);
  expect(res.status).toBe(200);
  const lines = String(res.body).split('\n').filter((l) => l.startsWith('bridge_upstream_circuit_state{'));
  expect(lines.sort()).toStrictEqual(
    [
      'bridge_upstream_circuit_state{channel="hub-a",state="closed"} 1',
      'bridge_upstream_circuit_state{channel="hub-a",state="open"} 0',
      'bridge_upstream_circuit_state{channel="hub-a",state="half_open"} 0',
      'bridge_upstream_circuit_state{channel="fal-b",state="closed"} 1',
      'bridge_upstream_circuit_state{channel="fal-b",state="open"} 0',
      'bridge_upstream_circuit_state{channel="fal-b",state="half_open"} 0',
    ].sort(),
  );
});
