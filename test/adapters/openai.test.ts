/**
 * The openai adapter (gpt-image-2 on OpenAI's Images API): the shared conformance suite with OpenAI's answer
 * shapes (fixtures/openai), the golden files of fixtures/platform/*.openai.*, and OpenAI-specific checks:
 * every platform size within OpenAI's size rules, the call settings, the error bodies, and the exact bytes on
 * the wire (JSON for generations, multipart for edits) through the shared upstream client.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { OpenAIAdapter } from '../../adapters/openai/openai-adapter';
import { OPENAI_DEFAULT_BASE_URL } from '../../adapters/openai/openai-api';
import type { FormPart, UpstreamRequest } from '../../src/adapter-kit/contract';
import type { ImageIntent } from '../../src/intent/intent';
import { GPT_IMAGE_2_SIZES } from '../../src/platform/gpt-image-2-sizes';
import type { UpstreamError } from '../../src/platform/errors';
import { planSubmit } from '../../src/routing/plan';
import { AdapterRegistry } from '../../src/routing/registry';
import type { Channel } from '../../src/routing/channels';
import { runAdapterConformance } from '../../src/testing/adapter-conformance';
import { goldenCasesFromFiles } from '../../src/testing/golden-files';
import { HttpUpstreamClient } from '../../src/upstream/http-upstream-client';

const DIR = join(__dirname, '../../fixtures/openai');
const PLATFORM_DIR = join(__dirname, '../../fixtures/platform');
const PNG_1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGMwTjsDAAI1AWaKkkQyAAAAAElFTkSuQmCC';
const PNG_2 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGM4k2YMAANnAWbIgiL+AAAAAElFTkSuQmCC';

function fixture(file: string): unknown {
  return JSON.parse(readFileSync(join(DIR, file), 'utf8')) as unknown;
}

const MODELS = ['gpt-image-2', 'gpt-image-2-2026-04-21'];
const GENERATION_FIELDS = ['model', 'prompt', 'n', 'size', 'quality', 'output_format', 'output_compression', 'background', 'moderation', 'partial_images', 'stream', 'user'];
const EDIT_FIELDS = ['model', 'prompt', 'n', 'size', 'quality', 'output_format', 'output_compression', 'background', 'input_fidelity', 'partial_images', 'stream', 'user'];

/**
 * OpenAI's published rules for gpt-image-2 (CreateImageRequest / CreateImageEditRequest in OpenAI's OpenAPI
 * document; see fixtures/openai/README.md), written apart from the adapter's capabilities: the two endpoints, JSON
 * for generations and multipart with `image` files for edits, the model, prompt 1-32,000 characters, n 1-10,
 * quality low/medium/high/auto, output_format png/jpeg/webp, size `auto` or WxH with both edges divisible by 16,
 * ratio within 1:3-3:1, at most 3840x2160 worth of pixels and 3840 per edge (and, an assumption, at least
 * 655,360 pixels), 1-16 png/webp/jpeg images under 50MB; no field the schema does not define (no seed).
 */
