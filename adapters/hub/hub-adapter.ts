/**
 * The hub adapter: intent -> hub request, hub task -> upstream-neutral state. Pure; the shared upstream
 * client does the I/O.
 */
import { injectable } from 'tsyringe';
import type { BuiltSubmit, ImageAdapter, PollOutcome, SubmitOutcome, UpstreamRequest, UpstreamResponse, UpstreamTaskRef, UpstreamTaskState } from '../../src/adapter-kit/contract';
import { submitFromParamMap } from '../../src/adapter-kit/param-map';
import { clampedProgress, finishedWithImages, imageFromFalStyle } from '../../src/adapter-kit/task-state';
import { parseOptional, parseUpstreamBody } from '../../src/adapter-kit/upstream-schema';
import type { ImageIntent } from '../../src/intent/intent';
import { HUB_PATHS, hubAuthHeaders, hubErrorSchema, hubSubmitResponseSchema, hubTaskSchema, type HubSubmitBody, type HubTask } from './hub-api';
import { HUB_CAPABILITIES, HUB_POLL_CADENCE, hubModelId } from './hub-models';
import { hubParamMap } from './hub-param-map';

@injectable()
export class HubAdapter implements ImageAdapter {
  readonly id = 'hub';
  readonly capabilities = HUB_CAPABILITIES;
  readonly pollCadence = HUB_POLL_CADENCE;

  authHeaders(apiKey: string): Record<string, string> {
    return hubAuthHeaders(apiKey);
  }

  buildSubmit(intent: ImageIntent): BuiltSubmit {
    return submitFromParamMap(hubParamMap, intent, (input) => {
      const body: HubSubmitBody = { model: hubModelId(intent.family, intent.taskType === 'image2image'), input };
      return { method: 'POST', path: HUB_PATHS.submit, body };
    });
  }

  parseSubmit(response: UpstreamResponse): SubmitOutcome {
    return { kind: 'handle', ref: { id: parseUpstreamBody(hubSubmitResponseSchema, response, "The hub's submit response").task_id } };
  }

  buildPoll(ref: UpstreamTaskRef): UpstreamRequest {
    return { method: 'GET', path: HUB_PATHS.task(ref.id) };
  }

  parsePoll(response: UpstreamResponse): PollOutcome {
    return { kind: 'state', state: hubTaskToState(parseUpstreamBody(hubTaskSchema, response, "The hub's task response")) };
  }

  describeError(body: unknown): string | undefined {
    const parsed = parseOptional(hubErrorSchema, body);
    if (!parsed) return undefined;
    const { error, message, detail } = parsed;
    if (typeof error === 'string') return error;
    if (error?.message) return error.message;
    if (message) return message;
    if (detail !== undefined) return typeof detail === 'string' ? detail : JSON.stringify(detail).slice(0, 500);
    return undefined;
  }
}

/** Status mapping (docs/mapping.md, "Hub tasks -> platform tasks"): `ready` is the only authority for "finished". */
export function hubTaskToState(task: HubTask): UpstreamTaskState {
  const progress = clampedProgress(task.progress);
  if (!task.ready) {
    return task.status === 'queued' ? { status: 'queued', images: [], ...(progress !== undefined ? { progress } : {}) } : { status: 'processing', images: [], ...(progress !== undefined ? { progress } : {}) };
  }
  if (task.status === 'succeeded') return finishedWithImages((task.output?.images ?? []).map(imageFromFalStyle));
  return {
    status: 'failed',
    progress: 100,
    images: [],
    error: {
      code: task.error?.code || 'generation_failed',
      message: task.error?.message || `The upstream finished with status "${task.status}" and gave no reason.`,
    },
  };
}
