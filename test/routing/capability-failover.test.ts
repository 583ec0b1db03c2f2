/**
 * Failover before building: when the first channel's capabilities refuse a request (aspect ratio, n, references,
 * prompt length), the router skips it and the second channel serves it, over HTTP. The first channel is a
 * synchronous upstream a host added next to the built-in adapters (createAppContainer's `adapters`); the second
 * is the built-in hub. The first upstream is never called (nock has no interceptor for it).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import type { AdapterCapabilities } from '../../src/adapter-kit/contract';
import { loadConfig } from '../../src/config/config';
import type { Gateway } from '../../src/http/gateway';
import { ADAPTER_CLASSES } from '../../src/di/adapter-classes';
import { AdapterRegistry } from '../../src/routing/registry';
import { auth, KEY_A, postJson, start } from '../http/gateway-support';
import { PixelSyncAdapter } from '../support/sync-adapter';

/** The synchronous test upstream with at most 2 images per task. */
class SmallPixelSyncAdapter extends PixelSyncAdapter {
  override readonly capabilities: AdapterCapabilities = {
    'nano-banana': { taskTypes: ['text2image', 'image2image'], formats: ['png'], maxImages: 2, imagesPerCall: 1, maxReferences: 2, aspectRatios: ['1:1', '16:9'], minPromptLength: 3 },
  };
}

const HUB = 'http://hub.test';
const PIXEL = 'https://pixelsync.test';
const REF = (i: number): string => `https://images.example.com/ref-${i}.png`;
let gateway: Gateway;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'itb-capfail-'));
  const file = join(dir, 'bridge.json');
  writeFileSync(
    file,
    JSON.stringify({
      channels: [
        { id: 'pixel-a', adapter: 'pixelsync', base_url: PIXEL, api_key_env: 'PIXEL_KEY', priority: 10 },
        { id: 'hub-b', adapter: 'hub', base_url: HUB, api_key_env: 'HUB_B_KEY', priority: 5 },
      ],
    }),
  );
  const config = loadConfig({ PORT: '0', GATEWAY_API_KEYS: `${KEY_A}:alice`, CONFIG_FILE: file, PIXEL_KEY: 'pixel-secret', HUB_B_KEY: 'hub-secret', LOG_LEVEL: 'silent', BLOB_DIR: join(dir, 'blobs') });
  gateway = await start(config, { adapters: [SmallPixelSyncAdapter] });
});

afterAll(async () => {
  await gateway.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => nock.cleanAll());

test('the host adapter is added next to the built-in ones, not instead of them', () => {
  const builtIn = ADAPTER_CLASSES.map((Adapter) => new Adapter().id);
  expect(builtIn.slice(0, 3)).toStrictEqual(['hub', 'fal', 'example']);
  expect(gateway.container.resolve(AdapterRegistry).all().map((a) => a.id)).toStrictEqual([...builtIn, 'pixelsync']);
});

test.each([
  ['an aspect ratio it does not take', { aspect_ratio: '4:3' }, { aspect_ratio: '4:3' }],
  ['more images than it serves', { n: 3 }, { num_images: 3 }],
  ['more references than it takes', { images: [REF(1), REF(2), REF(3)] }, { image_urls: [REF(1), REF(2), REF(3)] }],
  ['a prompt shorter than it takes', { prompt: 'ox' }, { prompt: 'ox' }],
])('the first channel refuses %s: the hub serves it, and the first upstream is never called', async (_what, extra, hubInput) => {
  const prompt = 'a fox in the snow';
  const image = 'images' in extra;
  const hub = nock(HUB, { reqheaders: { authorization: 'Bearer hub-secret' } })
    .post('/hub/v1/tasks', { model: image ? 'nano-banana/edit' : 'nano-banana', input: { prompt, num_images: 1, output_format: 'png', ...hubInput } })
    .reply(201, { task_id: 'hub_1', status: 'queued', ready: false });
  const submitted = await postJson(`${gateway.url}/v1/images/tasks`, { model: 'NanoBanana', prompt, output_format: 'png', ...extra }, auth(KEY_A));
  expect(submitted.status).toBe(201);
  hub.done();
});

test('a request the first channel serves stays there: queued for the engine, no upstream call in the POST', async () => {
  const submitted = await postJson(`${gateway.url}/v1/images/tasks`, { model: 'NanoBanana', prompt: 'a fox in the snow', aspect_ratio: '16:9', output_format: 'png' }, auth(KEY_A));
  expect(submitted).toMatchObject({ status: 201, body: { status: 'queued', progress: '0%' } });
});
