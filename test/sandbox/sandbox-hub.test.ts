/**
 * The sandbox hub over real sockets on 127.0.0.1: protocol, lifecycle, images, failure modes, validation, auth,
 * limits, and that the hub adapter's requests are accepted and its parser reads the answers.
 */
import { Agent } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import axios, { type AxiosResponse } from 'axios';
import sharp from 'sharp';
import { HubAdapter } from '../../adapters/hub/hub-adapter';
import { normalizePlatformRequest } from '../../src/intent/normalize';
import { GPT_IMAGE_2_SIZES } from '../../src/platform/gpt-image-2-sizes';
import { MODEL_CATALOG } from '../../src/platform/catalog';
import { SANDBOX_MODEL_IDS, startSandboxHub, validateSandboxSubmit, type SandboxHub } from '../../src/sandbox';
import { FakeClock } from '../support/fake-clock';
import { refOf, urlsOf } from '../support/outcomes';

const http = axios.create({ validateStatus: () => true });
const QUEUED_MS = 300;
const RUNNING_MS = 1200;
const PNG_1PX = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

function auth(hub: SandboxHub): Record<string, string> {
  return { Authorization: `Bearer ${hub.apiKey}` };
}

function submit(hub: SandboxHub, body: unknown, headers: Record<string, string> = {}): Promise<AxiosResponse> {
  return http.post(`${hub.baseUrl}/hub/v1/tasks`, body, { headers: { ...auth(hub), ...headers } });
}

function poll(hub: SandboxHub, id: string): Promise<AxiosResponse> {
  return http.get(`${hub.baseUrl}/hub/v1/tasks/${id}`, { headers: auth(hub) });
}

async function submitOk(hub: SandboxHub, body: unknown, headers: Record<string, string> = {}): Promise<string> {
  const res = await submit(hub, body, headers);
  expect(res.status).toBe(202);
  expect(res.data).toStrictEqual({ task_id: expect.stringMatching(/^sbx_[0-9a-f]{32}$/), status: 'queued', ready: false });
  return res.data.task_id as string;
}

async function fetchImage(url: string): Promise<{ status: number; contentType: unknown; bytes: Buffer }> {
  const res = await http.get(url, { responseType: 'arraybuffer' });
  return { status: res.status, contentType: res.headers['content-type'], bytes: Buffer.from(res.data as ArrayBuffer) };
}

