/**
 * The Replicate adapter: the shared conformance suite with Replicate's fixtures and the golden files
 * (fixtures/platform/<model>.<case>.replicate.*), plus Replicate specifics: the exact create request, a
 * `Prefer: wait` answer read as a final state, every prediction status, output as one URI or a list, and
 * Replicate's problem+json error bodies through the shared client (422, 429, 401, 402).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { ReplicateAdapter } from '../../adapters/replicate/replicate-adapter';
import { REPLICATE_DEFAULT_BASE_URL } from '../../adapters/replicate/replicate-api';
import { adapterConformanceChecks, runAdapterConformance, type RefusalCase } from '../../src/testing/adapter-conformance';
import { goldenCasesFromFiles } from '../../src/testing/golden-files';
import type { UpstreamRequest, UpstreamTaskRef } from '../../src/adapter-kit/contract';
import { normalizePlatformRequest } from '../../src/intent/normalize';
import type { Channel } from '../../src/routing/channels';
import type { UpstreamError } from '../../src/platform/errors';
import { HttpUpstreamClient } from '../../src/upstream/http-upstream-client';
import { refOf, urlsOf } from '../support/outcomes';

const DIR = join(__dirname, '../../fixtures/replicate');
const GOLDENS = join(__dirname, '../../fixtures/platform');
const ID = 'q7dk3hbz2drj00cpxq8r6xyyqm';
const GET_URL = `${REPLICATE_DEFAULT_BASE_URL}/v1/predictions/${ID}`;
const REF: UpstreamTaskRef = { id: ID, getUrl: GET_URL };
const OUT = 'https://replicate.delivery/xezq/fF2mPq7Rk1sLbJzT9aWc3YvHn0GdXe4uK8oM5iQ6tBlN/tmpa1b2c3d4.jpg';

function fixture(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Record<string, unknown>;
}

/** The refusal goldens of this adapter (fixtures/platform/<model>.<case>.replicate.*): the kit checks nothing is built. */
function refusalGoldens(): RefusalCase[] {
  return readdirSync(GOLDENS)
    .filter((f) => f.endsWith('.replicate.upstream.json'))
    .sort()
    .map((f) => f.slice(0, -'.upstream.json'.length))
    .filter((name) => 'error' in (JSON.parse(readFileSync(join(GOLDENS, `${name}.upstream.json`), 'utf8')) as object))
    .map((name) => ({ name, request: JSON.parse(readFileSync(join(GOLDENS, `${name}.request.json`), 'utf8')) as Record<string, unknown> }));
}

/**
 * What Replicate's published model schemas accept (written from the pages cited in fixtures/replicate/README.md,
 * not from the adapter's capabilities): the three Google models under /v1/models/google/<name>/predictions, a
 * body `{ input }` with only the schema's fields, a prompt, image_input an array of URIs (at most 14 on
 * nano-banana-2 and nano-banana-pro), the aspect_ratio, resolution and output_format options of each model.
 */
