/**
 * The translate command (runTranslate), driven directly with in-memory streams.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { runTranslate } from '../../src/cli/translate';
import { loadConfig } from '../../src/config/config';
import { closeAppContainer, createAppContainer } from '../../src/di/container';
import { NORMALIZE_OPTIONS } from '../../src/di/tokens';
import { normalizePlatformRequest, type NormalizeOptions } from '../../src/intent/normalize';
import { isBridgeError } from '../../src/platform/errors';

const FIXTURES = join(__dirname, '../../fixtures/platform');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'itb-translate-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the command and returns its exit code and the one document it printed. */
async function run(args: string[], stdinText = ''): Promise<{ code: number; output: unknown }> {
  const writes: string[] = [];
  const code = await runTranslate(args, { stdin: Readable.from([Buffer.from(stdinText)]), stdout: { write: (s: string) => writes.push(s) } });
  expect(writes).toHaveLength(1);
  const text = writes[0] as string;
  expect(text.endsWith('}\n')).toBe(true);
  return { code, output: JSON.parse(text) as unknown };
}

async function golden(name: string): Promise<{ request: unknown; upstream: { adapter: string; method: string; path: string; body: unknown; warnings: unknown[]; metadata: unknown } }> {
  return {
    request: JSON.parse(await readFile(join(FIXTURES, `${name}.request.json`), 'utf8')) as unknown,
    upstream: JSON.parse(await readFile(join(FIXTURES, `${name}.upstream.json`), 'utf8')) as never,
  };
}

/** The intent as it appears once printed as JSON. */
function printedIntent(body: unknown): unknown {
  return JSON.parse(JSON.stringify(normalizePlatformRequest({ body })));
}

describe('translate: accepted requests', () => {
  test.each(['gpt-image-2.snapped-1920x1080', 'nano-banana.image2image-merged-duplicate', 'gpt-image-2.image2image-data-uri'])(
    'a request file prints intent, upstream request, warnings and metadata (%s)',
    async (name) => {
      const { request, upstream } = await golden(name);
      const { code, output } = await run([join(FIXTURES, `${name}.request.json`)]);
      expect(code).toBe(0);
      expect(output).toStrictEqual({
        intent: printedIntent(request),
        upstream: { adapter: upstream.adapter, method: upstream.method, path: upstream.path, body: upstream.body },
        warnings: upstream.warnings,
        metadata: upstream.metadata,
      });
    },
  );

  test('callback_url is checked and printed beside the plan, never sent upstream; a private one is refused', async () => {
    const body = { model: 'NanoBanana2-0.5K', prompt: 'A small red cube', aspect_ratio: '1:1' };
    const ok = await run(['-'], JSON.stringify({ ...body, callback_url: 'https://hooks.example.com/cb' }));
    expect(ok.code).toBe(0);
    expect(ok.output).toMatchObject({ intent: printedIntent(body), callback_url: 'https://hooks.example.com/cb' });
    expect(JSON.stringify((ok.output as { upstream: unknown }).upstream)).not.toContain('hooks.example.com');
    const refused = await run(['-'], JSON.stringify({ ...body, callback_url: 'http://10.0.0.1/cb' }));
    expect(refused).toStrictEqual({
      code: 1,
      output: {
        error: { code: 'invalid_parameter', message: 'callback_url is not allowed: the host 10.0.0.1 is a private address; webhooks are only delivered to public hosts.', param: 'callback_url', data: null },
        status: 400,
      },
    });
  });

  test('- reads the request from stdin, in several chunks', async () => {
    const writes: string[] = [];
    const body = '{"model": "NanoBanana2-1K", "prompt": "a red cube", "size": "1024x768"}';
    const stdin = Readable.from([Buffer.from(body.slice(0, 10)), body.slice(10)]);
    const code = await runTranslate(['-'], { stdin, stdout: { write: (s: string) => writes.push(s) } });
    expect(code).toBe(0);
    expect(JSON.parse(writes.join(''))).toStrictEqual({
      intent: {
        platformModel: 'NanoBanana2-1K',
        family: 'nano-banana-2',
        taskType: 'text2image',
        prompt: 'a red cube',
        references: [],
        count: 1,
        format: 'png',
        geometry: { kind: 'aspect', aspectRatio: '4:3', resolution: '1K' },
        warnings: [{ code: 'size_converted', param: 'size', message: 'NanoBanana2-1K is steered by aspect_ratio and its tier; size 1024x768 was sent as aspect_ratio 4:3.' }],
        billing: { requestedImages: 1 },
      },
      upstream: {
        adapter: 'hub',
        method: 'POST',
        path: '/hub/v1/tasks',
        body: { model: 'nano-banana-2', input: { prompt: 'a red cube', num_images: 1, output_format: 'png', aspect_ratio: '4:3', resolution: '1K' } },
      },
      warnings: [{ code: 'size_converted', param: 'size', message: 'NanoBanana2-1K is steered by aspect_ratio and its tier; size 1024x768 was sent as aspect_ratio 4:3.' }],
      metadata: {},
    });
  });

  test('--adapter openai prints a multipart edit as its form: text parts as they are, files in base64 (the golden file\'s form)', async () => {
    const name = 'gpt-image-2.image2image-data-uris.openai';
    const upstream = JSON.parse(await readFile(join(FIXTURES, `${name}.upstream.json`), 'utf8')) as { method: string; path: string; form: unknown[] };
    const { code, output } = await run([join(FIXTURES, `${name}.request.json`), '--adapter', 'openai']);
    expect(code).toBe(0);
    expect((output as { upstream: unknown }).upstream).toStrictEqual({ adapter: 'openai', method: upstream.method, path: upstream.path, form: upstream.form });
  });

  test('--adapter hub (and --adapter=hub) chooses the adapter explicitly', async () => {
    const file = join(FIXTURES, 'gpt-image-2.preset-square-hd.request.json');
    const { upstream } = await golden('gpt-image-2.preset-square-hd');
    for (const args of [[file, '--adapter', 'hub'], ['--adapter=hub', file]]) {
      const { code, output } = await run(args);
      expect(code).toBe(0);
      expect((output as { upstream: unknown }).upstream).toStrictEqual({ adapter: 'hub', method: 'POST', path: '/hub/v1/tasks', body: upstream.body });
    }
  });
});