describe('sandbox hub: lifecycle of every model', () => {
  const clock = new FakeClock();
  let hub: SandboxHub;
  beforeAll(async () => {
    hub = await startSandboxHub({ clock: () => clock.now() });
  });
  afterAll(() => hub.close());

  const cases: Array<{ model: string; input: Record<string, unknown>; format: string; size: [number, number]; seed?: number | 'derived' }> = [
    { model: 'nano-banana', input: { prompt: 'a lighthouse at dusk', aspect_ratio: '16:9', output_format: 'jpeg', num_images: 2, seed: 42 }, format: 'jpeg', size: [256, 144], seed: 42 },
    { model: 'nano-banana/edit', input: { prompt: 'make it blue', image_urls: ['https://example.com/a.png'] }, format: 'png', size: [256, 256], seed: 'derived' },
    { model: 'nano-banana-2', input: { prompt: 'a long banner', aspect_ratio: '8:1', resolution: '4K', output_format: 'png', seed: 0 }, format: 'png', size: [256, 32], seed: 0 },
    { model: 'nano-banana-2/edit', input: { prompt: 'add snow', image_urls: [PNG_1PX], resolution: '0.5K', aspect_ratio: 'auto', output_format: 'webp' }, format: 'webp', size: [256, 256], seed: 'derived' },
    { model: 'nano-banana-pro', input: { prompt: 'a portrait', aspect_ratio: '4:5', resolution: '2K', output_format: 'webp' }, format: 'webp', size: [205, 256], seed: 'derived' },
    { model: 'nano-banana-pro/edit', input: { prompt: 'widen it', image_urls: ['https://example.com/a.png', PNG_1PX], aspect_ratio: '21:9', output_format: 'jpeg', num_images: 3 }, format: 'jpeg', size: [256, 110], seed: 'derived' },
    { model: 'gpt-image-2', input: { prompt: 'a poster', image_size: { width: 1920, height: 1088 }, quality: 'medium', output_format: 'webp' }, format: 'webp', size: [256, 145] },
    { model: 'gpt-image-2', input: { prompt: 'the default size' }, format: 'png', size: [256, 192] },
    { model: 'gpt-image-2/edit', input: { prompt: 'as a sketch', image_urls: [PNG_1PX], image_size: 'portrait_16_9', quality: 'low', num_images: 8 }, format: 'png', size: [144, 256] },
  ];

  it.each(cases)('$model $format $size: queued -> running -> succeeded, images decode at the reported size', async ({ model, input, format, size, seed }) => {
    const id = await submitOk(hub, { model, input });

    expect((await poll(hub, id)).data).toStrictEqual({ task_id: id, model, status: 'queued', ready: false, progress: 0 });
    clock.advance(QUEUED_MS);
    expect((await poll(hub, id)).data).toStrictEqual({ task_id: id, model, status: 'running', ready: false, progress: 30 });
    clock.advance(RUNNING_MS / 2);
    expect((await poll(hub, id)).data).toStrictEqual({ task_id: id, model, status: 'running', ready: false, progress: 70 });
    clock.advance(RUNNING_MS / 2);

    const done = await poll(hub, id);
    const count = (input.num_images as number | undefined) ?? 1;
    const images = Array.from({ length: count }, (_, i) => ({
      url: `${hub.baseUrl}/files/${id}-${i}.${format}`,
      content_type: `image/${format}`,
      width: size[0],
      height: size[1],
    }));
    const output = seed === undefined ? { images } : { images, seed: seed === 'derived' ? expect.any(Number) : seed };
    expect(done.status).toBe(200);
    expect(done.data).toStrictEqual({ task_id: id, model, status: 'succeeded', ready: true, progress: 100, output });

    for (const image of images) {
      const file = await fetchImage(image.url);
      expect(file.status).toBe(200);
      expect(file.contentType).toBe(`image/${format}`);
      const meta = await sharp(file.bytes).metadata();
      expect({ format: meta.format, width: meta.width, height: meta.height }).toStrictEqual({ format, width: size[0], height: size[1] });
    }
    expect(hub.stats().pollsByTask[id]).toBe(4);
  });

  it('images differ between prompts and between the images of one task, and are deterministic for a seed', async () => {
    const ids = [
      await submitOk(hub, { model: 'nano-banana', input: { prompt: 'red apple', seed: 7, num_images: 2 } }),
      await submitOk(hub, { model: 'nano-banana', input: { prompt: 'green pear', seed: 7 } }),
      await submitOk(hub, { model: 'nano-banana', input: { prompt: 'red apple', seed: 7 } }),
    ];
    clock.advance(QUEUED_MS + RUNNING_MS);
    const [a0, a1, pear, again] = await Promise.all(
      [`${ids[0]}-0`, `${ids[0]}-1`, `${ids[1]}-0`, `${ids[2]}-0`].map(async (name) => (await fetchImage(`${hub.baseUrl}/files/${name}.png`)).bytes),
    );
    expect(a0?.equals(a1 as Buffer)).toBe(false);
    expect(a0?.equals(pear as Buffer)).toBe(false);
    expect(a0?.equals(again as Buffer)).toBe(true);
  });

  it('serves HEAD for files, 404 before a task has finished and for unknown names', async () => {
    const id = await submitOk(hub, { model: 'gpt-image-2', input: { prompt: 'wait for me', output_format: 'jpeg' } });
    const early = await http.get(`${hub.baseUrl}/files/${id}-0.jpeg`);
    expect(early.status).toBe(404);
    expect(early.data).toStrictEqual({ error: { code: 'file_not_found', message: 'No such file.' } });
    clock.advance(QUEUED_MS + RUNNING_MS);
    const head = await http.head(`${hub.baseUrl}/files/${id}-0.jpeg`);
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('image/jpeg');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    for (const name of [`${id}-1.jpeg`, `${id}-0.png`, 'sbx_00000000000000000000000000000000-0.png', '..%2Fpackage.json']) {
      expect((await http.get(`${hub.baseUrl}/files/${name}`)).status).toBe(404);
    }
  });
});