function replicateRejects(request: UpstreamRequest): string | undefined {
  const match = /^\/v1\/models\/google\/(nano-banana|nano-banana-2|nano-banana-pro)\/predictions$/.exec(request.path);
  if (request.method !== 'POST' || !match) return `${request.method} ${request.path} is not a prediction of a served model`;
  const model = match[1] as 'nano-banana' | 'nano-banana-2' | 'nano-banana-pro';
  const body = request.body as Record<string, unknown>;
  if (Object.keys(body).join() !== 'input') return 'the body is { input } (model-name predictions take no version)';
  const input = body.input as Record<string, unknown>;
  const fields: Record<typeof model, string[]> = {
    'nano-banana': ['prompt', 'image_input', 'aspect_ratio', 'output_format'],
    'nano-banana-2': ['prompt', 'image_input', 'aspect_ratio', 'resolution', 'google_search', 'image_search', 'output_format'],
    'nano-banana-pro': ['prompt', 'image_input', 'aspect_ratio', 'resolution', 'output_format', 'safety_filter_level'],
  };
  const unknown = Object.keys(input).filter((k) => !fields[model].includes(k));
  if (unknown.length > 0) return `unknown input field(s) ${unknown.join(', ')}`;
  if (typeof input.prompt !== 'string' || input.prompt === '') return 'prompt: required';
  if (input.image_input !== undefined) {
    if (!Array.isArray(input.image_input) || !input.image_input.every((u) => typeof u === 'string')) return 'image_input: array of URIs';
    if (model !== 'nano-banana' && input.image_input.length > 14) return 'image_input: up to 14 images';
  }
  const gemini = ['match_input_image', '1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9', '21:9'];
  const ratios = model === 'nano-banana-2' ? [...gemini, '1:4', '4:1', '1:8', '8:1'] : gemini;
  if (input.aspect_ratio !== undefined && !ratios.includes(String(input.aspect_ratio))) return `aspect_ratio ${String(input.aspect_ratio)} is not an option of google/${model}`;
  if (input.resolution !== undefined && (model === 'nano-banana' || !['1K', '2K', '4K'].includes(String(input.resolution)))) return `resolution ${String(input.resolution)} is not an option of google/${model}`;
  if (input.output_format !== undefined && !['png', 'jpg'].includes(String(input.output_format))) return 'output_format: png or jpg';
  return undefined;
}

const goldens = goldenCasesFromFiles(GOLDENS, 'replicate');
const refusals = refusalGoldens();
const failed = (code: string, message: string) => ({ status: 'failed' as const, progress: '100%', result_url: null, error: { code, message } });

runAdapterConformance({
  adapter: new ReplicateAdapter(),
  fixturesDir: DIR,
  ref: REF,
  goldens,
  submitFixtures: [
    { file: 'submit.starting.json', httpStatus: 201, expected: REF },
    { file: 'submit.wait-processing.json', httpStatus: 201, expected: REF },
    { file: 'submit.wait-succeeded.json', httpStatus: 201, expected: { final: { status: 'succeeded', progress: '100%', result_url: OUT, result_urls: [OUT], error: null } } },
    {
      file: 'submit.wait-failed.json',
      httpStatus: 201,
      expected: {
        final: failed('generation_failed', "Replicate could not generate the image: Prediction blocked: the prompt was refused by the model's safety filter (safety_filter_level block_only_high)."),
      },
    },
  ],
  pollFixtures: [
    { file: 'poll.starting.json', expected: { status: 'queued', progress: '0%', result_url: null, error: null } },
    { file: 'poll.processing.json', expected: { status: 'processing', progress: '0%', result_url: null, error: null } },
    { file: 'poll.succeeded.json', expected: { status: 'succeeded', progress: '100%', result_url: OUT, result_urls: [OUT], error: null } },
    {
      file: 'poll.succeeded-array.json',
      expected: {
        status: 'succeeded',
        progress: '100%',
        result_url: 'https://replicate.delivery/xezq/aaaa1111bbbb2222cccc3333dddd4444eeee5555ffff/out-0.webp',
        result_urls: ['https://replicate.delivery/xezq/aaaa1111bbbb2222cccc3333dddd4444eeee5555ffff/out-0.webp', 'https://replicate.delivery/xezq/gggg6666hhhh7777iiii8888jjjj9999kkkk0000llll/out-1.webp'],
        error: null,
      },
    },
    { file: 'poll.succeeded-no-output.json', expected: failed('no_output', 'The upstream finished without returning any image.') },
    { file: 'poll.failed.json', expected: failed('generation_failed', 'Replicate could not generate the image: E6716: Timeout starting prediction') },
    { file: 'poll.canceled.json', expected: failed('canceled', 'The Replicate prediction was canceled (by its owner, or past its deadline after it started).') },
    { file: 'poll.aborted.json', expected: failed('aborted', 'The Replicate prediction was aborted: it passed its deadline before it started (Replicate does not charge it).') },
  ],
  malformedFixtures: [
    { file: 'submit.malformed.json', operation: 'submit' },
    { file: 'poll.malformed.json', operation: 'poll' },
  ],
  warningCases: [{ name: 'a seed (Replicate\'s Nano models take none) is not sent and is reported', request: { model: 'NanoBanana', prompt: 'a cat', seed: 11 }, warning: { code: 'parameter_ignored', param: 'seed' } }],
  refusals: [...refusals, { name: 'gpt-image-2 (not served through Replicate)', request: { model: 'gpt-image-2', prompt: 'a cat', size: '1024x1024' } }, { name: 'NanoBananaPro-8K', request: { model: 'NanoBananaPro-8K', prompt: 'a cat' } }],
  upstreamRejects: replicateRejects,
});

