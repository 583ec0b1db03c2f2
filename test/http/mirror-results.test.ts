/**
 * mirror_results end to end, on real sockets: Replicate's API is nock'ed, its file host is a real loopback HTTP
 * server, the BlobStore is the filesystem one and the bridge serves the copy. A succeeded prediction on a channel
 * with mirror_results gives the bridge's URL, whose bytes are the upstream's byte for byte, downloaded once however
 * often the task is read; a download that fails keeps Replicate's URL with a result_not_mirrored warning (the task
 * still succeeds); a channel without the option passes Replicate's URL on; a `Prefer: wait` answer is mirrored
 * before the POST answers; while another caller holds the task's mirror claim, nothing is applied.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { loadConfig } from '../../src/config/config';
import { RESULT_MIRROR_OPTIONS, TASK_STORE } from '../../src/di/tokens';
import type { Gateway } from '../../src/http/gateway';
import type { TaskStore } from '../../src/tasks/ports';
import { auth, call, KEY_A, postJson, start } from './gateway-support';

const REPLICATE = 'https://api.replicate.com';
const ID = 'q7dk3hbz2drj00cpxq8r6xyyqm';
const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(__dirname, '..', '..', 'fixtures', 'replicate', name), 'utf8')) as Record<string, unknown>;
const IMAGE = (() => {
  const bytes = randomBytes(512 * 1024);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes);
  return bytes;
})();

let files: Server;
let filesBase: string;
const fileHits: string[] = [];
let dir: string;
let gateway: Gateway;

/** A prediction fixture whose output is `url` (a file on the loopback file host). */
function withOutput(name: string, url: string): Record<string, unknown> {
  return { ...fixture(name), output: url };
}

beforeAll(async () => {
  files = createServer((req, res) => {
    fileHits.push(req.url ?? '');
    if (req.url === '/xezq/out.png') res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(IMAGE.length) }).end(IMAGE);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  filesBase = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  dir = mkdtempSync(join(tmpdir(), 'itb-mirror-e2e-'));
  const file = join(dir, 'bridge.json');
  writeFileSync(
    file,
    JSON.stringify({
      channels: [
        { id: 'replicate-wait', adapter: 'replicate', base_url: REPLICATE, api_key_env: 'REPLICATE_KEY', priority: 20, models: ['NanoBananaPro-2K'], prefer_wait_seconds: 5, mirror_results: true },
        { id: 'replicate-mirror', adapter: 'replicate', base_url: REPLICATE, api_key_env: 'REPLICATE_KEY', priority: 10, models: ['NanoBanana'], mirror_results: true },
        { id: 'replicate-plain', adapter: 'replicate', base_url: REPLICATE, api_key_env: 'REPLICATE_KEY', priority: 0, models: ['NanoBanana2-1K'] },
      ],
    }),
  );
  const config = loadConfig({ PORT: '0', GATEWAY_API_KEYS: `${KEY_A}:alice`, CONFIG_FILE: file, REPLICATE_KEY: 'r8_mirror-test-0001', BLOB_DIR: join(dir, 'blobs'), LOG_LEVEL: 'silent' });
  // The file host is on loopback: only this injected option lets the address guard through to it.
  gateway = await start(config, { register: (c) => c.register(RESULT_MIRROR_OPTIONS, { useValue: { allowHosts: ['127.0.0.1'] } }) });
});