describe('sandbox hub: failure modes', () => {
  const clock = new FakeClock();
  let hub: SandboxHub;
  beforeAll(async () => {
    hub = await startSandboxHub({ clock: () => clock.now(), apiKey: 'sk-sandbox-test' });
  });
  afterAll(() => hub.close());

  const nano = (prompt: string) => ({ model: 'nano-banana', input: { prompt } });

  it.each([
    ['prompt', nano('a cat [sandbox:fail]'), {}],
    ['header', nano('a cat'), { 'X-Sandbox-Mode': 'fail' }],
  ])('fail (by %s): runs, then ends ready with a content_policy error and no file', async (_how, body, headers) => {
    const id = await submitOk(hub, body, headers);
    clock.advance(QUEUED_MS);
    expect((await poll(hub, id)).data).toStrictEqual({ task_id: id, model: 'nano-banana', status: 'running', ready: false, progress: 30 });
    clock.advance(RUNNING_MS);
    expect((await poll(hub, id)).data).toStrictEqual({
      task_id: id,
      model: 'nano-banana',
      status: 'failed',
      ready: true,
      progress: 100,
      error: { code: 'content_policy', message: 'The output was blocked by the content policy (sandbox mode fail).' },
    });
    expect((await http.get(`${hub.baseUrl}/files/${id}-0.png`)).status).toBe(404);
  });

  it('slow: phases last ten times longer', async () => {
    const id = await submitOk(hub, nano('[sandbox:slow] a slow cat'));
    const start = clock.now();
    clock.set(start + QUEUED_MS + RUNNING_MS);
    expect((await poll(hub, id)).data).toMatchObject({ status: 'queued', ready: false, progress: 0 });
    clock.set(start + 10 * QUEUED_MS);
    expect((await poll(hub, id)).data).toMatchObject({ status: 'running', ready: false, progress: 30 });
    clock.set(start + 10 * (QUEUED_MS + RUNNING_MS) - 1);
    expect((await poll(hub, id)).data).toMatchObject({ status: 'running', ready: false, progress: 70 });
    clock.advance(1);
    expect((await poll(hub, id)).data).toMatchObject({ status: 'succeeded', ready: true, progress: 100 });
  });

  it('slow combines with fail', async () => {
    const id = await submitOk(hub, nano('a cat'), { 'X-Sandbox-Mode': 'slow, fail' });
    clock.advance(10 * (QUEUED_MS + RUNNING_MS) - 1);
    expect((await poll(hub, id)).data).toMatchObject({ status: 'running', ready: false });
    clock.advance(1);
    expect((await poll(hub, id)).data).toMatchObject({ status: 'failed', ready: true, error: { code: 'content_policy' } });
  });

  it('malformed: every poll answers 200 with a body that is not JSON', async () => {
    const id = await submitOk(hub, nano('a cat [sandbox:malformed]'));
    for (const step of [0, QUEUED_MS + RUNNING_MS]) {
      clock.advance(step);
      const res = await http.get(`${hub.baseUrl}/hub/v1/tasks/${id}`, { headers: auth(hub), responseType: 'text', transformResponse: (x: unknown) => x });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(() => JSON.parse(res.data as string)).toThrow(SyntaxError);
    }
  });

  it('wrong_shape: every poll answers JSON without status or ready', async () => {
    const id = await submitOk(hub, nano('a cat'), { 'x-sandbox-mode': 'WRONG_SHAPE' });
    clock.advance(QUEUED_MS + RUNNING_MS);
    const res = await poll(hub, id);
    expect(res.status).toBe(200);
    expect(res.data).toStrictEqual({ id, state: 'done', result: 'see files' });
  });

  it('never: the task stays running forever', async () => {
    const id = await submitOk(hub, nano('[sandbox:never] a cat'));
    clock.advance(365 * 24 * 3600 * 1000);
    expect((await poll(hub, id)).data).toStrictEqual({ task_id: id, model: 'nano-banana', status: 'running', ready: false, progress: 70 });
  });

  it('reject: the submit is a 422 content_policy error and creates no task', async () => {
    const before = hub.stats();
    const res = await submit(hub, nano('a cat [sandbox:reject]'));
    expect(res.status).toBe(422);
    expect(res.data).toStrictEqual({ error: { code: 'content_policy', message: 'The prompt was rejected by the content policy (sandbox mode reject).' } });
    expect(hub.stats()).toMatchObject({ submits: before.submits + 1, accepted: before.accepted, tasks: before.tasks });
  });

  it('error500: the submit is a 500, even before validation', async () => {
    const res = await submit(hub, { model: 'no-such-model', input: {} }, { 'X-Sandbox-Mode': 'error500' });
    expect(res.status).toBe(500);
    expect(res.data).toStrictEqual({ error: { code: 'internal_error', message: 'The sandbox hub failed on purpose (sandbox mode error500).' } });
  });

  it('an unknown or conflicting mode is a 422 naming the known modes', async () => {
    const unknown = await submit(hub, nano('a cat [sandbox:explode]'));
    expect(unknown.status).toBe(422);
    expect(unknown.data).toStrictEqual({
      error: { code: 'unknown_sandbox_mode', message: 'Unknown sandbox mode "explode"; known modes: fail, slow, malformed, wrong_shape, reject, error500, never.' },
    });
    const conflicting = await submit(hub, nano('[sandbox:fail] [sandbox:never]'));
    expect(conflicting.status).toBe(422);
    expect(conflicting.data).toStrictEqual({
      error: { code: 'conflicting_sandbox_modes', message: 'Sandbox modes fail and never cannot be combined; only slow combines with one other mode.' },
    });
  });
});

