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
 *   A request that failed only shows here: the result answers the model's error status (422 for a rejected
 *   input, 5xx for a failed run) with a FastAPI-style `{ detail }` body.
 * fal's status and response URLs may drop the `/edit` sub-path of the model id, so we always use the URLs
 * the submit returned instead of building them.
 * ASSUMPTION: the exact set of statuses fal answers a failed result with; we read 400, 422 and 500 ourselves.
 */
import { z } from 'zod';

/** Default channel base URL (fal's queue host). */
export const FAL_DEFAULT_BASE_URL = 'https://queue.fal.run';

/** Paths of the fal queue API, below the channel base URL. */
export const FAL_PATHS = {
  /** Submit to a model's queue. Model ids contain slashes that are path segments, so they are not encoded. */
  submit: (modelId: string) => `/${modelId}`,
} as const;

/** HTTP statuses of a result fetch whose `{ detail }` body says why the request failed. */
export const FAL_FAILED_RESULT_STATUSES: readonly number[] = [400, 422, 500];

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

/** Queue statuses fal reports. */
export const FAL_QUEUE_STATUSES = ['IN_QUEUE', 'IN_PROGRESS', 'COMPLETED'] as const;

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

/** Error body of a failed submit or result: `{ detail: string | [{ loc, msg, type }] }`. */
export const falErrorSchema = z.object({
  detail: z.union([z.string(), z.array(falDetailItemSchema), z.record(z.string(), z.unknown())]),
});

/** A parsed error body. */
export type FalError = z.infer<typeof falErrorSchema>;
