/**
 * OpenAI's Images API, all in one file: paths, auth header, and lenient schemas of what we read.
 *
 * Source: OpenAI's API reference, "Images" (platform.openai.com/docs/api-reference/images), as published in
 * github.com/openai/openai-openapi (openapi.yaml, commit f85dbe2) and the Node SDK github.com/openai/openai-node
 * (src/resources/images.ts, commit 7b7d6ca):
 * - Create image: `POST /v1/images/generations`, JSON `{ model, prompt, n, size, quality, output_format, ... }`.
 * - Create image edit: `POST /v1/images/edits`, multipart/form-data with the same fields as text parts and the
 *   input images as file parts `image[]` (the SDK sends an array of uploads under that name). The reference
 *   also documents a JSON body (`images: [{ image_url }]`, URLs or data URLs), but its `size` there lists only
 *   auto / 1024x1024 / 1536x1024 / 1024x1536, while the multipart `size` documents gpt-image-2's custom
 *   sizes: the adapter uses multipart, so every platform size is documented.
 * - Both answer `ImagesResponse`: `{ created, data: [{ b64_json, revised_prompt? }], background?, output_format?,
 *   quality?, size?, usage? }` (GPT image models "always return base64-encoded images").
 * - Auth: `Authorization: Bearer <key>`.
 * - Errors: `{ error: { message, type, param, code } }` (the SDK's APIError reads exactly these); 429 for rate
 *   limits and exhausted quota, 400 for a bad request and for a safety refusal (see OPENAI_ASSUMPTIONS).
 */
import { z } from 'zod';

/** Default channel base URL. */
export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com';

/** Paths of the Images API, below the channel base URL. */
export const OPENAI_PATHS = {
  /** Text to image (JSON). */
  generations: '/v1/images/generations',
  /** Image to image (multipart/form-data with the reference images). */
  edits: '/v1/images/edits',
} as const;

/** Name of the multipart file part carrying each reference image (an array field). */
export const OPENAI_IMAGE_PART = 'image[]';

/**
 * Error statuses whose body the adapter reads itself: 400, so that a safety refusal becomes a failed task with
 * its own code (content_policy_violation) instead of a generic rejection. 401/403/429/5xx stay the client's.
 */
export const OPENAI_READ_ERROR_STATUSES: readonly number[] = [400];

/** Error codes of a safety refusal (GPT image models answer moderation_blocked; content_policy_violation is DALL-E's). */
export const OPENAI_SAFETY_CODES: readonly string[] = ['moderation_blocked', 'content_policy_violation'];

/** Headers that authenticate with OpenAI. */
export function openaiAuthHeaders(apiKey: string): Record<string, string> {
  return { Authorization: `Bearer ${apiKey}` };
}

/** One generated image (GPT image models: base64 always). */
const openaiImageSchema = z.object({
  b64_json: z.string().min(1),
  revised_prompt: z.string().optional().nullable(),
});

/** Token usage of a call (GPT image models). */
export const openaiUsageSchema = z.looseObject({
  input_tokens: z.number().optional().nullable(),
  output_tokens: z.number().optional().nullable(),
  total_tokens: z.number().optional().nullable(),
});

/** `ImagesResponse` (lenient: only what we read). */
export const openaiImagesResponseSchema = z.object({
  created: z.number().optional().nullable(),
  data: z.array(openaiImageSchema),
  output_format: z.string().optional().nullable(),
  size: z.string().optional().nullable(),
  quality: z.string().optional().nullable(),
  background: z.string().optional().nullable(),
  usage: openaiUsageSchema.optional().nullable(),
});

/** A parsed ImagesResponse. */
export type OpenAIImagesResponse = z.infer<typeof openaiImagesResponseSchema>;

/** OpenAI's error body. */
export const openaiErrorSchema = z.object({
  error: z.looseObject({
    message: z.string(),
    type: z.string().optional().nullable(),
    param: z.string().optional().nullable(),
    code: z.string().optional().nullable(),
  }),
});

/** A parsed error body. */
export type OpenAIError = z.infer<typeof openaiErrorSchema>;
