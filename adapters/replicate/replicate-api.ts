/**
 * Replicate's predictions API, all in one file: paths, auth header, and lenient schemas of what we read.
 *
 * Sources (the fixture folder fixtures/replicate/README.md lists them with what each confirms):
 * - Create: `POST /v1/models/{owner}/{name}/predictions` with `{ "input": { ... } }` and
 *   `Authorization: Bearer <token>` ("replicate.com/docs/topics/predictions/create-a-prediction"; the official
 *   client replicate-javascript, lib/predictions.js, builds the same path and body). The answer is the
 *   prediction object: `{ id, model, version, input, status, output, error, logs, urls: { get, cancel, stream? },
 *   created_at, ... }`, HTTP 201.
 * - `Prefer: wait` / `Prefer: wait=N` (sync mode, same page): Replicate holds the request open up to N seconds
 *   (default 60) and answers the prediction with `output` when it finished in time, else the incomplete
 *   prediction (`starting` / `processing`) to poll as usual.
 * - Get: `GET urls.get` (= `/v1/predictions/{id}`).
 * - Statuses ("replicate.com/docs/topics/predictions/lifecycle"): starting, processing, succeeded, failed,
 *   canceled (by the user, or past its deadline after it started), aborted (past its deadline before it
 *   started; not charged). `error` is the failure text.
 * - Output: the model's output schema; the Nano models' is one `uri` string, some models answer an array of
 *   URIs. Files are served from replicate.delivery and deleted after an hour (the create-a-prediction page):
 *   hence the per-channel `mirror_results` option (docs/operations.md, "Stored images").
 * - Errors: RFC 7807 problem details `{ type?, title, status, detail, instance? }` (replicate-python's
 *   ReplicateError documents those fields); an input validation failure is 422 with `invalid_fields`
 *   `[{ type, field, description }]`; throttling is 429 with a Retry-After header.
 */
import { z } from 'zod';

/** Default channel base URL (Replicate's API host). */
export const REPLICATE_DEFAULT_BASE_URL = 'https://api.replicate.com';

/** Paths of the predictions API, below the channel base URL. */
export const REPLICATE_PATHS = {
  /** Create a prediction of an official model (no version hash): `owner/name` are two path segments. */
  create: (model: string) => `/v1/models/${model.split('/').map(encodeURIComponent).join('/')}/predictions`,
  /** Get a prediction (what `urls.get` points at). */
  prediction: (id: string) => `/v1/predictions/${encodeURIComponent(id)}`,
} as const;

/** Headers that authenticate with Replicate. */
export function replicateAuthHeaders(apiKey: string): Record<string, string> {
  return { Authorization: `Bearer ${apiKey}` };
}

/** A prediction (lenient: logs, metrics, timestamps, input and the like are ignored). */
export const replicatePredictionSchema = z.object({
  id: z.string().min(1),
  status: z.string().min(1),
  /** A URI, an array of URIs, or null while running. */
  output: z.unknown().optional(),
  /** Failure text (a string on every page read; anything else is stringified). */
  error: z.unknown().optional(),
  urls: z
    .object({
      get: z.string().optional().nullable(),
      cancel: z.string().optional().nullable(),
    })
    .optional()
    .nullable(),
});

/** A parsed prediction. */
export type ReplicatePrediction = z.infer<typeof replicatePredictionSchema>;

/** One entry of a 422's `invalid_fields`. */
const invalidFieldSchema = z.looseObject({
  type: z.string().optional(),
  field: z.string().optional(),
  description: z.string().optional(),
});

/** Error body: RFC 7807 problem details, plus `invalid_fields` on a 422. */
export const replicateProblemSchema = z.looseObject({
  title: z.string().optional().nullable(),
  detail: z.string().optional().nullable(),
  status: z.number().optional().nullable(),
  invalid_fields: z.array(invalidFieldSchema).optional().nullable(),
});

/** A parsed error body. */
export type ReplicateProblem = z.infer<typeof replicateProblemSchema>;