describe('translate: refused requests print the envelope and exit 1', () => {
  test('a request the platform rejects prints its envelope and HTTP status', async () => {
    const { code, output } = await run(['-'], JSON.stringify({ model: 'gpt-image-2', prompt: 'p', size: '1024x768', aspect_ratio: '4:3' }));
    expect(code).toBe(1);
    expect(output).toStrictEqual({
      error: {
        code: 'unsupported_parameter',
        message: expect.stringContaining('gpt-image-2 does not take aspect_ratio; use size') as unknown,
        param: 'aspect_ratio',
        data: null,
      },
      status: 400,
    });
  });

  test('NanoBananaPro-8K is model_unavailable', async () => {
    const file = join(dir, 'eight-k.json');
    await writeFile(file, JSON.stringify({ model: 'NanoBananaPro-8K', prompt: 'p' }));
    const { code, output } = await run([file]);
    expect(code).toBe(1);
    expect(output).toStrictEqual({
      error: {
        code: 'model_unavailable',
        message: 'NanoBananaPro-8K is not available: resolution 8K is not served by any upstream today (served: 1K, 2K, 4K). It is not downgraded silently; choose another model.',
        param: 'model',
        data: null,
      },
      status: 400,
    });
  });

  test('a file that does not exist is invalid_request', async () => {
    const missing = join(dir, 'missing.json');
    expect(await run([missing])).toStrictEqual({
      code: 1,
      output: { error: { code: 'invalid_request', message: `Cannot read the request file ${missing} (ENOENT).`, data: null }, status: 400 },
    });
  });

  test('a directory is not a readable request file', async () => {
    expect(await run([dir])).toStrictEqual({
      code: 1,
      output: { error: { code: 'invalid_request', message: `Cannot read the request file ${dir} (EISDIR).`, data: null }, status: 400 },
    });
  });

  test('invalid JSON is invalid_request and says where', async () => {
    const file = join(dir, 'broken.json');
    await writeFile(file, '{"model": "NanoBanana", ');
    const { code, output } = await run([file]);
    expect(code).toBe(1);
    expect(output).toStrictEqual({
      error: { code: 'invalid_request', message: expect.stringMatching(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid JSON: .+\\.$`)) as unknown, data: null },
      status: 400,
    });
  });

  test('empty stdin is invalid JSON', async () => {
    const { code, output } = await run(['-'], '');
    expect(code).toBe(1);
    expect(output).toStrictEqual({ error: { code: 'invalid_request', message: expect.stringMatching(/^stdin is not valid JSON: /) as unknown, data: null }, status: 400 });
  });

  test('a JSON value that is not an object is invalid_request', async () => {
    expect(await run(['-'], '[1, 2]')).toStrictEqual({
      code: 1,
      output: { error: { code: 'invalid_request', message: 'The request body must be a JSON object.', data: null }, status: 400 },
    });
  });

  test.each([
    [[], 'Give exactly one request file, or - for stdin.'],
    [['a.json', 'b.json'], 'Give exactly one request file, or - for stdin.'],
    [['--verbose', 'a.json'], 'Unknown option --verbose.'],
    [['a.json', '--adapter'], '--adapter needs an adapter id.'],
  ])('bad arguments %p print usage as invalid_request', async (args, start) => {
    expect(await run(args)).toStrictEqual({
      code: 1,
      output: { error: { code: 'invalid_request', message: `${start} Usage: image-task-bridge translate <request.json|-> [--adapter <id>]`, data: null }, status: 400 },
    });
  });

  test('an unknown adapter id names the registered adapters', async () => {
    expect(await run(['-', '--adapter', 'nope'], '{"model": "NanoBanana", "prompt": "p"}')).toStrictEqual({
      code: 1,
      output: { error: { code: 'invalid_request', message: expect.stringMatching(/^No adapter "nope"; registered adapters: hub(, [a-z0-9-]+)*\.$/) as unknown, data: null }, status: 400 },
    });
  });
});

describe('translate applies the server\'s default reference-URL policy', () => {
  const LOOPBACK = { model: 'NanoBanana', prompt: 'make it blue', image: 'http://127.0.0.1/a.png' };
  const EXPECTED = {
    error: { code: 'invalid_parameter', message: 'image is not allowed: the host 127.0.0.1 is a loopback address; reference images must be on a public host.', param: 'image', data: null },
    status: 400,
  };

  test.each([
    ['loopback', 'http://127.0.0.1/a.png', 'image', 'the host 127.0.0.1 is a loopback address'],
    ['cloud metadata', 'http://169.254.169.254/latest/meta-data', 'image', 'the host 169.254.169.254 is a link-local address'],
  ])('a %s reference URL is refused with the exact envelope', async (_label, url, param, mention) => {
    const { code, output } = await run(['-'], JSON.stringify({ ...LOOPBACK, image: url }));
    expect(code).toBe(1);
    expect(output).toMatchObject({ error: { code: 'invalid_parameter', param, data: null }, status: 400 });
    expect((output as { error: { message: string } }).error.message).toContain(mention);
  });

  test('the envelope is the one a server with the default configuration answers', async () => {
    expect(await run(['-'], JSON.stringify(LOOPBACK))).toStrictEqual({ code: 1, output: EXPECTED });
    const server = createAppContainer(loadConfig({ PORT: '0', LOG_LEVEL: 'silent', GATEWAY_API_KEYS: 'translate-test-key' }));
    try {
      let caught: unknown;
      try {
        normalizePlatformRequest({ body: LOOPBACK }, server.resolve<NormalizeOptions>(NORMALIZE_OPTIONS));
      } catch (err) {
        caught = err;
      }
      expect(isBridgeError(caught) && { error: caught.toEnvelope(), status: caught.httpStatus }).toStrictEqual(EXPECTED);
    } finally {
      await closeAppContainer(server);
    }
  });

  test('a public reference URL is accepted as before', async () => {
    const { code } = await run(['-'], JSON.stringify({ ...LOOPBACK, image: 'https://example.com/a.png' }));
    expect(code).toBe(0);
  });
});