describe('Replicate adapter specifics', () => {
  const replicate = new ReplicateAdapter();

  it('reads its goldens from the golden files (built and refused cases)', () => {
    expect(goldens.length).toBeGreaterThanOrEqual(5);
    expect(refusals.length).toBeGreaterThanOrEqual(4);
    // The kit's checks include one per golden file.
    const checks = adapterConformanceChecks({ adapter: replicate, fixturesDir: DIR, ref: REF, goldens, submitFixtures: [], pollFixtures: [], malformedFixtures: [], upstreamRejects: replicateRejects });
    expect(checks.filter((c) => c.kind === 'golden').map((c) => c.name)).toStrictEqual(goldens.map((g) => g.name));
  });

  it('authenticates with "Authorization: Bearer <token>"', () => {
    expect(replicate.authHeaders('r8_example')).toStrictEqual({ Authorization: 'Bearer r8_example' });
  });

  it('creates a prediction of the model by name: exactly { input }, no version, no Prefer header by default', () => {
    const built = replicate.buildSubmit(normalizePlatformRequest({ body: { model: 'NanoBananaPro-4K', prompt: 'p', aspect_ratio: '21:9', output_format: 'jpeg' } }));
    expect(built.request).toStrictEqual({ method: 'POST', path: '/v1/models/google/nano-banana-pro/predictions', body: { input: { prompt: 'p', output_format: 'jpg', aspect_ratio: '21:9', resolution: '4K' } } });
  });

  it('polls urls.get as Replicate returned it, or the documented path for a handle without it', () => {
    expect(replicate.buildPoll(REF)).toStrictEqual({ method: 'GET', path: GET_URL });
    expect(replicate.buildPoll({ id: ID })).toStrictEqual({ method: 'GET', path: `/v1/predictions/${ID}` });
  });

  it('an unknown status counts as still running', () => {
    expect(replicate.parsePoll({ status: 200, body: { ...fixture('poll.processing.json'), status: 'warming_up' } })).toStrictEqual({ kind: 'state', state: { status: 'processing', images: [] } });
  });

  it('a Prefer: wait answer in time is the final state with the output URL', () => {
    expect(replicate.parseSubmit({ status: 201, body: fixture('submit.wait-succeeded.json') })).toStrictEqual({
      kind: 'final',
      state: { status: 'succeeded', progress: 100, images: [{ url: OUT }] },
    });
  });

  it('describeError reads problem+json: invalid_fields of a 422, else title and detail', () => {
    expect(replicate.describeError(fixture('error.422-invalid-input.json'))).toBe(
      'Input validation failed: aspect_ratio: aspect_ratio must be one of the following: "match_input_image", "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"',
    );
    expect(replicate.describeError(fixture('error.402-insufficient-credit.json'))).toBe(
      'Insufficient credit: You have insufficient credit to run this model. Go to https://replicate.com/account/billing#billing to purchase credit. Once you purchase credit, please wait a few minutes before trying again.',
    );
    expect(replicate.describeError({ message: 'other shape' })).toBeUndefined();
  });
});

