/**
 * The fal adapter: the shared conformance suite with fal's fixtures, plus fal-specific checks: the exact
 * outbound body for every family and task type, every status fixture, and the COMPLETED -> follow -> result flow.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { FalAdapter } from '../../adapters/fal/fal-adapter';
import { FAL_DEFAULT_BASE_URL, FAL_FAILED_RESULT_STATUSES } from '../../adapters/fal/fal-api';
import { runAdapterConformance } from '../../src/testing/adapter-conformance';
import { goldenCasesFromFiles } from '../../src/testing/golden-files';
import type { PollOutcome, UpstreamRequest, UpstreamResponse, UpstreamTaskRef } from '../../src/adapter-kit/contract';
import { normalizePlatformRequest } from '../../src/intent/normalize';
import type { Channel } from '../../src/routing/channels';
import { isBridgeError, type UpstreamError } from '../../src/platform/errors';
import { DEFAULT_UPSTREAM_CLIENT_OPTIONS, HttpUpstreamClient } from '../../src/upstream/http-upstream-client';
import { refOf, urlsOf } from '../support/outcomes';

const DIR = join(__dirname, '../../fixtures/fal');

/**
 * What fal's endpoint pages state (the sources cited in adapters/fal/fal-models.ts), written out apart from the
 * adapter's capabilities: the endpoints, num_images 1-4 on the Nano pages, the output formats, the resolution
 * tiers of nano-banana-2 (0.5K-4K) and nano-banana-pro (1K-4K), a prompt of at least 3 characters on Nano, and
 * image_urls on /edit. What no page states (gpt-image-2 num_images, reference counts) is not checked here.
 */
