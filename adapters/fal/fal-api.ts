/**
 * fal's queue API, all in one file: paths, auth header, and lenient schemas of what we read.
 *
 * Source: fal's queue documentation ("docs.fal.ai/model-apis/model-endpoints/queue", "Asynchronous
 * Inference"), and its client libraries:
 * - Submit: `POST https://queue.fal.run/{model_id}` with the model input as the JSON body (no wrapper),
 *   header `Authorization: Key <FAL_KEY>` -> `{ request_id, status_url, response_url, cancel_url, status }`.
 * - Status: `GET {status_url}` (`.../requests/{request_id}/status`) ->
 *   `{ status: IN_QUEUE | IN_PROGRESS | COMPLETED, queue_position?, logs?, response_url? }`.
 * - Result: `GET {response_url}` -> the model output (`{ images: [{ url, content_type, width, height }], ... }`).
 *   A request that failed only shows here, with an error status and fal's error body. fal documents two
 *   shapes ("docs.fal.ai/documentation/model-apis/errors" and ".../request-errors"): model errors, a
 *   `detail` array of `{ loc, msg, type }` (422 and others), and request errors, a `detail` string with a
 *   machine-readable `error_type` (request_timeout and startup_timeout 504; runner_scheduling_failure,
 *   runner_connection_timeout, runner_disconnected, runner_connection_refused, runner_connection_error 503;
 *   runner_incomplete_response 502; runner_server_error and internal_error 500; client_disconnected and
 *   client_cancelled 499; bad_request 400). Any of them, after COMPLETED, is the request's verdict.
 * fal's status and response URLs may drop the `/edit` sub-path of the model id, so we always use the URLs
 * the submit returned instead of building them.
 */
import { z } from 'zod';

/** Default channel base URL (fal's queue host). */
export const FAL_DEFAULT_BASE_URL = 'https://queue.fal.run';

/** Paths of the fal queue API, below the channel base URL. */
export const FAL_PATHS = {
  /** Submit to a model's queue. Model ids contain slashes that are path segments, so they are not encoded. */
  submit: (modelId: string) => `/${modelId}`,
} as const;

/**
 * HTTP statuses of a result fetch whose body the adapter reads itself: every 4xx and 5xx except 401, 403 and
 * 429, which concern our key and our request rate, not the job (the upstream client types those).
 */
export const FAL_FAILED_RESULT_STATUSES: readonly number[] = Array.from({ length: 200 }, (_, i) => 400 + i).filter((s) => s !== 401 && s !== 403 && s !== 429);

/** Headers that authenticate with fal. */
export function falAuthHeaders(apiKey: string): Record<string, string> {
  return { Authorization: `Key ${apiKey}` };
}

/** Submit response (lenient: only what we read). */
export const falSubmitResponseSchema = z.object({
  request_id: z.string().min(1),
  status_url: z.url(),
  response_url: z.url(),
  cancel_url: z.string().optional().nullable(),
  status: z.string().optional().nullable(),
});

/** Status response (lenient: unknown statuses are treated as in progress, logs are ignored). */
export const falStatusSchema = z.object({
  status: z.string().min(1),
  queue_position: z.number().optional().nullable(),
  response_url: z.string().optional().nullable(),
  logs: z.unknown().optional(),
});

/** A parsed status response. */
export type FalStatus = z.infer<typeof falStatusSchema>;

/** Result of an image model (lenient: description, seed, has_nsfw_concepts and the like are ignored). */
export const falResultSchema = z.object({
  images: z.array(
    z.object({
      url: z.string().min(1),
      content_type: z.string().optional().nullable(),
      width: z.number().optional().nullable(),
      height: z.number().optional().nullable(),
      file_name: z.string().optional().nullable(),
    }),
  ),
  description: z.string().optional().nullable(),
  seed: z.number().optional().nullable(),
});

/** A parsed result. */
export type FalResult = z.infer<typeof falResultSchema>;

/** One pydantic-style validation item in a 422 `detail` array. */
const falDetailItemSchema = z.looseObject({
  loc: z.array(z.union([z.string(), z.number()])).optional(),
  msg: z.string().optional(),
  type: z.string().optional(),
});

/** Error body of a failed submit or result: `{ detail: string | [{ loc, msg, type }], error_type? }`. */
export const falErrorSchema = z.object({
  detail: z.union([z.string(), z.array(falDetailItemSchema), z.record(z.string(), z.unknown())]),
  /** Request errors' machine-readable category (also sent as the X-Fal-Error-Type header). */
  error_type: z.string().optional().nullable(),
});

/** A parsed error body. */
export type FalError = z.infer<typeof falErrorSchema>;