function openaiRejects(request: UpstreamRequest): string | undefined {
  if (request.method !== 'POST') return `${request.method} is not POST`;
  let fields: Record<string, unknown>;
  let allowed: string[];
  if (request.path === '/v1/images/generations') {
    if (request.form !== undefined || typeof request.body !== 'object' || request.body === null) return 'generations takes a JSON body';
    fields = request.body as Record<string, unknown>;
    allowed = GENERATION_FIELDS;
  } else if (request.path === '/v1/images/edits') {
    if (request.body !== undefined || request.form === undefined) return 'edits takes multipart/form-data';
    const files = request.form.filter((p): p is Extract<FormPart, { data: Uint8Array }> => 'data' in p);
    if (files.some((f) => f.name !== 'image' && f.name !== 'image[]')) return 'files go in image (or image[])';
    if (files.length < 1 || files.length > 16) return `image: 1 to 16 files, got ${files.length}`;
    for (const f of files) {
      if (!['image/png', 'image/webp', 'image/jpeg'].includes(f.mimeType)) return `image: png, webp or jpg, got ${f.mimeType}`;
      if (f.data.byteLength >= 50 * 1024 * 1024) return 'image: each file under 50MB';
    }
    fields = {};
    for (const part of request.form) if ('value' in part) fields[part.name] = /^\d+$/.test(part.value) && part.name === 'n' ? Number(part.value) : part.value;
    allowed = EDIT_FIELDS;
  } else return `${request.path} is not an Images API endpoint`;
  const unknown = Object.keys(fields).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) return `unknown parameter(s): ${unknown.join(', ')}`;
  if (!MODELS.includes(String(fields.model))) return `model ${String(fields.model)} is not gpt-image-2`;
  if (typeof fields.prompt !== 'string' || fields.prompt.length < 1 || fields.prompt.length > 32_000) return 'prompt: 1 to 32000 characters';
  const n = fields.n ?? 1;
  if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 10) return 'n: 1 to 10';
  if (fields.quality !== undefined && !['low', 'medium', 'high', 'auto'].includes(String(fields.quality))) return 'quality: low, medium, high or auto';
  if (fields.output_format !== undefined && !['png', 'jpeg', 'webp'].includes(String(fields.output_format))) return 'output_format: png, jpeg or webp';
  return fields.size === undefined || fields.size === 'auto' ? undefined : sizeProblem(String(fields.size));
}

function sizeProblem(size: string): string | undefined {
  const m = /^(\d+)x(\d+)$/.exec(size);
  if (!m) return `size ${size} is not WIDTHxHEIGHT`;
  const [w, h] = [Number(m[1]), Number(m[2])];
  if (w % 16 !== 0 || h % 16 !== 0) return `size ${size}: both edges divisible by 16`;
  if (Math.max(w, h) / Math.min(w, h) > 3) return `size ${size}: ratio between 1:3 and 3:1`;
  if (Math.max(w, h) > 3840 || w * h > 3840 * 2160) return `size ${size}: at most 3840x2160`;
  if (w * h < 655_360) return `size ${size}: at least 655,360 pixels`;
  return undefined;
}

const SAFETY_MESSAGE =
  "OpenAI's safety system refused the request: Your request was rejected by the safety system. If you believe this is an error, contact us at help.openai.com and include the request ID 0f3c9b1e-7d2a-4c55-9a8e-1b2c3d4e5f60. safety_violations=[violence]. (type image_generation_user_error, code moderation_blocked)";

runAdapterConformance({
  adapter: new OpenAIAdapter(),
  fixturesDir: DIR,
  ref: { id: 'openai-has-no-jobs' },
  goldens: goldenCasesFromFiles(PLATFORM_DIR, 'openai'),
  submitFixtures: [
    { file: 'submit.succeeded.json', expected: { final: { status: 'succeeded', progress: '100%', result_url: 'bytes:image/png:69', result_urls: ['bytes:image/png:69'], error: null } } },
    {
      file: 'submit.succeeded-two-jpeg.json',
      expected: { final: { status: 'succeeded', progress: '100%', result_url: 'bytes:image/jpeg:134', result_urls: ['bytes:image/jpeg:134', 'bytes:image/png:69'], error: null } },
    },
    {
      file: 'submit.no-images.json',
      expected: { final: { status: 'failed', progress: '100%', result_url: null, error: { code: 'no_output', message: 'The upstream finished without returning any image.' } } },
    },
    {
      file: 'submit.moderation-blocked.json',
      httpStatus: 400,
      expected: { final: { status: 'failed', progress: '100%', result_url: null, error: { code: 'content_policy_violation', message: SAFETY_MESSAGE } } },
    },
  ],
  pollFixtures: [],
  malformedFixtures: [
    { file: 'submit.malformed-url-only.json', operation: 'submit' },
    { file: 'submit.malformed-not-an-image.json', operation: 'submit' },
  ],
  warningCases: [{ name: 'a seed (OpenAI takes none) is not sent and is reported', request: { model: 'gpt-image-2', prompt: 'a cat', size: '1024x1024', seed: 3 }, warning: { code: 'parameter_ignored', param: 'seed' } }],
  refusals: [{ name: 'a Nano model (OpenAI serves gpt-image-2 only)', request: { model: 'NanoBanana', prompt: 'a cat' } }],
  upstreamRejects: openaiRejects,
});

