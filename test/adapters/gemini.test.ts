/**
 * The Gemini adapter: the shared conformance suite with Gemini's fixtures and the golden files of
 * fixtures/platform (`*.gemini.*`), Google's rules as the sandbox enforces them as `upstreamRejects`, its answers and error bodies
 * through the real upstream client, and the synchronous flow end to end on a real socket (a URL reference fetched
 * by the engine and sent as inlineData bytes; the gateway's HTTP
 * server, nock for Google only, a filesystem BlobStore on a temp dir): n = 4 is 4 calls, 4 images in order and
 * usage for 4; one call of 4 failing gives the documented partial result.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { GeminiAdapter } from '../../adapters/gemini/gemini-adapter';
import { GEMINI_DEFAULT_BASE_URL } from '../../adapters/gemini/gemini-api';
import type { UpstreamRequest } from '../../src/adapter-kit/contract';
import { loadConfig } from '../../src/config/config';
import { USAGE_SINK } from '../../src/di/tokens';
import type { Gateway } from '../../src/http/gateway';
import { normalizePlatformRequest } from '../../src/intent/normalize';
import type { UpstreamError } from '../../src/platform/errors';
import type { Channel } from '../../src/routing/channels';
import { validateSandboxGenerate } from '../../src/sandbox/sandbox-gemini';
import { runAdapterConformance } from '../../src/testing/adapter-conformance';
import { goldenCasesFromFiles } from '../../src/testing/golden-files';
import { HttpUpstreamClient } from '../../src/upstream/http-upstream-client';
import { auth, call, KEY_A, postJson, start } from '../http/gateway-support';
import { RecordingSink } from '../support/recording-sink';

const DIR = join(__dirname, '../../fixtures/gemini');
const PLATFORM_DIR = join(__dirname, '../../fixtures/platform');

function fixture(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Record<string, unknown>;
}

/**
 * Google's rules for a generateContent image request as the sandbox enforces them (src/sandbox/sandbox-gemini.ts,
 * written from Google's pages and never from the adapter's capabilities), like the hub's tests use the sandbox hub.
 */
function geminiRejects(request: UpstreamRequest): string | undefined {
  const model = /^\/v1beta\/models\/([^/:]+):generateContent$/.exec(request.path)?.[1];
  if (request.method !== 'POST' || model === undefined) return `${request.method} ${request.path} is not generateContent`;
  const verdict = validateSandboxGenerate(model, request.body);
  return verdict.ok ? undefined : verdict.message;
}

const ONE_PNG = fixture('generate.succeeded.json') as { candidates: Array<{ content: { parts: Array<{ inlineData: { data: string } }> } }> };
const PNG_8X8 = Buffer.from(ONE_PNG.candidates[0]?.content.parts[0]?.inlineData.data ?? '', 'base64');

runAdapterConformance({
  adapter: new GeminiAdapter(),
  fixturesDir: DIR,
  ref: { id: 'gemini-never-polls' },
  goldens: goldenCasesFromFiles(PLATFORM_DIR, 'gemini'),
  submitFixtures: [
    { file: 'generate.succeeded.json', expected: { final: { status: 'succeeded', progress: '100%', result_url: 'bytes:image/png:95', result_urls: ['bytes:image/png:95'], error: null } } },
    // The thought image (a draft) is not a result; the final image is.
    { file: 'generate.succeeded-thinking.json', expected: { final: { status: 'succeeded', progress: '100%', result_url: 'bytes:image/png:99', result_urls: ['bytes:image/png:99'], error: null } } },
    {
      file: 'generate.prompt-blocked.json',
      expected: { final: { status: 'failed', progress: '100%', result_url: null, error: { code: 'content_policy_violation', message: 'Gemini blocked the prompt (blockReason PROHIBITED_CONTENT).' } } },
    },
    {
      file: 'generate.image-safety.json',
      expected: {
        final: {
          status: 'failed',
          progress: '100%',
          result_url: null,
          error: {
            code: 'content_policy_violation',
            message: "Gemini returned no image (finishReason IMAGE_SAFETY): Unable to show the generated image. The image was filtered out because it violated Google's Generative AI Prohibited Use policy.",
          },
        },
      },
    },
    {
      file: 'generate.text-only.json',
      expected: {
        final: {
          status: 'failed',
          progress: '100%',
          result_url: null,
          error: { code: 'no_output', message: 'Gemini returned no image (finishReason STOP). The model said: "I can only describe this scene in words: a lighthouse at dusk."' },
        },
      },
    },
  ],
  pollFixtures: [],
  malformedFixtures: [
    { file: 'generate.malformed.json', operation: 'submit' },
    { file: 'generate.empty.json', operation: 'submit' },
  ],
  refusals: [
    { name: 'NanoBanana as jpeg (Gemini answers PNG)', request: { model: 'NanoBanana', prompt: 'a fox', output_format: 'jpeg' } },
    { name: 'NanoBanana as webp', request: { model: 'NanoBanana', prompt: 'a fox', output_format: 'webp' } },
    { name: 'NanoBanana with 4 references (Gemini 2.5 Flash Image takes 3)', request: { model: 'NanoBanana', prompt: 'mix', images: ['https://e.com/1.png', 'https://e.com/2.png', 'https://e.com/3.png', 'https://e.com/4.png'] } },
    { name: 'NanoBananaPro-8K (no 8K tier)', request: { model: 'NanoBananaPro-8K', prompt: 'a fox' } },
    { name: 'gpt-image-2 (not a Gemini model)', request: { model: 'gpt-image-2', prompt: 'a fox', size: '1024x1024' } },
  ],
  upstreamRejects: geminiRejects,
});

