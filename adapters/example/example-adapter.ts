/**
 * The example adapter for pixelforge, an IMAGINARY upstream: the smallest complete adapter, to copy.
 * Pure functions only; the shared upstream client sends what these build and hands back what it got.
 */
import { injectable } from 'tsyringe';
import type { BuiltSubmit, ImageAdapter, PollOutcome, SubmitOutcome, UpstreamRequest, UpstreamResponse, UpstreamTaskRef, UpstreamTaskState } from '../../src/adapter-kit/contract';
import { submitFromParamMap } from '../../src/adapter-kit/param-map';
import { clampedProgress, finishedWithImages } from '../../src/adapter-kit/task-state';
import { parseOptional, parseUpstreamBody } from '../../src/adapter-kit/upstream-schema';
import type { ImageIntent } from '../../src/intent/intent';
import { EXAMPLE_PATHS, exampleAuthHeaders, exampleErrorSchema, exampleJobSchema, exampleSubmitResponseSchema, type ExampleJob } from './example-api';
import { EXAMPLE_CAPABILITIES, EXAMPLE_POLL_CADENCE } from './example-models';
import { exampleParamMap } from './example-param-map';

@injectable()
export class ExampleAdapter implements ImageAdapter {
  readonly id = 'example';
  readonly capabilities = EXAMPLE_CAPABILITIES;
  readonly pollCadence = EXAMPLE_POLL_CADENCE;

  authHeaders(apiKey: string): Record<string, string> {
    return exampleAuthHeaders(apiKey);
  }

  buildSubmit(intent: ImageIntent): BuiltSubmit {
    return submitFromParamMap(exampleParamMap, intent, (body) => ({ method: 'POST', path: EXAMPLE_PATHS.submit, body }));
  }

  parseSubmit(response: UpstreamResponse): SubmitOutcome {
    const { id } = parseUpstreamBody(exampleSubmitResponseSchema, response, "pixelforge's submit response");
    return { kind: 'handle', ref: { id } };
  }

  buildPoll(ref: UpstreamTaskRef): UpstreamRequest {
    return { method: 'GET', path: EXAMPLE_PATHS.job(ref.id) };
  }

  parsePoll(response: UpstreamResponse): PollOutcome {
    return { kind: 'state', state: exampleJobToState(parseUpstreamBody(exampleJobSchema, response, "pixelforge's job response")) };
  }

  describeError(body: unknown): string | undefined {
    return parseOptional(exampleErrorSchema, body)?.error.message;
  }
}

/** pending -> queued, working -> processing, done -> succeeded (failed without files), error -> failed. */
export function exampleJobToState(job: ExampleJob): UpstreamTaskState {
  const progress = clampedProgress(job.percent);
  const withProgress = progress !== undefined ? { progress } : {};
  switch (job.state) {
    case 'pending':
      return { status: 'queued', images: [], ...withProgress };
    case 'done':
      return finishedWithImages((job.files ?? []).map((f) => ({ url: f.href })));
    case 'error': {
      const failure = job.failure;
      const message = typeof failure === 'string' ? failure : failure?.message;
      const code = typeof failure === 'object' && failure?.code ? failure.code : 'generation_failed';
      return { status: 'failed', progress: 100, images: [], error: { code, message: message || 'pixelforge reported an error without a reason.' } };
    }
    default:
      // 'working', and any state pixelforge adds later: still running.
      return { status: 'processing', images: [], ...withProgress };
  }
}
