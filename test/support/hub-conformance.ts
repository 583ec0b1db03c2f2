/**
 * The hub adapter's conformance options: the golden platform -> hub pairs of fixtures/platform (each must equal
 * the exact upstream request), the hub poll fixtures of fixtures/hub mapped to the exact platform task, and the
 * hub's rules as the sandbox hub enforces them. Used by test/adapters/hub.test.ts and, with broken adapters, by
 * test/testing/adapter-conformance.test.ts.
 */
import { join } from 'node:path';
import { HubAdapter } from '../../adapters/hub/hub-adapter';
import { validateSandboxSubmit } from '../../src/sandbox/sandbox-models';
import type { AdapterConformanceOptions } from '../../src/testing/adapter-conformance';
import { goldenCasesFromFiles } from '../../src/testing/golden-files';
import type { ImageAdapter, UpstreamRequest } from '../../src/adapter-kit/contract';

const HUB_DIR = join(__dirname, '../../fixtures/hub');

/** The hub's rules as the sandbox hub enforces them (src/sandbox/sandbox-models.ts), not the adapter's capabilities. */
function hubRejects(request: UpstreamRequest): string | undefined {
  if (request.method !== 'POST' || request.path !== '/hub/v1/tasks') return `${request.method} ${request.path} is not the hub's submit`;
  const verdict = validateSandboxSubmit(request.body);
  return verdict.ok ? undefined : verdict.problems.map((p) => `${p.loc.join('.')}: ${p.msg}`).join('; ');
}
const PLATFORM_DIR = join(__dirname, '../../fixtures/platform');
const CDN = 'https://cdn.hub.example/outputs/2026/11/25';

// Goldens of other adapters and refusal goldens run in test/translation/golden.test.ts.
const goldens = goldenCasesFromFiles(PLATFORM_DIR, 'hub');

/** The options for `adapter` (default: a fresh HubAdapter). */
export function hubConformanceOptions(adapter: ImageAdapter = new HubAdapter()): AdapterConformanceOptions {
  return {
    adapter,
    fixturesDir: HUB_DIR,
    ref: { id: 'hub_tsk_7c1f2e9a40b84d1b' },
    goldens,
    submitFixtures: [{ file: 'submit.accepted.json', expected: { id: 'hub_tsk_7c1f2e9a40b84d1b' } }],
    pollFixtures: [
      { file: 'poll.queued.json', expected: { status: 'queued', progress: '0%', result_url: null, error: null } },
      { file: 'poll.running.json', expected: { status: 'processing', progress: '60%', result_url: null, error: null } },
      {
        file: 'poll.succeeded.json',
        expected: { status: 'succeeded', progress: '100%', result_url: `${CDN}/7c1f2e9a-0.png`, result_urls: [`${CDN}/7c1f2e9a-0.png`], error: null },
      },
      {
        file: 'poll.succeeded-multiple.json',
        expected: {
          status: 'succeeded',
          progress: '100%',
          result_url: `${CDN}/51aa03d6-0.webp`,
          result_urls: [`${CDN}/51aa03d6-0.webp`, `${CDN}/51aa03d6-1.webp`, `${CDN}/51aa03d6-2.webp`],
          error: null,
        },
      },
      {
        file: 'poll.unknown-extra-fields.json',
        expected: { status: 'succeeded', progress: '100%', result_url: `${CDN}/2b6d8f1e-0.jpeg`, result_urls: [`${CDN}/2b6d8f1e-0.jpeg`], error: null },
      },
      {
        file: 'poll.failed.json',
        expected: { status: 'failed', progress: '100%', result_url: null, error: { code: 'content_policy_violation', message: 'The request was rejected by the safety filter.' } },
      },
      {
        file: 'poll.ready-no-images.json',
        expected: { status: 'failed', progress: '100%', result_url: null, error: { code: 'no_output', message: 'The upstream finished without returning any image.' } },
      },
    ],
    malformedFixtures: [{ file: 'poll.malformed.json', operation: 'poll' }],
    warningCases: [
      {
        name: 'a seed with gpt-image-2 (the hub model takes none) is not sent and is reported',
        request: { model: 'gpt-image-2', prompt: 'a cat', size: '1024x1024', seed: 3 },
        warning: { code: 'parameter_ignored', param: 'seed' },
      },
    ],
    refusals: [{ name: 'NanoBananaPro-8K (no upstream serves 8K)', request: { model: 'NanoBananaPro-8K', prompt: 'a cat' } }],
    upstreamRejects: hubRejects,
  };
}