describe('gemini adapter specifics', () => {
  const gemini = new GeminiAdapter();

  it('authenticates with the x-goog-api-key header (never the ?key= query string)', () => {
    expect(gemini.authHeaders('AIza-test-key')).toStrictEqual({ 'x-goog-api-key': 'AIza-test-key' });
  });

  it('builds one call per image: n is not sent (the engine fans n out), and a seed is generationConfig.seed', () => {
    const built = gemini.buildSubmit(normalizePlatformRequest({ body: { model: 'NanoBanana2-1K', prompt: 'p', n: 3, seed: 9 } }));
    expect(built.request.body).toStrictEqual({ contents: [{ role: 'user', parts: [{ text: 'p' }] }], generationConfig: { responseModalities: ['IMAGE'], imageConfig: { imageSize: '1K' }, seed: 9 } });
    expect(gemini.capabilities['nano-banana-2'].imagesPerCall).toBe(1);
  });

  it('references go as inlineData bytes (the engine fetches URLs first: referenceBytes); a plan made before that shows a URL as fileData', () => {
    expect(gemini.referenceBytes).toBe(true);
    const built = gemini.buildSubmit(normalizePlatformRequest({ body: { model: 'NanoBananaPro-1K', prompt: 'p', images: [`data:image/webp;base64,${PNG_8X8.toString('base64')}`, 'https://cdn.example.com/c.png'] } }));
    const parts = (built.request.body as { contents: Array<{ parts: unknown[] }> }).contents[0]?.parts;
    expect(parts).toStrictEqual([{ text: 'p' }, { inlineData: { mimeType: 'image/webp', data: PNG_8X8.toString('base64') } }, { fileData: { fileUri: 'https://cdn.example.com/c.png' } }]);
  });

  it('there is nothing to poll: buildPoll and parsePoll refuse with upstream_error', () => {
    expect(() => gemini.buildPoll()).toThrow(expect.objectContaining({ code: 'upstream_error' }));
    expect(() => gemini.parsePoll()).toThrow(expect.objectContaining({ code: 'upstream_error' }));
  });

  it('describeError reads Google\'s error body: "<status>: <message>"', () => {
    expect(gemini.describeError(fixture('error.invalid-argument-400.json'))).toBe(
      'INVALID_ARGUMENT: Unable to process input image. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
    );
    expect(gemini.describeError({ error: { code: 500 } })).toBeUndefined();
    expect(gemini.describeError({ detail: 'fal-shaped' })).toBeUndefined();
  });

  it('a prompt blocked for a reason that is not a policy one is prompt_blocked, with Google\'s message', () => {
    expect(gemini.parseSubmit({ status: 200, body: { promptFeedback: { blockReason: 'OTHER', blockReasonMessage: 'The prompt could not be processed' } } })).toStrictEqual({
      kind: 'final',
      state: { status: 'failed', progress: 100, images: [], error: { code: 'prompt_blocked', message: 'Gemini blocked the prompt (blockReason OTHER): The prompt could not be processed.' } },
    });
  });

  it('an answer whose image part is not base64 of anything is unreadable, not an empty image', () => {
    expect(() => gemini.parseSubmit({ status: 200, body: { candidates: [{ content: { parts: [{ inlineData: { mimeType: 'image/png', data: '' } }] } }] } })).toThrow(
      expect.objectContaining({ code: 'upstream_error' }),
    );
  });

  describe("Google's error bodies through the real upstream client", () => {
    const client = new HttpUpstreamClient();
    const channel: Channel = { id: 'gemini-test', adapterId: 'gemini', baseUrl: GEMINI_DEFAULT_BASE_URL, apiKey: 'AIza-secret-never-shown', priority: 0, weight: 1 };
    const path = '/v1beta/models/gemini-2.5-flash-image:generateContent';

    afterEach(() => {
      nock.cleanAll();
    });

    it.each([
      [
        429,
        'error.rate-limited-429.json',
        'rate_limited',
        'upstream_unavailable',
        'upstream gemini-test is rate limiting requests (HTTP 429): RESOURCE_EXHAUSTED: You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
      ],
      [
        400,
        'error.invalid-argument-400.json',
        'rejected',
        'upstream_rejected',
        'upstream gemini-test rejected the request (HTTP 400): INVALID_ARGUMENT: Unable to process input image. Please retry or report in https://developers.generativeai.google/guide/troubleshooting.',
      ],
      [
        403,
        'error.permission-denied-403.json',
        'auth',
        'upstream_error',
        "upstream gemini-test refused the channel's credentials (HTTP 403): PERMISSION_DENIED: Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API. Check the API key configured for channel gemini-test.",
      ],
      [503, 'error.unavailable-503.json', 'server_error', 'upstream_error', 'upstream gemini-test failed with HTTP 503: UNAVAILABLE: The model is overloaded. Please try again later.'],
    ])('HTTP %i (%s) -> %s, %s, with Google\'s reason and without the key; the submit is sent once', async (status, file, kind, code, message) => {
      const built = gemini.buildSubmit(normalizePlatformRequest({ body: { model: 'NanoBanana', prompt: 'a fox' } }));
      const scope = nock(GEMINI_DEFAULT_BASE_URL, { reqheaders: { 'x-goog-api-key': 'AIza-secret-never-shown' } })
        .post(path, built.request.body as nock.RequestBodyMatcher)
        .reply(status, fixture(file));
      const thrown = await client.send(channel, gemini, built.request, 'submit').then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(thrown).toMatchObject({ kind, code, upstreamStatus: status, message });
      expect((thrown as UpstreamError).message).not.toContain('AIza-secret');
      scope.done();
    });

    it('a 200 answer is read into bytes; the key travels in the header only', async () => {
      const built = gemini.buildSubmit(normalizePlatformRequest({ body: { model: 'NanoBanana', prompt: 'a fox' } }));
      const scope = nock(GEMINI_DEFAULT_BASE_URL, { reqheaders: { 'x-goog-api-key': 'AIza-secret-never-shown' } })
        .post(path, built.request.body as nock.RequestBodyMatcher)
        .reply(200, fixture('generate.succeeded.json'));
      const outcome = gemini.parseSubmit(await client.send(channel, gemini, built.request, 'submit'));
      expect(outcome).toStrictEqual({ kind: 'final', state: { status: 'succeeded', progress: 100, images: [{ data: PNG_8X8, mimeType: 'image/png' }] } });
      scope.done();
    });
  });
});