describe('sandbox hub: validation', () => {
  let hub: SandboxHub;
  beforeAll(async () => {
    hub = await startSandboxHub();
  });
  afterAll(() => hub.close());

  it('an unknown model is a 422 listing the known models', async () => {
    const res = await submit(hub, { model: 'dall-e-3', input: { prompt: 'x' } });
    expect(res.status).toBe(422);
    expect(res.data).toStrictEqual({
      error: { code: 'unknown_model', message: `model: unknown model "dall-e-3"; known models: ${SANDBOX_MODEL_IDS.join(', ')}` },
      detail: [{ loc: ['body', 'model'], msg: `unknown model "dall-e-3"; known models: ${SANDBOX_MODEL_IDS.join(', ')}`, type: 'unknown_model' }],
    });
    expect(SANDBOX_MODEL_IDS).toStrictEqual([
      'nano-banana', 'nano-banana/edit', 'nano-banana-2', 'nano-banana-2/edit', 'nano-banana-pro', 'nano-banana-pro/edit', 'gpt-image-2', 'gpt-image-2/edit',
    ]);
  });

  it('a missing prompt is a 422 with the error and the fal-style detail', async () => {
    const res = await submit(hub, { model: 'nano-banana-2', input: { num_images: 1 } });
    expect(res.status).toBe(422);
    expect(res.data).toStrictEqual({
      error: { code: 'validation_error', message: 'input.prompt: field required' },
      detail: [{ loc: ['body', 'input', 'prompt'], msg: 'field required', type: 'missing' }],
    });
  });

  it('a gpt-image-2 size off the 16 px grid is a 422 that says so', async () => {
    const res = await submit(hub, { model: 'gpt-image-2', input: { prompt: 'x', image_size: { width: 1920, height: 1080 } } });
    expect(res.status).toBe(422);
    expect(res.data).toStrictEqual({
      error: { code: 'validation_error', message: 'input.image_size: width and height must be multiples of 16 (got 1920x1080)' },
      detail: [{ loc: ['body', 'input', 'image_size'], msg: 'width and height must be multiples of 16 (got 1920x1080)', type: 'value_error' }],
    });
  });

  const rejected: Array<[string, unknown, string[], string]> = [
    ['body not an object', [1, 2], ['body'], 'type_error'],
    ['input missing', { model: 'nano-banana' }, ['body', 'input'], 'type_error'],
    ['extra top-level field', { model: 'nano-banana', input: { prompt: 'x' }, webhook: 'https://x' }, ['body', 'webhook'], 'extra_forbidden'],
    ['blank prompt', { model: 'nano-banana', input: { prompt: '  ' } }, ['body', 'input', 'prompt'], 'value_error'],
    ['prompt not a string', { model: 'nano-banana', input: { prompt: 5 } }, ['body', 'input', 'prompt'], 'value_error'],
    ['edit without image_urls', { model: 'nano-banana/edit', input: { prompt: 'x' } }, ['body', 'input', 'image_urls'], 'missing'],
    ['edit with empty image_urls', { model: 'gpt-image-2/edit', input: { prompt: 'x', image_urls: [] } }, ['body', 'input', 'image_urls'], 'value_error'],
    ['edit with a non-http url', { model: 'nano-banana-pro/edit', input: { prompt: 'x', image_urls: ['ftp://x/a.png'] } }, ['body', 'input', 'image_urls', '0'], 'value_error'],
    ['image_urls on a text model', { model: 'nano-banana', input: { prompt: 'x', image_urls: ['https://x/a.png'] } }, ['body', 'input', 'image_urls'], 'extra_forbidden'],
    ['num_images 0', { model: 'nano-banana', input: { prompt: 'x', num_images: 0 } }, ['body', 'input', 'num_images'], 'value_error'],
    ['num_images 9', { model: 'gpt-image-2', input: { prompt: 'x', num_images: 9 } }, ['body', 'input', 'num_images'], 'value_error'],
    ['num_images 1.5', { model: 'nano-banana', input: { prompt: 'x', num_images: 1.5 } }, ['body', 'input', 'num_images'], 'value_error'],
    ['output_format gif', { model: 'nano-banana', input: { prompt: 'x', output_format: 'gif' } }, ['body', 'input', 'output_format'], 'value_error'],
    ['nano-banana 8:1', { model: 'nano-banana', input: { prompt: 'x', aspect_ratio: '8:1' } }, ['body', 'input', 'aspect_ratio'], 'value_error'],
    ['nano-banana auto', { model: 'nano-banana', input: { prompt: 'x', aspect_ratio: 'auto' } }, ['body', 'input', 'aspect_ratio'], 'value_error'],
    ['nano-banana-pro 4:1', { model: 'nano-banana-pro', input: { prompt: 'x', aspect_ratio: '4:1' } }, ['body', 'input', 'aspect_ratio'], 'value_error'],
    ['nano-banana-pro 0.5K', { model: 'nano-banana-pro', input: { prompt: 'x', resolution: '0.5K' } }, ['body', 'input', 'resolution'], 'value_error'],
    ['nano-banana-2 8K', { model: 'nano-banana-2', input: { prompt: 'x', resolution: '8K' } }, ['body', 'input', 'resolution'], 'value_error'],
    ['resolution on nano-banana', { model: 'nano-banana', input: { prompt: 'x', resolution: '1K' } }, ['body', 'input', 'resolution'], 'extra_forbidden'],
    ['seed on gpt-image-2', { model: 'gpt-image-2', input: { prompt: 'x', seed: 1 } }, ['body', 'input', 'seed'], 'extra_forbidden'],
    ['seed not an integer', { model: 'nano-banana', input: { prompt: 'x', seed: 'abc' } }, ['body', 'input', 'seed'], 'value_error'],
    ['aspect_ratio on gpt-image-2', { model: 'gpt-image-2', input: { prompt: 'x', aspect_ratio: '1:1' } }, ['body', 'input', 'aspect_ratio'], 'extra_forbidden'],
    ['image_size on nano', { model: 'nano-banana-2', input: { prompt: 'x', image_size: 'square_hd' } }, ['body', 'input', 'image_size'], 'extra_forbidden'],
    ['quality ultra', { model: 'gpt-image-2', input: { prompt: 'x', quality: 'ultra' } }, ['body', 'input', 'quality'], 'value_error'],
    ['unknown preset', { model: 'gpt-image-2', input: { prompt: 'x', image_size: 'landscape_21_9' } }, ['body', 'input', 'image_size'], 'value_error'],
    ['size edge over 3840', { model: 'gpt-image-2', input: { prompt: 'x', image_size: { width: 3856, height: 1296 } } }, ['body', 'input', 'image_size'], 'value_error'],
    ['size ratio over 3:1', { model: 'gpt-image-2', input: { prompt: 'x', image_size: { width: 3072, height: 768 } } }, ['body', 'input', 'image_size'], 'value_error'],
    ['size under 655,360 px', { model: 'gpt-image-2', input: { prompt: 'x', image_size: { width: 512, height: 512 } } }, ['body', 'input', 'image_size'], 'value_error'],
    ['size over 8,294,400 px', { model: 'gpt-image-2', input: { prompt: 'x', image_size: { width: 3840, height: 2176 } } }, ['body', 'input', 'image_size'], 'value_error'],
    ['size with a string edge', { model: 'gpt-image-2', input: { prompt: 'x', image_size: { width: '1024', height: 1024 } } }, ['body', 'input', 'image_size'], 'type_error'],
    ['sync_mode true', { model: 'nano-banana', input: { prompt: 'x', sync_mode: true } }, ['body', 'input', 'sync_mode'], 'value_error'],
    ['thinking_level on pro', { model: 'nano-banana-pro', input: { prompt: 'x', thinking_level: 'high' } }, ['body', 'input', 'thinking_level'], 'extra_forbidden'],
  ];

  it.each(rejected)('%s -> 422', async (_name, body, loc, type) => {
    const before = hub.stats().accepted;
    const res = await submit(hub, body);
    expect(res.status).toBe(422);
    expect(res.data.error.code).toBe('validation_error');
    expect(res.data.detail).toStrictEqual([{ loc, msg: expect.any(String), type }]);
    expect(res.data.error.message).toBe(`${loc.slice(1).join('.')}: ${res.data.detail[0].msg}`);
    expect(hub.stats().accepted).toBe(before);
  });

  it('accepts the boundary sizes and every preset', async () => {
    const sizes: unknown[] = [{ width: 3840, height: 2160 }, { width: 1280, height: 512 }, { width: 2304, height: 768 }, 'square', 'square_hd', 'portrait_4_3', 'portrait_16_9', 'landscape_4_3', 'landscape_16_9'];
    for (const image_size of sizes) expect((await submit(hub, { model: 'gpt-image-2', input: { prompt: 'x', image_size } })).status).toBe(202);
  });

  it('accepts the documented optional parameters', async () => {
    const input = { prompt: 'x', sync_mode: false, safety_tolerance: '2', limit_generations: true, system_prompt: 'be brief', thinking_level: 'minimal', enable_web_search: false };
    expect((await submit(hub, { model: 'nano-banana-2', input })).status).toBe(202);
  });

  it('a body that is not JSON is a 400', async () => {
    const res = await http.post(`${hub.baseUrl}/hub/v1/tasks`, '{"model":', { headers: { ...auth(hub), 'content-type': 'application/json' }, transformRequest: (x: unknown) => x });
    expect(res.status).toBe(400);
    expect(res.data).toStrictEqual({ error: { code: 'invalid_json', message: 'The request body is not valid JSON.' } });
  });

  it('a body over 32 MiB is a 413 and creates no task', async () => {
    const before = hub.stats().accepted;
    const big = JSON.stringify({ model: 'nano-banana', input: { prompt: 'x'.repeat(33 * 1024 * 1024) } });
    const res = await http.post(`${hub.baseUrl}/hub/v1/tasks`, big, { headers: { ...auth(hub), 'content-type': 'application/json' }, maxBodyLength: Infinity });
    expect(res.status).toBe(413);
    expect(res.data).toStrictEqual({ error: { code: 'payload_too_large', message: 'The request body is larger than 33554432 bytes.' } });
    expect(hub.stats().accepted).toBe(before);
  });

  it('unknown task ids are 404, unknown routes 404, wrong methods 405', async () => {
    const missing = await poll(hub, 'sbx_00000000000000000000000000000000');
    expect(missing.status).toBe(404);
    expect(missing.data).toStrictEqual({ error: { code: 'task_not_found', message: 'No task with this id.' } });
    const route = await http.get(`${hub.baseUrl}/hub/v2/tasks`, { headers: auth(hub) });
    expect(route.status).toBe(404);
    expect(route.data).toStrictEqual({ error: { code: 'not_found', message: 'No route for GET /hub/v2/tasks.' } });
    const method = await http.delete(`${hub.baseUrl}/hub/v1/tasks`, { headers: auth(hub) });
    expect(method.status).toBe(405);
    expect(method.headers.allow).toBe('POST');
  });
});

