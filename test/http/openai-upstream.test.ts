/**
 * The openai adapter end to end, on real sockets: the gateway's HTTP server, a real filesystem BlobStore on a
 * temp dir, a local server for a client's reference image, and nock on api.openai.com only. POST answers 201
 * queued; the engine calls OpenAI once; the query shows the bridge's blob URL, which serves the exact bytes;
 * n=4 is two calls of two images, results in order, usage for 4; a URL reference reaches OpenAI as the exact
 * file bytes of the multipart edit (one that cannot be fetched fails the task before any call); a safety
 * refusal is a failed task.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { loadConfig } from '../../src/config/config';
import { USAGE_SINK } from '../../src/di/tokens';
import type { Gateway } from '../../src/http/gateway';
import { RecordingSink } from '../support/recording-sink';
import { auth, call, KEY_A, postJson, start } from './gateway-support';

const OPENAI = 'https://api.openai.com';
const OPENAI_KEY = 'sk-openai-e2e-secret';
/** Four distinct 1x1 PNGs. */
const PNGS = [
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGMwTjsDAAI1AWaKkkQyAAAAAElFTkSuQmCC',
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGM4k2YMAANnAWbIgiL+AAAAAElFTkSuQmCC',
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGMwPpMGAAKbAWbRralyAAAAAElFTkSuQmCC',
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGN4904JAATMAf8vB8goAAAAAElFTkSuQmCC',
].map((b64) => Buffer.from(b64, 'base64'));

let gateway: Gateway;
let dir: string;
let refServer: http.Server;
let refUrl: string;
const sink = new RecordingSink();

function answer(images: Buffer[]): Record<string, unknown> {
  return { created: 1795000000, data: images.map((b) => ({ b64_json: b.toString('base64') })), output_format: 'png', quality: 'medium', size: '1024x1024', usage: { input_tokens: 20, output_tokens: 272 * images.length, total_tokens: 20 + 272 * images.length } };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'itb-openai-e2e-'));
  refServer = http.createServer((req, res) => (req.url === '/ref.png' ? res.writeHead(200, { 'content-type': 'image/png' }).end(PNGS[3]) : res.writeHead(404).end()));
  await new Promise<void>((resolve) => refServer.listen(0, '127.0.0.1', resolve));
  refUrl = `http://127.0.0.1:${(refServer.address() as AddressInfo).port}/ref.png`;
  const file = join(dir, 'bridge.json');
  writeFileSync(file, JSON.stringify({ channels: [{ id: 'openai-main', adapter: 'openai', base_url: OPENAI, api_key_env: 'OPENAI_API_KEY', models: ['gpt-image-2'] }] }));
  const config = loadConfig({
    PORT: '0',
    GATEWAY_API_KEYS: `${KEY_A}:alice`,
    CONFIG_FILE: file,
    OPENAI_API_KEY: OPENAI_KEY,
    LOG_LEVEL: 'silent',
    BLOB_DIR: join(dir, 'blobs'),
    BLOB_URL_SECRET: 'openai-e2e-secret-0123456789-abcdef',
    // The reference server is on loopback: this deployment lets clients point at any host (the guard is tested in test/tasks/reference-bytes.test.ts).
    REFERENCE_URL_POLICY: 'any',
  });
  gateway = await start(config, { register: (c) => c.register(USAGE_SINK, { useValue: sink }) });
});