describe('Replicate adapter over the wire (shared upstream client, nock)', () => {
  const replicate = new ReplicateAdapter();
  const client = new HttpUpstreamClient();
  const channel: Channel = { id: 'replicate-test', adapterId: 'replicate', baseUrl: REPLICATE_DEFAULT_BASE_URL, apiKey: 'r8_secret-token-0001', priority: 0, weight: 1 };
  const CREATE = '/v1/models/google/nano-banana/predictions';
  const INPUT = { input: { prompt: 'a cat', output_format: 'png' } };

  afterEach(() => {
    nock.cleanAll();
  });

  afterAll(async () => {
    await client.close();
  });

  async function submit(): Promise<unknown> {
    const built = replicate.buildSubmit(normalizePlatformRequest({ body: { model: 'NanoBanana', prompt: 'a cat' } }));
    return client.send(channel, replicate, built.request, 'submit').then(
      (response) => replicate.parseSubmit(response),
      (err: unknown) => err,
    );
  }

  it('create (201 starting) -> poll urls.get -> succeeded; the token travels only as "Authorization: Bearer"', async () => {
    const scope = nock(REPLICATE_DEFAULT_BASE_URL, { reqheaders: { authorization: 'Bearer r8_secret-token-0001' }, badheaders: ['prefer'] })
      .post(CREATE, INPUT)
      .reply(201, fixture('submit.starting.json'))
      .get(`/v1/predictions/${ID}`)
      .reply(200, fixture('poll.succeeded.json'));
    const ref = refOf((await submit()) as never);
    expect(ref).toStrictEqual(REF);
    const outcome = replicate.parsePoll(await client.send(channel, replicate, replicate.buildPoll(ref), 'poll'));
    expect(outcome.kind === 'state' && urlsOf(outcome.state.images)).toStrictEqual([OUT]);
    scope.done();
  });

  it('422 input validation: upstream_rejected quoting the invalid field, not retried', async () => {
    const scope = nock(REPLICATE_DEFAULT_BASE_URL).post(CREATE, INPUT).reply(422, fixture('error.422-invalid-input.json'), { 'Content-Type': 'application/problem+json' });
    const err = (await submit()) as UpstreamError;
    expect({ code: err.code, kind: err.kind, status: err.upstreamStatus, retryable: err.isRetryable }).toStrictEqual({ code: 'upstream_rejected', kind: 'rejected', status: 422, retryable: false });
    expect(err.message).toBe(
      'upstream replicate-test rejected the request (HTTP 422): Input validation failed: aspect_ratio: aspect_ratio must be one of the following: "match_input_image", "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9".',
    );
    scope.done();
  });

  it('429 throttled with Retry-After: rate_limited with the wait, a submit never re-sent', async () => {
    const scope = nock(REPLICATE_DEFAULT_BASE_URL).post(CREATE, INPUT).once().reply(429, fixture('error.429-throttled.json'), { 'Content-Type': 'application/problem+json', 'Retry-After': '8' });
    const err = (await submit()) as UpstreamError;
    expect({ code: err.code, kind: err.kind, retryAfter: err.retryAfterSeconds, retryable: err.isRetryable }).toStrictEqual({ code: 'upstream_unavailable', kind: 'rate_limited', retryAfter: 8, retryable: true });
    expect(err.message).toBe('upstream replicate-test is rate limiting requests (HTTP 429): Request was throttled: Request was throttled. Your rate limit resets in ~8s. It asked to wait 8 s.');
    scope.done();
  });

  it.each([
    [401, 'error.401-unauthenticated.json', 'Unauthenticated: You did not pass a valid authentication token'],
    [402, 'error.402-insufficient-credit.json', 'Insufficient credit: You have insufficient credit to run this model.'],
  ])('%i: the channel\'s account is refused (auth): the key is never quoted, and another channel may take the task', async (status, file, text) => {
    const scope = nock(REPLICATE_DEFAULT_BASE_URL).post(CREATE, INPUT).reply(status, fixture(file), { 'Content-Type': 'application/problem+json' });
    const err = (await submit()) as UpstreamError;
    expect({ code: err.code, kind: err.kind, status: err.upstreamStatus }).toStrictEqual({ code: 'upstream_error', kind: 'auth', status });
    expect(err.message).toContain(text);
    expect(err.message).not.toContain('r8_secret-token-0001');
    scope.done();
  });
});
