/**
 * The platform task object and the query envelope (platform document sections 6 and 7, design section 5).
 */
import { z } from 'zod';

/** Platform task statuses. */
export const TASK_STATUSES = ['queued', 'processing', 'succeeded', 'failed'] as const;
/** A platform task status. */
export type TaskStatus = (typeof TASK_STATUSES)[number];
/** Terminal statuses: never polled again. */
export function isTerminal(status: TaskStatus): boolean {
  return status === 'succeeded' || status === 'failed';
}

/** Warning as shown in metadata.warnings. */
export const warningSchema = z.strictObject({ code: z.string(), param: z.string(), message: z.string() });

/** The task object returned by submit (201) and inside the query envelope. */
export const platformTaskSchema = z.strictObject({
  task_id: z.string().regex(/^task_[A-Za-z0-9_-]{22,}$/),
  status: z.enum(TASK_STATUSES),
  progress: z.string().regex(/^(\d|[1-9]\d|100)%$/),
  result_url: z.string().nullable(),
  metadata: z.looseObject({
    task_type: z.enum(['text2image', 'image2image']),
    result_count: z.number().int().min(0),
    result_urls: z.array(z.string()).optional(),
    warnings: z.array(warningSchema).optional(),
  }),
  error: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
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

/** Error envelope schema (design section 5). */
export const errorEnvelopeSchema = z.strictObject({
  code: z.string().regex(/^[a-z_]+$/),
  message: z.string().min(1),
  param: z.string().optional(),
  data: z.null(),
});
