/**
 * The example adapter (pixelforge, an imaginary upstream): the pattern a contributor copies. One call to the
 * conformance kit with its fixtures, plus the few checks that are specific to it.
 */
import { join } from 'node:path';
import { ExampleAdapter } from '../../adapters/example/example-adapter';
import { runAdapterConformance } from '../../src/testing/adapter-conformance';
import { goldenCasesFromFiles } from '../../src/testing/golden-files';
import type { UpstreamRequest } from '../../src/adapter-kit/contract';

const DIR = join(__dirname, '../../fixtures/example');

/**
 * pixelforge's published rules for POST /v2/jobs (adapters/example/example-api.ts), written out here apart from
 * the adapter's capabilities: engines nb-flash (count 1-2) and gi2-low/medium/high (count 1-4), format png or
 * jpeg, width and height 256-2048, no refs.
 */
function pixelforgeRejects(request: UpstreamRequest): string | undefined {
  const body = request.body as Record<string, unknown> | undefined;
  if (request.method !== 'POST' || request.path !== '/v2/jobs' || body === undefined) return 'not POST /v2/jobs with a body';
  const maxCount: Record<string, number> = { 'nb-flash': 2, 'gi2-low': 4, 'gi2-medium': 4, 'gi2-high': 4 };
  const max = maxCount[String(body.engine)];
  if (max === undefined) return `unknown engine ${String(body.engine)}`;
  if (!Number.isInteger(body.count) || (body.count as number) < 1 || (body.count as number) > max) return `count must be 1-${max}`;
  if (body.format !== 'png' && body.format !== 'jpeg') return 'format must be png or jpeg';
  for (const edge of [body.width, body.height]) if (!Number.isInteger(edge) || (edge as number) < 256 || (edge as number) > 2048) return 'width and height must be 256-2048';
  if (body.refs !== undefined) return 'refs are not accepted';
  if (typeof body.text !== 'string' || body.text === '') return 'text is required';
  return undefined;
}
const FILES = 'https://files.pixelforge.example/job_01HZX3K9Q7';

runAdapterConformance({
  adapter: new ExampleAdapter(),
  fixturesDir: DIR,
  ref: { id: 'job_01HZX3K9Q7' },
  goldens: goldenCasesFromFiles(join(__dirname, '../../fixtures/platform'), 'example'),
  submitFixtures: [{ file: 'submit.accepted.json', expected: { id: 'job_01HZX3K9Q7' } }],
  pollFixtures: [
    { file: 'poll.pending.json', expected: { status: 'queued', progress: '0%', result_url: null, error: null } },
    { file: 'poll.working.json', expected: { status: 'processing', progress: '45%', result_url: null, error: null } },
    {
      file: 'poll.done.json',
      expected: { status: 'succeeded', progress: '100%', result_url: `${FILES}/0.png`, result_urls: [`${FILES}/0.png`, `${FILES}/1.png`], error: null },
    },
    {
      file: 'poll.done-no-files.json',
      expected: { status: 'failed', progress: '100%', result_url: null, error: { code: 'no_output', message: 'The upstream finished without returning any image.' } },
    },
    {
      file: 'poll.error.json',
      expected: { status: 'failed', progress: '100%', result_url: null, error: { code: 'generation_failed', message: 'engine overloaded, job abandoned' } },
    },
  ],
  malformedFixtures: [
    { file: 'submit.malformed.json', operation: 'submit' },
    { file: 'poll.malformed.json', operation: 'poll' },
  ],
  warningCases: [
    { name: 'a seed (pixelforge takes none) is not sent and is reported', request: { model: 'NanoBanana', prompt: 'a fox', seed: 5 }, warning: { code: 'parameter_ignored', param: 'seed' } },
  ],
  refusals: [
    { name: 'image2image (pixelforge is text2image only)', request: { model: 'NanoBanana', prompt: 'a fox', image: 'https://images.example.com/a.png' } },
    { name: 'webp output', request: { model: 'NanoBanana', prompt: 'a fox', output_format: 'webp' } },
    { name: 'NanoBanana with n = 3 (pixelforge makes at most 2)', request: { model: 'NanoBanana', prompt: 'a fox', n: 3 } },
    { name: 'NanoBanana2-1K (family not served)', request: { model: 'NanoBanana2-1K', prompt: 'a fox' } },
  ],
  upstreamRejects: pixelforgeRejects,
});

describe('example adapter specifics', () => {
  const example = new ExampleAdapter();

  it('authenticates with the X-Api-Key header', () => {
    expect(example.authHeaders('pf-key')).toStrictEqual({ 'X-Api-Key': 'pf-key' });
  });

  it('encodes the job id into the poll path', () => {
    expect(example.buildPoll({ id: 'job/1 2' })).toStrictEqual({ method: 'GET', path: '/v2/jobs/job%2F1%202' });
  });

  it('reads a structured failure code and message', () => {
    const outcome = example.parsePoll({ status: 200, body: { state: 'error', failure: { code: 'nsfw_blocked', message: 'prompt blocked' } } });
    expect(outcome).toStrictEqual({ kind: 'state', state: { status: 'failed', progress: 100, images: [], error: { code: 'nsfw_blocked', message: 'prompt blocked' } } });
  });

  it('describeError reads { error: { message } }', () => {
    expect(example.describeError({ error: { message: 'count must be at most 2' } })).toBe('count must be at most 2');
    expect(example.describeError({ detail: 'other' })).toBeUndefined();
  });
});