describe('sandbox hub: authentication', () => {
  let hub: SandboxHub;
  beforeAll(async () => {
    hub = await startSandboxHub({ apiKey: 'sk-sandbox-secret-key' });
  });
  afterAll(() => hub.close());

  const unauthorized = { error: { code: 'unauthorized', message: 'Missing or invalid API key: send Authorization: Bearer <key>.' } };

  it.each([
    ['no header', {}],
    ['wrong key', { Authorization: 'Bearer sk-sandbox-other' }],
    ['not bearer', { Authorization: 'sk-sandbox-secret-key' }],
    ['key with a suffix', { Authorization: 'Bearer sk-sandbox-secret-key2' }],
  ])('%s: submit and poll are 401, nothing counted or created', async (_name, headers) => {
    const id = await submitOk(hub, { model: 'nano-banana', input: { prompt: 'x' } });
    const before = hub.stats();
    const sub = await http.post(`${hub.baseUrl}/hub/v1/tasks`, { model: 'nano-banana', input: { prompt: 'x' } }, { headers });
    expect(sub.status).toBe(401);
    expect(sub.data).toStrictEqual(unauthorized);
    expect(sub.headers['www-authenticate']).toBe('Bearer');
    const pol = await http.get(`${hub.baseUrl}/hub/v1/tasks/${id}`, { headers });
    expect(pol.status).toBe(401);
    expect(pol.data).toStrictEqual(unauthorized);
    expect(hub.stats()).toStrictEqual(before);
  });

  it('uses the given key, and a random sk-sandbox- key by default', async () => {
    expect(hub.apiKey).toBe('sk-sandbox-secret-key');
    const other = await startSandboxHub();
    try {
      expect(other.apiKey).toMatch(/^sk-sandbox-[0-9a-f]{32}$/);
      expect(other.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await other.close();
    }
  });
});

describe('sandbox hub: options, limits and shutdown', () => {
  it('refuses to bind anything but 127.0.0.1, and rejects bad options', async () => {
    await expect(startSandboxHub({ host: '0.0.0.0' })).rejects.toMatchObject({ code: 'internal_error', message: expect.stringContaining('only binds 127.0.0.1') });
    await expect(startSandboxHub({ maxTasks: 0 })).rejects.toMatchObject({ message: 'Sandbox hub maxTasks must be a positive integer (got 0).' });
    await expect(startSandboxHub({ timing: { runningMs: -1 } })).rejects.toMatchObject({ message: 'Sandbox hub timing.runningMs must be a number >= 0 (got -1).' });
    await expect(startSandboxHub({ publicBaseUrl: 'cdn.example' })).rejects.toMatchObject({ message: expect.stringContaining('publicBaseUrl') });
  });

  it('puts publicBaseUrl into image URLs and honours custom timing', async () => {
    const clock = new FakeClock();
    const hub = await startSandboxHub({ clock: () => clock.now(), publicBaseUrl: 'https://cdn.example.test/sbx/', timing: { queuedMs: 0, runningMs: 10 } });
    try {
      const id = await submitOk(hub, { model: 'gpt-image-2', input: { prompt: 'x' } });
      expect((await poll(hub, id)).data).toMatchObject({ status: 'running', progress: 30 });
      clock.advance(10);
      expect((await poll(hub, id)).data.output.images[0].url).toBe(`https://cdn.example.test/sbx/files/${id}-0.png`);
    } finally {
      await hub.close();
    }
  });

  it('keeps at most maxTasks: evicts the oldest finished task, 429 when none has finished', async () => {
    const clock = new FakeClock();
    const hub = await startSandboxHub({ clock: () => clock.now(), maxTasks: 2 });
    try {
      const first = await submitOk(hub, { model: 'nano-banana', input: { prompt: 'one' } });
      const second = await submitOk(hub, { model: 'nano-banana', input: { prompt: 'two' } });
      const full = await submit(hub, { model: 'nano-banana', input: { prompt: 'three' } });
      expect(full.status).toBe(429);
      expect(full.headers['retry-after']).toBe('1');
      expect(full.data).toStrictEqual({ error: { code: 'rate_limited', message: 'The sandbox hub holds 2 unfinished tasks; retry when some have finished.' } });
      clock.advance(QUEUED_MS + RUNNING_MS);
      const third = await submitOk(hub, { model: 'nano-banana', input: { prompt: 'three' } });
      expect((await poll(hub, first)).status).toBe(404);
      expect((await poll(hub, second)).data.status).toBe('succeeded');
      expect((await poll(hub, third)).data.status).toBe('queued');
      expect(hub.stats()).toStrictEqual({ submits: 4, accepted: 3, polls: 3, fileRequests: 0, generates: 0, tasks: 2, pollsByTask: { [second]: 1, [third]: 1 } });
    } finally {
      await hub.close();
    }
  });

  it('close() ends idle keep-alive connections, is idempotent, and the port stops answering', async () => {
    const hub = await startSandboxHub();
    const agent = new Agent({ keepAlive: true });
    try {
      const res = await http.get(`${hub.baseUrl}/hub/v1/tasks/x`, { headers: auth(hub), httpAgent: agent });
      expect(res.status).toBe(404);
      await Promise.all([hub.close(), hub.close()]);
      await expect(http.get(`${hub.baseUrl}/hub/v1/tasks/x`, { headers: auth(hub) })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      agent.destroy();
    }
  });
});

describe('sandbox hub with the hub adapter', () => {
  const adapter = new HubAdapter();
  const clock = new FakeClock();
  let hub: SandboxHub;
  beforeAll(async () => {
    hub = await startSandboxHub({ clock: () => clock.now() });
  });
  afterAll(() => hub.close());

  const dir = join(__dirname, '../../fixtures/platform');
  // Refusal goldens ({ error } instead of an upstream request) are refused before any upstream: not run here.
  const goldenCases = readdirSync(dir)
    .filter((f) => f.endsWith('.request.json'))
    .filter((f) => (JSON.parse(readFileSync(join(dir, f.replace(/\.request\.json$/, '.upstream.json')), 'utf8')) as { error?: unknown }).error === undefined)
    .sort();

  async function run(body: unknown, headers: Record<string, string> = {}) {
    const intent = normalizePlatformRequest({ body });
    const { request } = adapter.buildSubmit(intent);
    const submitted = await http.request({ method: request.method, url: `${hub.baseUrl}${request.path}`, data: request.body, headers: { ...adapter.authHeaders(hub.apiKey), ...headers } });
    expect({ status: submitted.status, body: submitted.data }).toMatchObject({ status: 202 });
    const ref = refOf(adapter.parseSubmit({ status: submitted.status, body: submitted.data }));
    const pollOnce = async () => {
      const p = adapter.buildPoll(ref);
      const res = await http.request({ method: p.method, url: `${hub.baseUrl}${p.path}`, headers: adapter.authHeaders(hub.apiKey), responseType: 'text', transformResponse: (x: unknown) => x });
      let parsed: unknown;
      try {
        parsed = JSON.parse(res.data as string);
      } catch {
        parsed = res.data;
      }
      return adapter.parsePoll({ status: res.status, body: parsed });
    };
    return { intent, pollOnce };
  }

  it.each(goldenCases)('golden %s is accepted and read back to success', async (file) => {
    const { intent, pollOnce } = await run(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    expect(await pollOnce()).toStrictEqual({ kind: 'state', state: { status: 'queued', progress: 0, images: [] } });
    clock.advance(QUEUED_MS);
    expect(await pollOnce()).toStrictEqual({ kind: 'state', state: { status: 'processing', progress: 30, images: [] } });
    clock.advance(RUNNING_MS);
    const done = await pollOnce();
    expect(done).toMatchObject({ kind: 'state', state: { status: 'succeeded', progress: 100 } });
    const images = done.kind === 'state' ? done.state.images : [];
    expect(images).toHaveLength(intent.count);
    for (const image of images) expect(image).toStrictEqual({ url: expect.stringContaining(`${hub.baseUrl}/files/`), contentType: `image/${intent.format}`, width: expect.any(Number), height: expect.any(Number) });
    const first = await fetchImage(urlsOf(images)[0] ?? '');
    expect((await sharp(first.bytes).metadata()).format).toBe(intent.format);
  });

  it('a failed task maps to a failed state with the content_policy error', async () => {
    const { pollOnce } = await run({ model: 'NanoBanana', prompt: 'a cat [sandbox:fail]' });
    clock.advance(QUEUED_MS + RUNNING_MS);
    expect(await pollOnce()).toStrictEqual({
      kind: 'state',
      state: { status: 'failed', progress: 100, images: [], error: { code: 'content_policy', message: 'The output was blocked by the content policy (sandbox mode fail).' } },
    });
  });

  it.each(['malformed', 'wrong_shape'])('%s polls make parsePoll throw a malformed upstream error', async (mode) => {
    const { pollOnce } = await run({ model: 'gpt-image-2', prompt: 'a cat', size: '1024x1024' }, { 'X-Sandbox-Mode': mode });
    await expect(pollOnce()).rejects.toMatchObject({ code: 'upstream_error', kind: 'malformed' });
  });

  it('every platform gpt-image-2 size and every Nano model/aspect ratio, as the adapter sends it, passes sandbox validation', () => {
    const bodies: unknown[] = [
      ...GPT_IMAGE_2_SIZES.map((s) => ({ model: 'gpt-image-2', prompt: 'x', size: `${s.width}x${s.height}` })),
      ...MODEL_CATALOG.filter((m) => m.geometry === 'aspect_ratio' && m.resolution !== '8K').flatMap((m) =>
        m.aspectRatios.flatMap((aspect_ratio) => m.formats.map((output_format) => ({ model: m.name, prompt: 'x', aspect_ratio, output_format, n: m.n.max, seed: 1, images: ['https://x/a.png'] }))),
      ),
    ];
    const refused = bodies
      .map((body) => ({ body, result: validateSandboxSubmit(adapter.buildSubmit(normalizePlatformRequest({ body })).request.body) }))
      .filter((r) => !r.result.ok);
    expect(refused).toStrictEqual([]);
    expect(bodies.length).toBeGreaterThan(48);
  });
});
