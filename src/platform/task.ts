/**
 * The platform task object, the query envelope and the error envelope (docs/api.md, "The task" and "Errors"),
 * as zod schemas: the one source of the response shapes (the OpenAPI document is generated from them).
 */
import { z } from 'zod';
import { ERROR_CODES } from './errors';
import { WARNING_CODES } from './warnings';

/** Platform task statuses. */
export const TASK_STATUSES = ['queued', 'processing', 'succeeded', 'failed'] as const;
/** A platform task status. */
export type TaskStatus = (typeof TASK_STATUSES)[number];
/** Terminal statuses: never polled again. */
export function isTerminal(status: TaskStatus): boolean {
  return status === 'succeeded' || status === 'failed';
}

/**
 * What a task id looks like: `task_` and base64url (at least 128 random bits). Anything else is answered
 * task_not_found without a store lookup.
 */
export const TASK_ID_PATTERN = /^task_[A-Za-z0-9_-]{22,64}$/;

/** Warning as shown in metadata.warnings. */
export const warningSchema = z
  .strictObject({
    code: z.enum(WARNING_CODES).describe('What was converted or ignored (src/platform/warnings.ts).'),
    param: z.string().describe('The request field it concerns.'),
    message: z.string().describe('What was sent and what is used instead.'),
  })
  .describe('A parameter the bridge converted or ignored instead of refusing the request.');

/** The task object returned by submit (201) and inside the query envelope. */
export const platformTaskSchema = z.strictObject({
  task_id: z.string().regex(TASK_ID_PATTERN).describe('The task id: query it at GET /v1/images/tasks/{task_id}.'),
  status: z.enum(TASK_STATUSES).describe('queued, processing, then succeeded or failed (terminal).'),
  progress: z.string().regex(/^(\d|[1-9]\d|100)%$/).describe('Progress from "0%" to "100%"; never decreases.'),
  result_url: z.string().nullable().describe('URL of the first image once succeeded, else null.'),
  metadata: z
    .looseObject({
      task_type: z.enum(['text2image', 'image2image']).describe('The task type, as sent or inferred.'),
      result_count: z.number().int().min(0).describe('Number of images produced (0 until succeeded).'),
      result_urls: z.array(z.string()).optional().describe('Every image URL, once succeeded.'),
      warnings: z.array(warningSchema).optional().describe('Parameters converted or ignored (extension); absent when there are none.'),
    })
    .describe('Facts about the task; adapters may add fields (e.g. requested_size, actual_size).'),
  error: z
    .strictObject({ code: z.string(), message: z.string() })
    .nullable()
    .describe('Why a failed task failed (the upstream\'s code and message, generation_failed, no_output, upstream_timeout); null otherwise.'),
});

/** The platform task object. */
export type PlatformTask = z.infer<typeof platformTaskSchema>;

/** Successful query response. */
export const queryEnvelopeSchema = z.strictObject({
  code: z.literal('success'),
  message: z.literal(''),
  data: platformTaskSchema,
});

/** Successful query response type. */
export type QueryEnvelope = z.infer<typeof queryEnvelopeSchema>;

/** Error envelope schema (docs/api.md "Errors"). */
export const errorEnvelopeSchema = z.strictObject({
  code: z.enum(ERROR_CODES).describe('Machine-readable error code; the HTTP status follows from it.'),
  message: z.string().min(1).describe('What is wrong and how to fix it.'),
  param: z.string().optional().describe('The offending request field or header, when one is to blame.'),
  data: z.null().describe('Always null on errors.'),
});
