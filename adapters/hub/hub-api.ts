/**
 * The hub's wire protocol, all in one file (docs/mapping.md, "Hub tasks -> platform tasks").
 *
 * ASSUMPTION: the hub document only shows `GET /hub/v1/tasks/:taskId` polled until `ready = true`.
 * The submit call and the exact task body are not published; what follows is the bridge's assumed contract (docs/mapping.md, "Assumptions")
 * until a recorded exchange with the real hub exists. Correcting it is a change to this file.
 */
import { z } from 'zod';

/** Paths of the hub API, below HUB_BASE_URL. */
export const HUB_PATHS = {
  /** Submit a task. */
  submit: '/hub/v1/tasks',
  /** Poll a task. */
  task: (taskId: string) => `/hub/v1/tasks/${encodeURIComponent(taskId)}`,
} as const;

/** Headers that authenticate with the hub. */
export function hubAuthHeaders(apiKey: string): Record<string, string> {
  return { Authorization: `Bearer ${apiKey}` };
}

/** Submit body: `{ model, input }`. */
export interface HubSubmitBody {
  /** Hub model id, `<id>` or `<id>/edit`. */
  model: string;
  /** Model parameters, with the hub's names. */
  input: Record<string, unknown>;
}

/** Submit response (lenient: only what we read). */
export const hubSubmitResponseSchema = z.object({
  task_id: z.string().min(1),
  status: z.string().optional(),
  ready: z.boolean().optional(),
});

/** Poll response (lenient: unknown extra fields are ignored, optional fields may be missing). */
export const hubTaskSchema = z.object({
  task_id: z.string().optional(),
  model: z.string().optional(),
  status: z.string(),
  ready: z.boolean(),
  // Out-of-range progress is clamped by the adapter: a cosmetic field must not make a whole poll unreadable.
  progress: z.number().optional().nullable(),
  output: z
    .object({
      images: z
        .array(
          z.object({
            url: z.string().min(1),
            content_type: z.string().optional().nullable(),
            width: z.number().optional().nullable(),
            height: z.number().optional().nullable(),
          }),
        )
        .optional()
        .nullable(),
      seed: z.number().optional().nullable(),
    })
    .optional()
    .nullable(),
  error: z
    .object({ code: z.string().optional().nullable(), message: z.string().optional().nullable() })
    .optional()
    .nullable(),
});

/** A parsed hub task. */
export type HubTask = z.infer<typeof hubTaskSchema>;

/** Error body the hub is assumed to send with 4xx/5xx (fal-style `detail` is read too). */
export const hubErrorSchema = z.object({
  error: z.union([z.string(), z.object({ message: z.string().optional(), code: z.string().optional() })]).optional(),
  message: z.string().optional(),
  detail: z.unknown().optional(),
});