describe('openai adapter: what the conformance kit does not cover', () => {
  const openai = new OpenAIAdapter();
  const registry = new AdapterRegistry([openai]);
  const plan = (body: Record<string, unknown>): ReturnType<typeof planSubmit> => planSubmit({ body }, registry, undefined, [openai]);

  it('every one of the platform\'s 48 gpt-image-2 sizes builds a size OpenAI accepts; only 1920x1080 and 1080x1920 are snapped, with a warning', () => {
    const adjusted: string[] = [];
    for (const { width, height } of GPT_IMAGE_2_SIZES) {
      const built = plan({ model: 'gpt-image-2', prompt: 'p', size: `${width}x${height}` }).built;
      expect({ size: `${width}x${height}`, verdict: openaiRejects(built.request) ?? 'accepted' }).toStrictEqual({ size: `${width}x${height}`, verdict: 'accepted' });
      if (built.warnings.length > 0) adjusted.push(`${width}x${height} -> ${String((built.request.body as { size: string }).size)}`);
    }
    expect(GPT_IMAGE_2_SIZES).toHaveLength(48);
    expect(adjusted).toStrictEqual(['1920x1080 -> 1920x1088', '1080x1920 -> 1088x1920']);
  });

  it('both endpoints carry the call settings: 5 min, 96 MiB answers, HTTP 400 read by the adapter', () => {
    const settings = { timeoutMs: 300_000, maxResponseBytes: 96 * 1024 * 1024, acceptStatuses: [400] };
    expect(plan({ model: 'gpt-image-2', prompt: 'p', size: '1024x1024' }).built.request).toMatchObject(settings);
    expect(plan({ model: 'gpt-image-2', prompt: 'p', size: '1024x1024', image: `data:image/png;base64,${PNG_1}` }).built.request).toMatchObject(settings);
  });

  it('a plan made before the engine fetched the references (translate, the submit\'s plan) shows a URL reference as the URL', () => {
    const form = plan({ model: 'gpt-image-2', prompt: 'p', size: '1024x1024', image: 'https://images.example.com/in/street.png' }).built.request.form ?? [];
    expect(form.at(-1)).toStrictEqual({ name: 'image[]', value: 'https://images.example.com/in/street.png' });
  });

  it('a jpeg and a webp reference keep their types and file names', () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    const webp = Buffer.concat([Buffer.from('RIFF'), Buffer.from([4, 0, 0, 0]), Buffer.from('WEBPVP8 ')]);
    const intent = plan({ model: 'gpt-image-2', prompt: 'p', size: '1024x1024', images: [`data:image/jpeg;base64,${jpeg.toString('base64')}`, `data:image/webp;base64,${webp.toString('base64')}`] }).intent;
    const files = (openai.buildSubmit(intent as ImageIntent).request.form ?? []).filter((p) => 'data' in p);
    expect(files).toStrictEqual([
      { name: 'image[]', data: jpeg, filename: 'image-1.jpg', mimeType: 'image/jpeg' },
      { name: 'image[]', data: webp, filename: 'image-2.webp', mimeType: 'image/webp' },
    ]);
  });

  it('reads the size OpenAI reports into each image', () => {
    const outcome = openai.parseSubmit({ status: 200, body: fixture('submit.succeeded-two-jpeg.json') });
    expect(outcome.kind === 'final' && outcome.state.images.map((i) => ({ ...i, data: 'data' in i ? i.data.byteLength : 0 }))).toStrictEqual([
      { data: 134, mimeType: 'image/jpeg', width: 1536, height: 1024 },
      { data: 69, mimeType: 'image/png', width: 1536, height: 1024 },
    ]);
  });

  it('describeError reads OpenAI\'s error body: message, type, code, param', () => {
    expect(openai.describeError(fixture('submit.invalid-request.json'))).toBe(
      "Invalid value: 'ultra'. Supported values are: 'low', 'medium', 'high', and 'auto'. (type invalid_request_error, code invalid_value, param quality)",
    );
    expect(openai.describeError(fixture('submit.server-error.json'))).toBe('The server had an error while processing your request. Sorry about that! (type server_error)');
    expect(openai.describeError({ detail: 'fal shape' })).toBeUndefined();
  });

  it('a 400 that is not a safety refusal is a rejected request with OpenAI\'s words', () => {
    let caught: unknown;
    try {
      openai.parseSubmit({ status: 400, body: fixture('submit.invalid-request.json') });
    } catch (err) {
      caught = err;
    }
    const err = caught as UpstreamError;
    expect({ kind: err.kind, code: err.code, message: err.message }).toStrictEqual({
      kind: 'rejected',
      code: 'upstream_rejected',
      message: "OpenAI rejected the request (HTTP 400): Invalid value: 'ultra'. Supported values are: 'low', 'medium', 'high', and 'auto'. (type invalid_request_error, code invalid_value, param quality)",
    });
  });
});

