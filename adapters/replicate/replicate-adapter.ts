/**
 * The Replicate adapter: intent -> a prediction of an official model, prediction -> upstream-neutral state.
 * Pure; the shared upstream client does the I/O.
 *
 * Not `synchronous`: creating a prediction answers at once with a prediction to poll. A channel may ask Replicate
 * to hold the create call open (`prefer_wait_seconds` in CONFIG_FILE: the RFC 7240 `Prefer: wait=N` header);
 * then a prediction that finished in time arrives in the submit answer and `parseSubmit` returns it as a final
 * state, otherwise the prediction is polled as usual. The default sends no `Prefer`, because the submit is made
 * inside the client's POST: with `Prefer: wait=N` that POST can take N seconds (docs/configuration.md).
 */
import { injectable } from 'tsyringe';
import type { BuiltSubmit, ImageAdapter, PollOutcome, SubmitOutcome, UpstreamRequest, UpstreamResponse, UpstreamTaskRef, UpstreamTaskState } from '../../src/adapter-kit/contract';
import { submitFromParamMap } from '../../src/adapter-kit/param-map';
import { finishedWithImages } from '../../src/adapter-kit/task-state';
import { parseOptional, parseUpstreamBody } from '../../src/adapter-kit/upstream-schema';
import type { ImageIntent } from '../../src/intent/intent';
import { UpstreamError } from '../../src/platform/errors';
import { REPLICATE_PATHS, replicateAuthHeaders, replicatePredictionSchema, replicateProblemSchema, type ReplicatePrediction } from './replicate-api';
import { REPLICATE_CAPABILITIES, REPLICATE_POLL_CADENCE, replicateModelId } from './replicate-models';
import { replicateParamMap } from './replicate-param-map';

@injectable()
export class ReplicateAdapter implements ImageAdapter {
  readonly id = 'replicate';
  readonly capabilities = REPLICATE_CAPABILITIES;
  readonly pollCadence = REPLICATE_POLL_CADENCE;

  authHeaders(apiKey: string): Record<string, string> {
    return replicateAuthHeaders(apiKey);
  }

  buildSubmit(intent: ImageIntent): BuiltSubmit {
    return submitFromParamMap(replicateParamMap, intent, (input) => ({ method: 'POST', path: REPLICATE_PATHS.create(replicateModelId(intent.family)), body: { input } }));
  }

  parseSubmit(response: UpstreamResponse): SubmitOutcome {
    const prediction = readPrediction(response, 'submit');
    const state = predictionToState(prediction, response.status);
    // A finished prediction (a `Prefer: wait` answer in time) is final; anything else is polled.
    if (state.status === 'succeeded' || state.status === 'failed') return { kind: 'final', state };
    const getUrl = prediction.urls?.get ?? undefined;
    return { kind: 'handle', ref: { id: prediction.id, ...(getUrl ? { getUrl } : {}) } };
  }

  buildPoll(ref: UpstreamTaskRef): UpstreamRequest {
    // urls.get as Replicate returned it; the documented path when an older handle has none.
    return { method: 'GET', path: ref.getUrl ?? REPLICATE_PATHS.prediction(ref.id) };
  }

  parsePoll(response: UpstreamResponse): PollOutcome {
    return { kind: 'state', state: predictionToState(readPrediction(response, 'poll'), response.status) };
  }

  describeError(body: unknown): string | undefined {
    const problem = parseOptional(replicateProblemSchema, body);
    if (!problem) return undefined;
    const { title, detail, invalid_fields: fields } = problem;
    const invalid = (fields ?? []).map((f) => [f.field?.replace(/^input\./, ''), f.description].filter(Boolean).join(': ')).filter((s) => s !== '');
    const text = invalid.length > 0 ? `${title ?? 'Input validation failed'}: ${invalid.join('; ')}` : [title, detail].filter((s): s is string => typeof s === 'string' && s !== '').join(': ');
    return text === '' ? undefined : text.slice(0, 500);
  }
}

function readPrediction(response: UpstreamResponse, operation: 'submit' | 'poll'): ReplicatePrediction {
  return parseUpstreamBody(replicatePredictionSchema, response, `Replicate's ${operation} response`);
}

/** The URLs of a prediction's output: one URI, or an array of URIs (throws on any other shape). */
function outputUrls(output: unknown, httpStatus: number): string[] {
  if (output === undefined || output === null) return [];
  const items = Array.isArray(output) ? output : [output];
  if (!items.every((item): item is string => typeof item === 'string' && item !== '')) {
    throw new UpstreamError('malformed', 'Replicate\'s prediction output is not a URL or a list of URLs.', httpStatus);
  }
  return items;
}

/** Failure text of a prediction, on one line. */
function errorText(error: unknown): string {
  if (typeof error === 'string' && error.trim() !== '') return error.trim().slice(0, 500);
  if (error === undefined || error === null || error === '') return 'no reason given';
  return JSON.stringify(error).slice(0, 500);
}

/** A prediction -> state (statuses: docs/mapping.md, "Replicate"). Unknown statuses count as still running. */
export function predictionToState(prediction: ReplicatePrediction, httpStatus: number): UpstreamTaskState {
  switch (prediction.status) {
    case 'starting':
      return { status: 'queued', images: [] };
    case 'succeeded':
      return finishedWithImages(outputUrls(prediction.output, httpStatus).map((url) => ({ url })));
    case 'failed':
      return failed('generation_failed', `Replicate could not generate the image: ${errorText(prediction.error)}`);
    case 'canceled':
      return failed('canceled', 'The Replicate prediction was canceled (by its owner, or past its deadline after it started).');
    case 'aborted':
      return failed('aborted', 'The Replicate prediction was aborted: it passed its deadline before it started (Replicate does not charge it).');
    default:
      // processing, and any status Replicate may add later.
      return { status: 'processing', images: [] };
  }
}

function failed(code: string, message: string): UpstreamTaskState {
  return { status: 'failed', progress: 100, images: [], error: { code, message } };
}