describe('gemini end to end: the gateway on a real socket, Google nocked, images in a filesystem BlobStore', () => {
  const KEY = 'AIza-e2e-secret';
  const PATH = '/v1beta/models/gemini-3.1-flash-image-preview:generateContent';
  const BODY = { contents: [{ role: 'user', parts: [{ text: 'four teapots' }] }], generationConfig: { responseModalities: ['IMAGE'], imageConfig: { aspectRatio: '1:1', imageSize: '1K' } } };
  const sink = new RecordingSink();
  let gateway: Gateway;
  let dir: string;
  /** A client's reference image host (a real local server: the engine fetches from it, Google never does). */
  let refServer: http.Server;
  let refUrl: string;

  /** A distinct small PNG per call (the bytes only matter for equality). */
  function png(i: number): Buffer {
    return Buffer.concat([PNG_8X8, Buffer.from(`call-${i}`)]);
  }
  function answer(i: number): Record<string, unknown> {
    return { candidates: [{ content: { role: 'model', parts: [{ inlineData: { mimeType: 'image/png', data: png(i).toString('base64') } }] }, finishReason: 'STOP' }], modelVersion: 'gemini-3.1-flash-image-preview' };
  }
  async function waitTerminal(id: string): Promise<Record<string, unknown>> {
    for (let i = 0; i < 400; i += 1) {
      const task = ((await call(`${gateway.url}/v1/images/tasks/${id}`, { headers: auth(KEY_A) })).body as { data: Record<string, unknown> }).data;
      if (task.status === 'succeeded' || task.status === 'failed') return task;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`task ${id} did not finish`);
  }

  beforeAll(async () => {
    refServer = http.createServer((req, res) => (req.url === '/ref.png' ? res.writeHead(200, { 'content-type': 'image/png' }).end(PNG_8X8) : res.writeHead(404).end()));
    await new Promise<void>((resolve) => refServer.listen(0, '127.0.0.1', resolve));
    refUrl = `http://127.0.0.1:${(refServer.address() as AddressInfo).port}/ref.png`;
    dir = mkdtempSync(join(tmpdir(), 'itb-gemini-e2e-'));
    const file = join(dir, 'bridge.json');
    writeFileSync(file, JSON.stringify({ channels: [{ id: 'gemini-main', adapter: 'gemini', base_url: GEMINI_DEFAULT_BASE_URL, api_key_env: 'GEMINI_KEY' }] }));
    const config = loadConfig({
      PORT: '0',
      GATEWAY_API_KEYS: `${KEY_A}:alice`,
      CONFIG_FILE: file,
      GEMINI_KEY: KEY,
      LOG_LEVEL: 'silent',
      BLOB_DIR: join(dir, 'blobs'),
      BLOB_URL_SECRET: 'gemini-e2e-secret-0123456789-0123456789',
      // The reference host is on loopback: this deployment lets clients point at any host (the guard is tested in
      // test/tasks/reference-bytes.test.ts).
      REFERENCE_URL_POLICY: 'any',
    });
    gateway = await start(config, { register: (c) => c.register(USAGE_SINK, { useValue: sink }) });
  });

  afterEach(() => {
    nock.cleanAll();
    sink.events.length = 0;
  });

  afterAll(async () => {
    await gateway.close();
    await new Promise((resolve) => refServer.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('image2image with a URL reference: the engine fetches it and Gemini gets its exact bytes as inlineData', async () => {
    const scope = nock(GEMINI_DEFAULT_BASE_URL, { reqheaders: { 'x-goog-api-key': KEY } })
      .post('/v1beta/models/gemini-2.5-flash-image:generateContent', {
        contents: [{ role: 'user', parts: [{ text: 'make it blue' }, { inlineData: { mimeType: 'image/png', data: PNG_8X8.toString('base64') } }] }],
        generationConfig: { responseModalities: ['IMAGE'] },
      })
      .reply(200, answer(9));
    const submitted = await postJson(`${gateway.url}/v1/images/tasks`, { model: 'NanoBanana', prompt: 'make it blue', image: refUrl }, auth(KEY_A));
    expect(submitted).toMatchObject({ status: 201, body: { status: 'queued', metadata: { task_type: 'image2image' } } });
    const task = await waitTerminal((submitted.body as { task_id: string }).task_id);
    scope.done();
    expect(task).toMatchObject({ status: 'succeeded', error: null });
    expect(Buffer.from(await (await fetch(task.result_url as string)).arrayBuffer()).equals(png(9))).toBe(true);
  });

  it('n = 4: four calls, four images in call order (not in answer order), usage for four', async () => {
    // The k-th call to arrive answers last-first (call 0 waits longest), so answer order is the reverse of call order.
    let arrived = 0;
    const scope = nock(GEMINI_DEFAULT_BASE_URL, { reqheaders: { 'x-goog-api-key': KEY } })
      .post(PATH, BODY)
      .times(4)
      .reply(async () => {
        const i = arrived++;
        await new Promise((r) => setTimeout(r, (3 - i) * 60));
        return [200, answer(i)];
      });
    const submitted = await postJson(`${gateway.url}/v1/images/tasks`, { model: 'NanoBanana2-1K', prompt: 'four teapots', n: 4, aspect_ratio: '1:1' }, auth(KEY_A));
    expect(submitted).toMatchObject({ status: 201, body: { status: 'queued' } });
    const task = await waitTerminal((submitted.body as { task_id: string }).task_id);
    scope.done();
    expect(task).toMatchObject({ status: 'succeeded', progress: '100%', error: null });
    const urls = (task.metadata as { result_urls: string[] }).result_urls;
    expect(urls).toHaveLength(4);
    expect(task.result_url).toBe(urls[0]);
    const bytes = await Promise.all(urls.map(async (u) => Buffer.from(await (await fetch(u)).arrayBuffer())));
    expect(bytes.map((b) => b.toString('base64'))).toStrictEqual([0, 1, 2, 3].map((i) => png(i).toString('base64')));
    expect(sink.events).toStrictEqual([expect.objectContaining({ status: 'succeeded', requested_n: 4, result_count: 4, upstream_calls: 4, channel: 'gemini-main' })]);
  });

  it('n = 4 with one call rate-limited (429): succeeded with 3 images, a partial_result warning naming the failure, usage for 3 of 4 calls', async () => {
    let arrived = 0;
    const scope = nock(GEMINI_DEFAULT_BASE_URL, { reqheaders: { 'x-goog-api-key': KEY } })
      .post(PATH, BODY)
      .times(4)
      .reply(() => {
        const i = arrived++;
        return i === 2 ? [429, fixture('error.rate-limited-429.json')] : [200, answer(i)];
      });
    const submitted = await postJson(`${gateway.url}/v1/images/tasks`, { model: 'NanoBanana2-1K', prompt: 'four teapots', n: 4, aspect_ratio: '1:1' }, auth(KEY_A));
    const task = await waitTerminal((submitted.body as { task_id: string }).task_id);
    scope.done();
    expect(task).toMatchObject({ status: 'succeeded', error: null });
    const metadata = task.metadata as { result_urls: string[]; result_count: number; warnings: Array<{ code: string; param: string; message: string }> };
    const bytes = await Promise.all(metadata.result_urls.map(async (u) => Buffer.from(await (await fetch(u)).arrayBuffer())));
    expect(bytes.map((b) => b.toString('base64'))).toStrictEqual([0, 1, 3].map((i) => png(i).toString('base64')));
    expect(metadata.warnings).toStrictEqual([
      {
        code: 'partial_result',
        param: 'n',
        message:
          '1 of 4 upstream calls failed (first: upstream_unavailable: upstream gemini-main is rate limiting requests (HTTP 429): RESOURCE_EXHAUSTED: You exceeded your current quota, please check your plan and billing details. For more information on this error, head to:); the task has 3 of 4 images, and only those are charged.',
      },
    ]);
    expect(sink.events).toStrictEqual([expect.objectContaining({ status: 'succeeded', requested_n: 4, result_count: 3, upstream_calls: 4 })]);
  });

  it('a prompt Gemini blocks on every call: failed content_policy_violation, nothing charged', async () => {
    const scope = nock(GEMINI_DEFAULT_BASE_URL, { reqheaders: { 'x-goog-api-key': KEY } })
      .post(PATH, { ...BODY, contents: [{ role: 'user', parts: [{ text: 'something forbidden' }] }] })
      .times(2)
      .reply(200, fixture('generate.prompt-blocked.json'));
    const submitted = await postJson(`${gateway.url}/v1/images/tasks`, { model: 'NanoBanana2-1K', prompt: 'something forbidden', n: 2, aspect_ratio: '1:1' }, auth(KEY_A));
    const task = await waitTerminal((submitted.body as { task_id: string }).task_id);
    scope.done();
    expect(task).toMatchObject({ status: 'failed', result_url: null, error: { code: 'content_policy_violation', message: 'Gemini blocked the prompt (blockReason PROHIBITED_CONTENT).' } });
    expect(sink.events).toStrictEqual([expect.objectContaining({ status: 'failed', result_count: 0, cost: 0, upstream_calls: 2 })]);
  });
});
