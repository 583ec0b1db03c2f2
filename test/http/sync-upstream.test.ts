/**
 * A synchronous upstream over HTTP, end to end: the POST answers 201 queued at once, the engine makes the call in
 * the background, the query shows the bridge's blob URL, and that URL serves the exact bytes (signed).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { loadConfig } from '../../src/config/config';
import type { Gateway } from '../../src/http/gateway';
import { auth, call, KEY_A, postJson, start } from './gateway-support';
import { PixelSyncAdapter, pixel } from '../support/sync-adapter';

const PIXEL = 'https://pixelsync.test';
let gateway: Gateway;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'itb-sync-e2e-'));
  const file = join(dir, 'bridge.json');
  writeFileSync(file, JSON.stringify({ channels: [{ id: 'pixel-a', adapter: 'pixelsync', base_url: PIXEL, api_key_env: 'PIXEL_KEY' }] }));
  const config = loadConfig({
    PORT: '0',
    GATEWAY_API_KEYS: `${KEY_A}:alice`,
    CONFIG_FILE: file,
    PIXEL_KEY: 'pixel-secret',
    LOG_LEVEL: 'silent',
    BLOB_DIR: join(dir, 'blobs'),
    BLOB_URL_SECRET: 'e2e-secret-0123456789-0123456789-abcdef',
  });
  gateway = await start(config, { adapters: [PixelSyncAdapter] });
});

afterAll(async () => {
  await gateway.close();
  rmSync(dir, { recursive: true, force: true });
});

test('POST 201 queued at once; the engine makes the call; the result URL is the bridge\'s, signed, and serves the exact bytes', async () => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const scope = nock(PIXEL, { reqheaders: { 'x-pixelsync-key': 'pixel-secret' } })
    .post('/v1/generate', { prompt: 'a fox in the snow', n: 1, aspect_ratio: '1:1' })
    .reply(async () => {
      await gate;
      return [200, { data: [{ b64: pixel(7).toString('base64'), mime: 'image/png' }] }];
    });
  const submitted = await postJson(`${gateway.url}/v1/images/tasks`, { model: 'NanoBanana', prompt: 'a fox in the snow' }, auth(KEY_A));
  expect(submitted).toMatchObject({ status: 201, body: { status: 'queued' } });
  const id = (submitted.body as { task_id: string }).task_id;

  // While the upstream holds its answer, the task is processing.
  let task: { status: string; result_url: string | null } = { status: 'queued', result_url: null };
  for (let i = 0; i < 200 && task.status !== 'processing'; i += 1) {
    task = ((await call(`${gateway.url}/v1/images/tasks/${id}`, { headers: auth(KEY_A) })).body as { data: typeof task }).data;
    if (task.status !== 'processing') await new Promise((r) => setTimeout(r, 25));
  }
  expect(task.status).toBe('processing');
  release();
  for (let i = 0; i < 200 && task.status === 'processing'; i += 1) {
    await new Promise((r) => setTimeout(r, 25));
    task = ((await call(`${gateway.url}/v1/images/tasks/${id}`, { headers: auth(KEY_A) })).body as { data: typeof task }).data;
  }
  scope.done();
  expect(task.status).toBe('succeeded');
  expect(task.result_url).toMatch(new RegExp(`^${gateway.url}/v1/images/blobs/[A-Za-z0-9_-]{32}\\.png\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}$`));
  const image = await fetch(task.result_url as string);
  expect(image.headers.get('content-type')).toBe('image/png');
  expect(Buffer.from(await image.arrayBuffer()).equals(pixel(7))).toBe(true);
});