describe('openai adapter over the wire (shared upstream client, nock)', () => {
  const openai = new OpenAIAdapter();
  const registry = new AdapterRegistry([openai]);
  const client = new HttpUpstreamClient();
  const channel: Channel = { id: 'openai-test', adapterId: 'openai', baseUrl: OPENAI_DEFAULT_BASE_URL, apiKey: 'sk-openai-secret', priority: 0, weight: 1 };
  const build = (body: Record<string, unknown>): UpstreamRequest => planSubmit({ body }, registry, undefined, [openai]).built.request;

  afterEach(() => {
    nock.cleanAll();
  });
  afterAll(async () => {
    await client.close();
  });

  it('generations: the exact JSON body with the Bearer key; the b64_json answer becomes the image bytes', async () => {
    const scope = nock(OPENAI_DEFAULT_BASE_URL, { reqheaders: { authorization: 'Bearer sk-openai-secret', 'content-type': /^application\/json/ } })
      .post('/v1/images/generations', { model: 'gpt-image-2', prompt: 'a lighthouse', n: 1, size: '1024x1536', quality: 'high', output_format: 'png' })
      .reply(200, fixture('submit.succeeded.json') as nock.Body);
    const response = await client.send(channel, openai, build({ model: 'gpt-image-2', prompt: 'a lighthouse', size: '1024x1536', quality: 'high' }), 'submit');
    const outcome = openai.parseSubmit(response);
    scope.done();
    expect(outcome.kind === 'final' && outcome.state.images).toStrictEqual([{ data: Buffer.from(PNG_1, 'base64'), mimeType: 'image/png', width: 1024, height: 1024 }]);
  });

  it('edits: multipart/form-data with the text fields and one image[] file part per reference, bytes exact', async () => {
    let contentType = '';
    let raw = Buffer.alloc(0);
    const scope = nock(OPENAI_DEFAULT_BASE_URL, { reqheaders: { authorization: 'Bearer sk-openai-secret' } })
      .post('/v1/images/edits')
      .reply(function (_uri, body) {
        contentType = String(this.req.headers['content-type']);
        raw = Buffer.from(body as string, 'hex');
        return [200, fixture('submit.succeeded.json') as nock.Body];
      });
    const request = build({ model: 'gpt-image-2', prompt: 'two into one', size: '1024x1024', n: 2, output_format: 'webp', images: [`data:image/png;base64,${PNG_1}`, `data:image/png;base64,${PNG_2}`] });
    await client.send(channel, openai, request, 'submit');
    scope.done();
    const boundary = /^multipart\/form-data; boundary=(.+)$/.exec(contentType)?.[1] as string;
    expect(boundary).toBeDefined();
    const expected = Buffer.concat([
      ...[['model', 'gpt-image-2'], ['prompt', 'two into one'], ['n', '2'], ['size', '1024x1024'], ['quality', 'medium'], ['output_format', 'webp']].map(([name, value]) =>
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
      ),
      ...[PNG_1, PNG_2].flatMap((png, i) => [
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image[]"; filename="image-${i + 1}.png"\r\nContent-Type: image/png\r\n\r\n`),
        Buffer.from(png, 'base64'),
        Buffer.from('\r\n'),
      ]),
      Buffer.from(`--${boundary}--\r\n`),
    ]);
    expect(raw.equals(expected)).toBe(true);
  });

  it('429 rate limit: the client\'s rate_limited (upstream_unavailable), quoting OpenAI, never the key', async () => {
    nock(OPENAI_DEFAULT_BASE_URL).post('/v1/images/generations').reply(429, fixture('submit.rate-limited.json') as nock.Body, { 'retry-after': '12' });
    const err = (await client.send(channel, openai, build({ model: 'gpt-image-2', prompt: 'p', size: '1024x1024' }), 'submit').catch((e: unknown) => e)) as UpstreamError;
    expect({ kind: err.kind, code: err.code, retryAfter: err.retryAfterSeconds }).toStrictEqual({ kind: 'rate_limited', code: 'upstream_unavailable', retryAfter: 12 });
    expect(err.message).toBe(
      'upstream openai-test is rate limiting requests (HTTP 429): Rate limit reached for gpt-image-2 in organization org-Abc123 on images per minute (IPM): Limit 5, Used 5, Requested 1. Please try again in 12s. Visit https://platform.openai.com/account/rate-limits to learn more. (type requests, code rate_limit_exceeded). It asked to wait 12 s.',
    );
    expect(err.message).not.toContain('sk-openai-secret');
  });

  it('400 safety refusal: read by the adapter, a failed task with content_policy_violation (not retried, not a rejection)', async () => {
    const scope = nock(OPENAI_DEFAULT_BASE_URL).post('/v1/images/generations').once().reply(400, fixture('submit.moderation-blocked.json') as nock.Body);
    const outcome = openai.parseSubmit(await client.send(channel, openai, build({ model: 'gpt-image-2', prompt: 'p', size: '1024x1024' }), 'submit'));
    scope.done();
    expect(outcome).toStrictEqual({ kind: 'final', state: { status: 'failed', progress: 100, images: [], error: { code: 'content_policy_violation', message: SAFETY_MESSAGE } } });
  });

  it('400 invalid request: upstream_rejected with OpenAI\'s words', async () => {
    nock(OPENAI_DEFAULT_BASE_URL).post('/v1/images/generations').reply(400, fixture('submit.invalid-request.json') as nock.Body);
    const response = await client.send(channel, openai, build({ model: 'gpt-image-2', prompt: 'p', size: '1024x1024' }), 'submit');
    expect(() => openai.parseSubmit(response)).toThrow(expect.objectContaining({ kind: 'rejected', code: 'upstream_rejected' }));
  });

  it('500: the client\'s server_error quoting OpenAI', async () => {
    nock(OPENAI_DEFAULT_BASE_URL).post('/v1/images/generations').reply(500, fixture('submit.server-error.json') as nock.Body);
    const err = (await client.send(channel, openai, build({ model: 'gpt-image-2', prompt: 'p', size: '1024x1024' }), 'submit').catch((e: unknown) => e)) as UpstreamError;
    expect({ kind: err.kind, message: err.message }).toStrictEqual({
      kind: 'server_error',
      message: 'upstream openai-test failed with HTTP 500: The server had an error while processing your request. Sorry about that! (type server_error).',
    });
  });
});