function falRejects(request: UpstreamRequest): string | undefined {
  const endpoints = ['fal-ai/nano-banana', 'fal-ai/nano-banana-2', 'fal-ai/nano-banana-pro', 'openai/gpt-image-2'];
  const endpoint = request.path.replace(/^\//, '');
  const base = endpoint.replace(/\/edit$/, '');
  if (request.method !== 'POST' || !endpoints.includes(base)) return `${request.method} ${request.path} is not a fal endpoint`;
  const input = request.body as Record<string, unknown>;
  const nano = base.startsWith('fal-ai/');
  if (typeof input.prompt !== 'string' || (nano && [...input.prompt].length < 3)) return 'prompt: at least 3 characters';
  const n = input.num_images ?? 1;
  if (!Number.isInteger(n) || (n as number) < 1 || (nano && (n as number) > 4)) return 'num_images: 1 to 4';
  if (input.output_format !== undefined && !['png', 'jpeg', 'webp'].includes(String(input.output_format))) return 'output_format: png, jpeg or webp';
  const tiers: Record<string, string[]> = { 'fal-ai/nano-banana-2': ['0.5K', '1K', '2K', '4K'], 'fal-ai/nano-banana-pro': ['1K', '2K', '4K'] };
  if (input.resolution !== undefined && !(tiers[base] ?? []).includes(String(input.resolution))) return `resolution ${String(input.resolution)} is not a tier of ${base}`;
  const edit = endpoint.endsWith('/edit');
  if (edit !== Array.isArray(input.image_urls) || (edit && (input.image_urls as unknown[]).length === 0)) return 'image_urls: required on /edit only';
  return undefined;
}
const REQUEST_ID = '8f3c2a71-5b9e-4d0a-9c1e-2f6b7a8d9e01';
const QUEUE = `${FAL_DEFAULT_BASE_URL}/fal-ai/nano-banana/requests/${REQUEST_ID}`;
const REF: UpstreamTaskRef = { id: REQUEST_ID, statusUrl: `${QUEUE}/status`, responseUrl: QUEUE };
const RESULT_FOLLOW: UpstreamRequest = { method: 'GET', path: QUEUE, acceptStatuses: FAL_FAILED_RESULT_STATUSES };
const REF_A = 'https://images.example.com/in/a.png';
const CONTENT_POLICY =
  'fal could not generate the image (HTTP 422): prompt: The content could not be processed because it contained material flagged by a content checker.';

function fixture(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Record<string, unknown>;
}

runAdapterConformance({
  adapter: new FalAdapter(),
  fixturesDir: DIR,
  ref: REF,
  goldens: goldenCasesFromFiles(join(__dirname, '../../fixtures/platform'), 'fal'),
  submitFixtures: [{ file: 'submit.accepted.json', expected: REF }],
  pollFixtures: [
    { file: 'status.in-queue.json', expected: { status: 'queued', progress: '0%', result_url: null, error: null } },
    { file: 'status.in-progress.json', expected: { status: 'processing', progress: '0%', result_url: null, error: null } },
    { file: 'status.completed.json', expected: { follow: RESULT_FOLLOW } },
    {
      file: 'result.succeeded.json',
      expected: {
        status: 'succeeded',
        progress: '100%',
        result_url: 'https://v3.fal.media/files/rabbit/Xq1b2C3d4E5f6G7h8I9j0_output.png',
        result_urls: ['https://v3.fal.media/files/rabbit/Xq1b2C3d4E5f6G7h8I9j0_output.png'],
        error: null,
      },
    },
    {
      file: 'result.succeeded-multiple.json',
      expected: {
        status: 'succeeded',
        progress: '100%',
        result_url: 'https://v3.fal.media/files/koala/A1b2C3d4E5f6G7h8I9j0k_0.jpeg',
        result_urls: [
          'https://v3.fal.media/files/koala/A1b2C3d4E5f6G7h8I9j0k_0.jpeg',
          'https://v3.fal.media/files/koala/L1m2N3o4P5q6R7s8T9u0v_1.jpeg',
          'https://v3.fal.media/files/koala/W1x2Y3z4A5b6C7d8E9f0g_2.jpeg',
        ],
        error: null,
      },
    },
    {
      file: 'result.failed-422.json',
      httpStatus: 422,
      expected: { status: 'failed', progress: '100%', result_url: null, error: { code: 'content_policy_violation', message: CONTENT_POLICY } },
    },
    {
      file: 'result.failed-500.json',
      httpStatus: 500,
      expected: {
        status: 'failed',
        progress: '100%',
        result_url: null,
        error: {
          code: 'generation_failed',
          message: 'fal could not generate the image (HTTP 500): Internal error while generating the image: the model backend returned no candidates.',
        },
      },
    },
    // fal's request errors after COMPLETED (docs "request-errors"): a verdict with fal's error_type and detail.
    {
      file: 'result.failed-504-request-timeout.json',
      httpStatus: 504,
      expected: { status: 'failed', progress: '100%', result_url: null, error: { code: 'request_timeout', message: 'fal could not generate the image (HTTP 504): Request timed out' } },
    },
    {
      file: 'result.failed-503-runner-scheduling.json',
      httpStatus: 503,
      expected: {
        status: 'failed',
        progress: '100%',
        result_url: null,
        error: { code: 'runner_scheduling_failure', message: 'fal could not generate the image (HTTP 503): No runner could be allocated to handle the request' },
      },
    },
    {
      file: 'result.failed-499-client-cancelled.json',
      httpStatus: 499,
      expected: {
        status: 'failed',
        progress: '100%',
        result_url: null,
        error: { code: 'client_cancelled', message: 'fal could not generate the image (HTTP 499): The request was cancelled by the client.' },
      },
    },
  ],
  malformedFixtures: [
    { file: 'submit.malformed.json', operation: 'submit' },
    { file: 'status.malformed.json', operation: 'poll' },
    { file: 'result.malformed.json', operation: 'poll' },
  ],
  warningCases: [
    {
      name: 'a seed with gpt-image-2 (fal takes none) is not sent and is reported',
      request: { model: 'gpt-image-2', prompt: 'a cat', size: '1024x1024', seed: 11 },
      warning: { code: 'parameter_ignored', param: 'seed' },
    },
  ],
  refusals: [
    { name: 'NanoBananaPro-8K (fal has no 8K tier)', request: { model: 'NanoBananaPro-8K', prompt: 'a cat' } },
    { name: 'gpt-image-2 with n = 5 (more than fal returns per call)', request: { model: 'gpt-image-2', prompt: 'a cat', size: '1024x1024', n: 5 } },
  ],
  upstreamRejects: falRejects,
});

describe('fal adapter specifics', () => {
  const fal = new FalAdapter();

  it('authenticates with "Authorization: Key <key>"', () => {
    expect(fal.authHeaders('fal-key-123')).toStrictEqual({ Authorization: 'Key fal-key-123' });
  });

  it('polls the absolute status URL fal returned', () => {
    expect(fal.buildPoll(REF)).toStrictEqual({ method: 'GET', path: `${QUEUE}/status` });
  });

  it('a handle without a status URL is refused, not guessed', () => {
    expect(() => fal.buildPoll({ id: REQUEST_ID })).toThrow(expect.objectContaining({ code: 'upstream_error' }));
  });

  it('sends the input itself as the body, with no {model, input} wrapper and nothing beyond the mapped fields', () => {
    const intent = normalizePlatformRequest({ body: { model: 'NanoBanana2-1K', prompt: 'p', quality: 'high' } });
    const built = fal.buildSubmit(intent);
    expect(built.request.body).toStrictEqual({ prompt: 'p', num_images: 1, output_format: 'png', resolution: '1K' });
    expect(intent.warnings.map((w) => w.code)).toStrictEqual(['quality_ignored']);
  });

  it('COMPLETED without a stored response URL follows the one in the status body', () => {
    const outcome = fal.parsePoll({ status: 200, body: fixture('status.completed.json') }, { id: REQUEST_ID, statusUrl: `${QUEUE}/status` });
    expect(outcome).toStrictEqual({ kind: 'follow', request: RESULT_FOLLOW });
  });

  it('an unknown queue status counts as still running', () => {
    const outcome = fal.parsePoll({ status: 200, body: { status: 'IN_RETRY' } }, REF);
    expect(outcome).toStrictEqual({ kind: 'state', state: { status: 'processing', images: [] } });
  });

  it('a result with no image is a failed task, not a success', () => {
    const outcome = fal.parsePoll({ status: 200, body: { images: [], description: 'I cannot draw that.' } }, REF);
    expect(outcome).toStrictEqual({
      kind: 'state',
      state: { status: 'failed', progress: 100, images: [], error: { code: 'no_output', message: 'The upstream finished without returning any image.' } },
    });
  });

  it('a 5xx result that is not fal-shaped is a retryable upstream error, not a failed task', () => {
    let thrown: unknown;
    try {
      fal.parsePoll({ status: 500, body: '<html>Bad gateway</html>' }, REF);
    } catch (err) {
      thrown = err;
    }
    expect(isBridgeError(thrown)).toBe(true);
    expect((thrown as UpstreamError).code).toBe('upstream_error');
    expect((thrown as UpstreamError).kind).toBe('server_error');
    expect((thrown as UpstreamError).isRetryable).toBe(true);
  });

  it('describeError reads fal submit errors (string and pydantic detail)', () => {
    expect(fal.describeError({ detail: 'Unauthorized: invalid key' })).toBe('Unauthorized: invalid key');
    expect(fal.describeError({ detail: [{ loc: ['body', 'num_images'], msg: 'ensure this value is less than or equal to 4', type: 'value_error' }] })).toBe(
      'num_images: ensure this value is less than or equal to 4',
    );
    expect(fal.describeError({ message: 'other shape' })).toBeUndefined();
  });

  /** Drives one poll the way the task service does: first request, then follow-ups until a state. */
  function drivePoll(ref: UpstreamTaskRef, answer: (request: UpstreamRequest) => UpstreamResponse): { requests: UpstreamRequest[]; outcome: PollOutcome } {
    const requests: UpstreamRequest[] = [];
    let request = fal.buildPoll(ref);
    for (;;) {
      requests.push(request);
      const outcome = fal.parsePoll(answer(request), ref);
      if (outcome.kind === 'state') return { requests, outcome };
      request = outcome.request;
    }
  }

  it('submit -> COMPLETED -> follow -> result: succeeded with the result images', () => {
    const ref = refOf(fal.parseSubmit({ status: 200, body: fixture('submit.accepted.json') }));
    const { requests, outcome } = drivePoll(ref, (req) =>
      req.path.endsWith('/status') ? { status: 200, body: fixture('status.completed.json') } : { status: 200, body: fixture('result.succeeded-multiple.json') },
    );
    expect(requests).toStrictEqual([{ method: 'GET', path: `${QUEUE}/status` }, RESULT_FOLLOW]);
    expect(outcome.kind === 'state' && outcome.state.status).toBe('succeeded');
    expect(outcome.kind === 'state' && urlsOf(outcome.state.images)).toStrictEqual([
      'https://v3.fal.media/files/koala/A1b2C3d4E5f6G7h8I9j0k_0.jpeg',
      'https://v3.fal.media/files/koala/L1m2N3o4P5q6R7s8T9u0v_1.jpeg',
      'https://v3.fal.media/files/koala/W1x2Y3z4A5b6C7d8E9f0g_2.jpeg',
    ]);
  });

  it('submit -> COMPLETED -> follow -> 422 result: failed with fal\'s reason', () => {
    const ref = refOf(fal.parseSubmit({ status: 200, body: fixture('submit.accepted.json') }));
    const { requests, outcome } = drivePoll(ref, (req) =>
      req.path.endsWith('/status') ? { status: 200, body: fixture('status.completed.json') } : { status: 422, body: fixture('result.failed-422.json') },
    );
    expect(requests).toHaveLength(2);
    expect(outcome).toStrictEqual({
      kind: 'state',
      state: { status: 'failed', progress: 100, images: [], error: { code: 'content_policy_violation', message: CONTENT_POLICY } },
    });
  });

  it('image details are kept for the result (content type and size)', () => {
    const outcome = fal.parsePoll({ status: 200, body: fixture('result.succeeded.json') }, REF);
    expect(outcome).toStrictEqual({
      kind: 'state',
      state: {
        status: 'succeeded',
        progress: 100,
        images: [{ url: 'https://v3.fal.media/files/rabbit/Xq1b2C3d4E5f6G7h8I9j0_output.png', contentType: 'image/png', width: 1024, height: 1024 }],
      },
    });
  });
});

describe('fal adapter over the wire (shared upstream client, nock)', () => {
  const fal = new FalAdapter();
  const client = new HttpUpstreamClient();
  const channel: Channel = { id: 'fal-test', adapterId: 'fal', baseUrl: FAL_DEFAULT_BASE_URL, apiKey: 'fal-secret-key', priority: 0, weight: 1 };
  const statusPath = `/fal-ai/nano-banana/requests/${REQUEST_ID}/status`;
  const resultPath = `/fal-ai/nano-banana/requests/${REQUEST_ID}`;

  afterEach(() => {
    nock.cleanAll();
  });

  afterAll(async () => {
    await client.close();
  });

  /** Submit, then poll once (following as the adapter asks) through the real client. */
  async function submitAndPoll(intentBody: Record<string, unknown>): Promise<PollOutcome> {
    const built = fal.buildSubmit(normalizePlatformRequest({ body: intentBody }));
    const ref = refOf(fal.parseSubmit(await client.send(channel, fal, built.request, 'submit')));
    let request = fal.buildPoll(ref);
    for (;;) {
      const outcome = fal.parsePoll(await client.send(channel, fal, request, 'poll'), ref);
      if (outcome.kind === 'state') return outcome;
      request = outcome.request;
    }
  }

  it('edit submit -> status COMPLETED -> result: succeeded; the key travels only as "Authorization: Key"', async () => {
    const scope = nock(FAL_DEFAULT_BASE_URL, { reqheaders: { authorization: 'Key fal-secret-key' } })
      .post('/fal-ai/nano-banana/edit', { prompt: 'make it blue', image_urls: [REF_A], num_images: 1, output_format: 'png' })
      .reply(200, fixture('submit.accepted.json'))
      .get(statusPath)
      .reply(200, fixture('status.completed.json'))
      .get(resultPath)
      .reply(200, fixture('result.succeeded.json'));
    const outcome = await submitAndPoll({ model: 'NanoBanana', prompt: 'make it blue', image: REF_A });
    expect(outcome.kind === 'state' && outcome.state.status).toBe('succeeded');
    expect(outcome.kind === 'state' && urlsOf(outcome.state.images)).toStrictEqual(['https://v3.fal.media/files/rabbit/Xq1b2C3d4E5f6G7h8I9j0_output.png']);
    scope.done();
  });

  it('a 422 result reaches the adapter (acceptStatuses) and becomes a failed task with fal\'s reason', async () => {
    const scope = nock(FAL_DEFAULT_BASE_URL, { reqheaders: { authorization: 'Key fal-secret-key' } })
      .post('/fal-ai/nano-banana', { prompt: 'a cat', num_images: 1, output_format: 'png' })
      .reply(200, fixture('submit.accepted.json'))
      .get(statusPath)
      .reply(200, fixture('status.completed.json'))
      .get(resultPath)
      .reply(422, fixture('result.failed-422.json'));
    const outcome = await submitAndPoll({ model: 'NanoBanana', prompt: 'a cat' });
    expect(outcome).toStrictEqual({
      kind: 'state',
      state: { status: 'failed', progress: 100, images: [], error: { code: 'content_policy_violation', message: CONTENT_POLICY } },
    });
    scope.done();
  });

  it.each([
    [504, 'result.failed-504-request-timeout.json', 'request_timeout', 'Request timed out'],
    [503, 'result.failed-503-runner-scheduling.json', 'runner_scheduling_failure', 'No runner could be allocated to handle the request'],
  ])('a COMPLETED job whose result answers %i with fal\'s error body is a verdict: failed with error_type and detail', async (status, file, code, detail) => {
    const scope = nock(FAL_DEFAULT_BASE_URL)
      .post('/fal-ai/nano-banana', { prompt: 'a cat', num_images: 1, output_format: 'png' })
      .reply(200, fixture('submit.accepted.json'))
      .get(statusPath)
      .reply(200, fixture('status.completed.json'))
      .get(resultPath)
      .reply(status, fixture(file), { 'X-Fal-Error-Type': code });
    const outcome = await submitAndPoll({ model: 'NanoBanana', prompt: 'a cat' });
    expect(outcome).toStrictEqual({ kind: 'state', state: { status: 'failed', progress: 100, images: [], error: { code, message: `fal could not generate the image (HTTP ${status}): ${detail}` } } });
    scope.done();
  });

  it.each([
    [429, 'rate_limited', true],
    [401, 'auth', false],
  ])('a result answering %i concerns our key or rate, not the job: an upstream error (%s), no verdict', async (status, kind, retryable) => {
    const scope = nock(FAL_DEFAULT_BASE_URL)
      .post('/fal-ai/nano-banana', { prompt: 'a cat', num_images: 1, output_format: 'png' })
      .reply(200, fixture('submit.accepted.json'))
      .get(statusPath)
      .reply(200, fixture('status.completed.json'))
      .get(resultPath)
      // The client retries a retryable poll error (429) up to its default 3 attempts; each gets the same answer.
      .times(status === 429 ? DEFAULT_UPSTREAM_CLIENT_OPTIONS.retry.maxAttempts : 1)
      .reply(status, { detail: 'Too many requests or bad key' });
    const thrown = await submitAndPoll({ model: 'NanoBanana', prompt: 'a cat' }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(thrown).toMatchObject({ kind, upstreamStatus: status });
    expect((thrown as UpstreamError).isRetryable).toBe(retryable);
    scope.done();
  });
});
