/**
 * Google's Gemini API (generateContent), all in one file: paths, auth header, and lenient schemas of what we read.
 *
 * Source: the Gemini API reference ("ai.google.dev/api/generate-content") and guide
 * ("ai.google.dev/gemini-api/docs/image-generation"), and the types of Google's JS SDK (googleapis/js-genai
 * `src/types.ts`: GenerateContentResponse, Candidate, Part, FinishReason, BlockedReason):
 * - Generate: `POST /v1beta/models/{model}:generateContent`, header `x-goog-api-key: <key>`, body
 *   `{ contents: [{ role: 'user', parts: [{ text }, { inlineData: { mimeType, data } }, ...] }],
 *   generationConfig: { responseModalities: ['IMAGE'], imageConfig: { aspectRatio?, imageSize? }, seed? } }`.
 * - Answer (synchronous, 200): `{ candidates: [{ content: { parts: [{ text } | { inlineData: { mimeType, data } }] },
 *   finishReason, finishMessage? }], promptFeedback?: { blockReason, blockReasonMessage? }, usageMetadata?, modelVersion? }`.
 *   A prompt that is blocked has no candidates and a `promptFeedback.blockReason`; an output that is blocked has a
 *   candidate with `finishReason` SAFETY, IMAGE_SAFETY, PROHIBITED_CONTENT, ... and no image. Parts marked
 *   `thought: true` are the model's interim (thinking) output, never the result.
 * - Errors: `{ error: { code, message, status } }` with the HTTP status (400 INVALID_ARGUMENT, 403 PERMISSION_DENIED,
 *   429 RESOURCE_EXHAUSTED, 500 INTERNAL, 503 UNAVAILABLE); the shared client types them by status.
 */
import { z } from 'zod';

/** Default channel base URL (the Gemini API host). */
export const GEMINI_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';

/** Paths of the Gemini API, below the channel base URL. */
export const GEMINI_PATHS = {
  /** Generate content with a model (`gemini-2.5-flash-image`, ...). */
  generate: (modelId: string) => `/v1beta/models/${modelId}:generateContent`,
} as const;

/** Headers that authenticate with the Gemini API (the key never goes into the `?key=` query string). */
export function geminiAuthHeaders(apiKey: string): Record<string, string> {
  return { 'x-goog-api-key': apiKey };
}

/** One part of a candidate's content (lenient: text, inline bytes, a thought flag; the rest is ignored). */
const geminiPartSchema = z.looseObject({
  text: z.string().optional().nullable(),
  inlineData: z.object({ mimeType: z.string().min(1), data: z.string() }).optional().nullable(),
  thought: z.boolean().optional().nullable(),
});

/** A generateContent answer (lenient: only what we read). */
export const geminiResponseSchema = z
  .looseObject({
    candidates: z
      .array(
        z.looseObject({
          content: z.looseObject({ parts: z.array(geminiPartSchema).optional().nullable() }).optional().nullable(),
          finishReason: z.string().optional().nullable(),
          finishMessage: z.string().optional().nullable(),
        }),
      )
      .optional()
      .nullable(),
    promptFeedback: z.looseObject({ blockReason: z.string().optional().nullable(), blockReasonMessage: z.string().optional().nullable() }).optional().nullable(),
    usageMetadata: z.looseObject({}).optional().nullable(),
    modelVersion: z.string().optional().nullable(),
  })
  // An answer with neither candidates nor a prompt verdict says nothing: unreadable, not "no image".
  .refine((r) => (r.candidates?.length ?? 0) > 0 || typeof r.promptFeedback?.blockReason === 'string', { message: 'neither candidates nor promptFeedback.blockReason' });

/** A parsed generateContent answer. */
export type GeminiResponse = z.infer<typeof geminiResponseSchema>;

/** Error body: `{ error: { code, message, status } }` (Google's standard error shape). */
export const geminiErrorSchema = z.object({
  error: z.looseObject({ code: z.number().optional().nullable(), message: z.string().optional().nullable(), status: z.string().optional().nullable() }),
});

/**
 * Finish and block reasons that mean a safety or policy refusal (FinishReason and BlockedReason of js-genai):
 * the task fails with `content_policy_violation`, the code the hub uses for the same thing.
 */
export const GEMINI_POLICY_REASONS: readonly string[] = [
  'SAFETY',
  'IMAGE_SAFETY',
  'PROHIBITED_CONTENT',
  'IMAGE_PROHIBITED_CONTENT',
  'BLOCKLIST',
  'SPII',
  'RECITATION',
  'IMAGE_RECITATION',
];
