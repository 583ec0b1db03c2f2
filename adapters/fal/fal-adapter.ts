/**
 * The fal adapter: intent -> fal queue submit, fal status/result -> upstream-neutral state. Pure; the shared
 * upstream client does the I/O.
 *
 * A poll is two steps on fal: the status URL says IN_QUEUE / IN_PROGRESS / COMPLETED, and only the result
 * (response URL) says whether a COMPLETED request succeeded. So `parsePoll` answers `follow` for COMPLETED and
 * reads the result when the client hands it back (a result body has `images`, or an error status whose fal
 * error body is the job's verdict).
 */
import { injectable } from 'tsyringe';
import type { BuiltSubmit, ImageAdapter, PollOutcome, SubmitOutcome, UpstreamRequest, UpstreamResponse, UpstreamTaskRef, UpstreamTaskState } from '../../src/adapter-kit/contract';
import { submitFromParamMap } from '../../src/adapter-kit/param-map';
import { finishedWithImages, imageFromFalStyle } from '../../src/adapter-kit/task-state';
import { describeZodProblem, parseOptional, parseUpstreamBody } from '../../src/adapter-kit/upstream-schema';
import type { ImageIntent } from '../../src/intent/intent';
import { UpstreamError } from '../../src/platform/errors';
import {
  FAL_FAILED_RESULT_STATUSES,
  FAL_PATHS,
  falAuthHeaders,
  falErrorSchema,
  falResultSchema,
  falStatusSchema,
  falSubmitResponseSchema,
  type FalError,
  type FalResult,
} from './fal-api';
import { FAL_CAPABILITIES, FAL_POLL_CADENCE, falModelId } from './fal-models';
import { falParamMap } from './fal-param-map';

@injectable()
export class FalAdapter implements ImageAdapter {
  readonly id = 'fal';
  readonly capabilities = FAL_CAPABILITIES;
  readonly pollCadence = FAL_POLL_CADENCE;

  authHeaders(apiKey: string): Record<string, string> {
    return falAuthHeaders(apiKey);
  }

  buildSubmit(intent: ImageIntent): BuiltSubmit {
    return submitFromParamMap(falParamMap, intent, (body) => ({ method: 'POST', path: FAL_PATHS.submit(falModelId(intent.family, intent.taskType === 'image2image')), body }));
  }

  parseSubmit(response: UpstreamResponse): SubmitOutcome {
    const submitted = parseUpstreamBody(falSubmitResponseSchema, response, "fal's submit response");
    return { kind: 'handle', ref: { id: submitted.request_id, statusUrl: submitted.status_url, responseUrl: submitted.response_url } };
  }

  buildPoll(ref: UpstreamTaskRef): UpstreamRequest {
    const statusUrl = ref.statusUrl;
    if (!statusUrl) throw new UpstreamError('malformed', `The stored fal request ${ref.id} has no status URL.`);
    return { method: 'GET', path: statusUrl };
  }

  parsePoll(response: UpstreamResponse, ref: UpstreamTaskRef): PollOutcome {
    if (response.status >= 300) return { kind: 'state', state: failedResultToState(response) };
    const body = response.body;
    if (typeof body === 'object' && body !== null && 'images' in body) {
      return { kind: 'state', state: falResultToState(parseUpstreamBody(falResultSchema, response, "fal's result")) };
    }
    const status = parseUpstreamBody(falStatusSchema, response, "fal's status response");
    switch (status.status) {
      case 'IN_QUEUE':
        return { kind: 'state', state: { status: 'queued', images: [] } };
      case 'COMPLETED': {
        const responseUrl = ref.responseUrl ?? status.response_url ?? undefined;
        if (!responseUrl) throw new UpstreamError('malformed', `fal says request ${ref.id} is COMPLETED but no response URL is known.`, response.status);
        return { kind: 'follow', request: { method: 'GET', path: responseUrl, acceptStatuses: FAL_FAILED_RESULT_STATUSES } };
      }
      default:
        // IN_PROGRESS, and any status fal may add later: still running until the result says otherwise.
        return { kind: 'state', state: { status: 'processing', images: [] } };
    }
  }

  describeError(body: unknown): string | undefined {
    const error = parseOptional(falErrorSchema, body);
    return error ? falDetailText(error) : undefined;
  }
}

/** A successful result -> state: succeeded with its images, or failed when it has none. */
export function falResultToState(result: FalResult): UpstreamTaskState {
  return finishedWithImages(result.images.map(imageFromFalStyle));
}

/** One line out of fal's `detail` (a string, or pydantic items `{ loc, msg, type }`). */
export function falDetailText(error: FalError): string {
  const { detail } = error;
  if (typeof detail === 'string') return detail.slice(0, 500);
  if (Array.isArray(detail)) {
    const parts = detail.map((item) => {
      const where = (item.loc ?? []).filter((l) => l !== 'body').join('.');
      const what = item.msg ?? item.type ?? 'invalid';
      return where ? `${where}: ${what}` : what;
    });
    return parts.join('; ').slice(0, 500) || 'no reason given';
  }
  return JSON.stringify(detail).slice(0, 500);
}

const ERROR_CODE = /^[a-z][a-z0-9_.]{0,63}$/;

/**
 * The error code of a failed result: fal's `error_type` (request errors), else the first `detail` item's
 * `type` (model errors), snake_case; else by status.
 */
function failedResultCode(error: FalError, httpStatus: number): string {
  const first = Array.isArray(error.detail) ? error.detail[0]?.type : undefined;
  for (const code of [error.error_type, first]) if (code && ERROR_CODE.test(code)) return code.replace(/\./g, '_');
  return httpStatus < 500 ? 'upstream_rejected' : 'generation_failed';
}

/**
 * A result fetched with an error status -> failed state with fal's reason. After COMPLETED an error body of
 * fal's is a verdict on the job, whatever the status (504 request_timeout, 503 runner_scheduling_failure,
 * ...): polling on would only meet it again until the task deadline.
 */
function failedResultToState(response: UpstreamResponse): UpstreamTaskState {
  const parsed = falErrorSchema.safeParse(response.body);
  if (!parsed.success) {
    // Not fal's error shape (e.g. a gateway page): a transient fault of the wire, not a verdict on the job.
    if (response.status >= 500) throw new UpstreamError('server_error', `fal answered HTTP ${response.status} for the result without a readable reason.`, response.status);
    throw new UpstreamError('malformed', `fal's error result (HTTP ${response.status}) is not readable: ${describeZodProblem(parsed.error)}.`, response.status);
  }
  return {
    status: 'failed',
    progress: 100,
    images: [],
    error: { code: failedResultCode(parsed.data, response.status), message: `fal could not generate the image (HTTP ${response.status}): ${falDetailText(parsed.data)}` },
  };
}