afterAll(async () => {
  await gateway.close();
  refServer.closeAllConnections();
  await new Promise((resolve) => refServer.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  nock.cleanAll();
});

interface Task {
  task_id: string;
  status: string;
  result_url: string | null;
  error: { code: string; message: string } | null;
  metadata: { result_urls?: string[]; result_count: number };
}

/** Submits and waits (the engine runs the call) until the task is terminal. */
async function run(body: Record<string, unknown>): Promise<Task> {
  const submitted = await postJson(`${gateway.url}/v1/images/tasks`, body, auth(KEY_A));
  expect(submitted).toMatchObject({ status: 201, body: { status: 'queued' } });
  const id = (submitted.body as { task_id: string }).task_id;
  let task = { status: 'queued' } as Task;
  for (let i = 0; i < 400 && !['succeeded', 'failed'].includes(task.status); i += 1) {
    await new Promise((r) => setTimeout(r, 25));
    task = ((await call(`${gateway.url}/v1/images/tasks/${id}`, { headers: auth(KEY_A) })).body as { data: Task }).data;
  }
  for (let i = 0; i < 200 && !sink.events.some((e) => e.task_id === id); i += 1) await new Promise((r) => setTimeout(r, 25));
  return task;
}

async function bytesOf(url: string): Promise<{ type: string | null; bytes: Buffer }> {
  const res = await fetch(url);
  return { type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
}

test('text2image: 201 queued, OpenAI called once with the exact body and key, succeeded with a bridge blob URL serving the exact bytes', async () => {
  const scope = nock(OPENAI, { reqheaders: { authorization: `Bearer ${OPENAI_KEY}` } })
    .post('/v1/images/generations', { model: 'gpt-image-2', prompt: 'a lighthouse at dusk', n: 1, size: '1024x1024', quality: 'medium', output_format: 'png' })
    .once()
    .reply(200, answer([PNGS[0] as Buffer]));
  const task = await run({ model: 'gpt-image-2', prompt: 'a lighthouse at dusk', size: '1024x1024' });
  scope.done();
  expect(task.status).toBe('succeeded');
  expect(task.result_url).toMatch(new RegExp(`^${gateway.url}/v1/images/blobs/[A-Za-z0-9_-]{32}\\.png\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}$`));
  expect(await bytesOf(task.result_url as string)).toStrictEqual({ type: 'image/png', bytes: PNGS[0] });
  expect(sink.events.find((e) => e.task_id === task.task_id)).toMatchObject({ status: 'succeeded', requested_n: 1, result_count: 1, upstream_calls: 1, channel: 'openai-main' });
});

test('n=4: two calls of n=2 (two images per call), four results in call order, usage for 4', async () => {
  let arrival = 0;
  const scope = nock(OPENAI)
    .post('/v1/images/generations', { model: 'gpt-image-2', prompt: 'four kites', n: 2, size: '1536x1024', quality: 'low', output_format: 'png' })
    .twice()
    .reply(() => {
      const first = arrival++ * 2;
      return [200, answer([PNGS[first] as Buffer, PNGS[first + 1] as Buffer])];
    });
  const task = await run({ model: 'gpt-image-2', prompt: 'four kites', size: '1536x1024', quality: 'low', n: 4 });
  scope.done();
  expect(task.status).toBe('succeeded');
  const urls = task.metadata.result_urls ?? [];
  expect(urls).toHaveLength(4);
  for (const [i, url] of urls.entries()) expect((await bytesOf(url)).bytes.equals(PNGS[i] as Buffer)).toBe(true);
  expect(sink.events.find((e) => e.task_id === task.task_id)).toMatchObject({ status: 'succeeded', requested_n: 4, result_count: 4, upstream_calls: 2 });
});

test('image2image with a URL reference: the engine fetches it and OpenAI gets the exact bytes as an image[] file of a multipart edit', async () => {
  let received = Buffer.alloc(0);
  let contentType = '';
  const scope = nock(OPENAI, { reqheaders: { authorization: `Bearer ${OPENAI_KEY}` } })
    .post('/v1/images/edits')
    .once()
    .reply(function (_uri, body) {
      contentType = String(this.req.headers['content-type']);
      received = Buffer.from(body as string, 'hex');
      return [200, answer([PNGS[1] as Buffer])];
    });
  const task = await run({ model: 'gpt-image-2', prompt: 'make it night', size: '1024x1024', image: refUrl });
  scope.done();
  expect(task.status).toBe('succeeded');
  const boundary = /^multipart\/form-data; boundary=(.+)$/.exec(contentType)?.[1] as string;
  const filePart = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image[]"; filename="image-1.png"\r\nContent-Type: image/png\r\n\r\n`),
    PNGS[3] as Buffer,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  expect(received.subarray(received.length - filePart.length).equals(filePart)).toBe(true);
  expect(received.includes(Buffer.from(`name="prompt"\r\n\r\nmake it night\r\n`))).toBe(true);
  expect((await bytesOf(task.result_url as string)).bytes.equals(PNGS[1] as Buffer)).toBe(true);
});

test('a safety refusal (HTTP 400 moderation_blocked) is a failed task with OpenAI\'s reason, called once, and no usage charged', async () => {
  const scope = nock(OPENAI)
    .post('/v1/images/generations')
    .once()
    .reply(400, { error: { message: 'Your request was rejected by the safety system.', type: 'image_generation_user_error', param: null, code: 'moderation_blocked' } });
  const task = await run({ model: 'gpt-image-2', prompt: 'something refused', size: '1024x1024' });
  scope.done();
  expect({ status: task.status, error: task.error }).toStrictEqual({
    status: 'failed',
    error: { code: 'content_policy_violation', message: "OpenAI's safety system refused the request: Your request was rejected by the safety system. (type image_generation_user_error, code moderation_blocked)" },
  });
  expect(sink.events.find((e) => e.task_id === task.task_id)).toMatchObject({ status: 'failed', result_count: 0, cost: 0 });
});

test('a URL reference that cannot be fetched fails the task with reference_unavailable; OpenAI is never called', async () => {
  const scope = nock(OPENAI).post('/v1/images/edits').reply(200, answer([PNGS[0] as Buffer]));
  const missing = refUrl.replace('/ref.png', '/missing.png');
  const task = await run({ model: 'gpt-image-2', prompt: 'make it night', size: '1024x1024', images: [refUrl, `${missing}?token=secret`] });
  expect(scope.isDone()).toBe(false);
  expect({ status: task.status, error: task.error }).toStrictEqual({
    status: 'failed',
    error: {
      code: 'reference_unavailable',
      message: `Reference image 2 could not be fetched for the upstream, which takes the images themselves (${new URL(refUrl).origin} answered HTTP 404): ${missing}?[redacted]`,
    },
  });
});
