/**
 * pixelforge's wire protocol, all in one file (IMAGINARY upstream):
 * - Auth: header `X-Api-Key: <key>`.
 * - Submit: `POST /v2/jobs` with `{ engine, text, count, width, height, format, refs? }` -> `{ id, state }`.
 * - Poll: `GET /v2/jobs/{id}` -> `{ id, state: pending | working | done | error, percent, files: [{ href }], failure? }`.
 * Schemas of what we receive are lenient: we read what we need and ignore the rest.
 */
import { z } from 'zod';

/** Paths below the channel base URL. */
export const EXAMPLE_PATHS = {
  /** Create a job. */
  submit: '/v2/jobs',
  /** Read a job. */
  job: (id: string) => `/v2/jobs/${encodeURIComponent(id)}`,
} as const;

/** Headers that authenticate with pixelforge. */
export function exampleAuthHeaders(apiKey: string): Record<string, string> {
  return { 'X-Api-Key': apiKey };
}

/** Submit response. */
export const exampleSubmitResponseSchema = z.object({
  id: z.string().min(1),
  state: z.string().optional(),
});

/** A job as pixelforge reports it. */
export const exampleJobSchema = z.object({
  id: z.string().optional(),
  state: z.string().min(1),
  percent: z.number().optional().nullable(),
  files: z.array(z.object({ href: z.string().min(1) })).optional().nullable(),
  failure: z.union([z.string(), z.object({ code: z.string().optional(), message: z.string() })]).optional().nullable(),
});

/** A parsed job. */
export type ExampleJob = z.infer<typeof exampleJobSchema>;

/** Error body of a refused request: `{ error: { message } }`. */
export const exampleErrorSchema = z.object({
  error: z.object({ message: z.string() }),
});