afterAll(async () => {
  await gateway.close();
  files.closeAllConnections();
  await new Promise<void>((resolve) => files.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  fileHits.length = 0;
});

afterEach(() => nock.cleanAll());

async function submit(body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await postJson(`${gateway.url}/v1/images/tasks`, body, auth(KEY_A));
  return { status: res.status, body: res.body as Record<string, unknown> };
}

async function query(taskId: string): Promise<Record<string, unknown>> {
  const res = await call(`${gateway.url}/v1/images/tasks/${taskId}`, { headers: auth(KEY_A) });
  return (res.body as { data: Record<string, unknown> }).data;
}

const BLOB_URL = /^http:\/\/127\.0\.0\.1:\d+\/v1\/images\/blobs\/[A-Za-z0-9_-]{32}\.png$/;

test('mirror_results: the task gives the bridge\'s URL, its bytes are the upstream\'s, fetched once however often the task is read', async () => {
  const upstreamUrl = `${filesBase}/xezq/out.png`;
  const api = nock(REPLICATE)
    .post('/v1/models/google/nano-banana/predictions', { input: { prompt: 'a fox', output_format: 'png' } })
    .reply(201, fixture('submit.starting.json'))
    .get(`/v1/predictions/${ID}`)
    .reply(200, withOutput('poll.succeeded.json', upstreamUrl));
  const submitted = await submit({ model: 'NanoBanana', prompt: 'a fox' });
  expect(submitted.status).toBe(201);
  const taskId = submitted.body.task_id as string;
  const first = await query(taskId);
  const url = first.result_url as string;
  expect(url).toMatch(BLOB_URL);
  expect(first).toStrictEqual({ task_id: taskId, status: 'succeeded', progress: '100%', result_url: url, metadata: { task_type: 'text2image', result_count: 1, result_urls: [url] }, error: null });
  expect(await query(taskId)).toStrictEqual(first);
  expect(fileHits).toStrictEqual(['/xezq/out.png']);
  const image = await fetch(url);
  expect(image.status).toBe(200);
  expect(image.headers.get('content-type')).toBe('image/png');
  expect(Buffer.from(await image.arrayBuffer()).equals(IMAGE)).toBe(true);
  api.done();
});

test('a download that fails keeps Replicate\'s URL and says so (result_not_mirrored); the task still succeeds', async () => {
  const missing = `${filesBase}/xezq/gone.png`;
  const api = nock(REPLICATE).post('/v1/models/google/nano-banana/predictions').reply(201, fixture('submit.starting.json')).get(`/v1/predictions/${ID}`).reply(200, withOutput('poll.succeeded.json', missing));
  const submitted = await submit({ model: 'NanoBanana', prompt: 'a fox' });
  const taskId = submitted.body.task_id as string;
  expect(await query(taskId)).toStrictEqual({
    task_id: taskId,
    status: 'succeeded',
    progress: '100%',
    result_url: missing,
    metadata: {
      task_type: 'text2image',
      result_count: 1,
      result_urls: [missing],
      warnings: [
        {
          code: 'result_not_mirrored',
          param: 'result_urls',
          message: `1 of 1 result images could not be copied to the bridge's storage (first: ${filesBase} answered HTTP 404); their URLs are the upstream's and may expire.`,
        },
      ],
    },
    error: null,
  });
  expect(fileHits).toStrictEqual(['/xezq/gone.png']);
  api.done();
});

test('a channel without mirror_results passes Replicate\'s URL on and fetches nothing', async () => {
  const upstreamUrl = `${filesBase}/xezq/out.png`;
  const api = nock(REPLICATE).post('/v1/models/google/nano-banana-2/predictions').reply(201, fixture('submit.starting.json')).get(`/v1/predictions/${ID}`).reply(200, withOutput('poll.succeeded.json', upstreamUrl));
  const submitted = await submit({ model: 'NanoBanana2-1K', prompt: 'a fox' });
  const taskId = submitted.body.task_id as string;
  expect(await query(taskId)).toStrictEqual({ task_id: taskId, status: 'succeeded', progress: '100%', result_url: upstreamUrl, metadata: { task_type: 'text2image', result_count: 1, result_urls: [upstreamUrl] }, error: null });
  expect(fileHits).toStrictEqual([]);
  api.done();
});

test('a Prefer: wait answer is mirrored before the POST answers: the 201 already holds the bridge\'s URL', async () => {
  const api = nock(REPLICATE, { reqheaders: { prefer: 'wait=5' } })
    .post('/v1/models/google/nano-banana-pro/predictions')
    .reply(201, withOutput('submit.wait-succeeded.json', `${filesBase}/xezq/out.png`));
  const res = await submit({ model: 'NanoBananaPro-2K', prompt: 'a fox' });
  const url = res.body.result_url as string;
  expect(url).toMatch(BLOB_URL);
  expect(res).toStrictEqual({
    status: 201,
    body: { task_id: res.body.task_id, status: 'succeeded', progress: '100%', result_url: url, metadata: { task_type: 'text2image', result_count: 1, result_urls: [url] }, error: null },
  });
  expect(fileHits).toStrictEqual(['/xezq/out.png']);
  expect(Buffer.from(await (await fetch(url)).arrayBuffer()).equals(IMAGE)).toBe(true);
  api.done();
});

test('while another caller holds the task\'s mirror claim, a poll that finds success applies nothing and fetches nothing', async () => {
  const api = nock(REPLICATE)
    .post('/v1/models/google/nano-banana/predictions')
    .reply(201, fixture('submit.starting.json'))
    .get(`/v1/predictions/${ID}`)
    .reply(200, withOutput('poll.succeeded.json', `${filesBase}/xezq/out.png`));
  const submitted = await submit({ model: 'NanoBanana', prompt: 'a fox' });
  const taskId = submitted.body.task_id as string;
  const store = gateway.container.resolve<TaskStore>(TASK_STORE);
  expect(await store.reserveIdempotencyKey(`mirror:${taskId}`, { fingerprint: 'mirror', taskId, state: 'pending' }, 60_000)).toStrictEqual({ outcome: 'reserved' });
  expect(await query(taskId)).toStrictEqual({ task_id: taskId, status: 'queued', progress: '0%', result_url: null, metadata: { task_type: 'text2image', result_count: 0 }, error: null });
  expect(fileHits).toStrictEqual([]);
  api.done();
});
