/**
 * The sandbox's Gemini side: Google's rules for an image `generateContent` request, as the sandbox enforces them,
 * and the answer it gives. Written from Google's pages (the Gemini API reference "ai.google.dev/api/generate-content",
 * the image generation guide, and the model pages of Gemini 2.5 Flash Image, Gemini 3.1 Flash Image and Gemini 3
 * Pro Image), independently of the gemini adapter, which the sandbox never imports: the adapter's tests use
 * {@link validateSandboxGenerate} as the upstream's verdict (test/adapters/gemini.test.ts).
 */
import { randomBytes } from 'node:crypto';

const TEN_RATIOS = ['1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9', '21:9'];

/** What each Gemini image model takes: aspect ratios, image sizes (none: no imageSize at all), images per prompt. */
export const SANDBOX_GEMINI_MODELS: Readonly<Record<string, { readonly ratios: readonly string[]; readonly sizes?: readonly string[]; readonly images: number }>> = {
  'gemini-2.5-flash-image': { ratios: TEN_RATIOS, images: 3 },
  'gemini-3.1-flash-image-preview': { ratios: [...TEN_RATIOS, '1:4', '4:1', '1:8', '8:1', '9:21'], sizes: ['512', '1K', '2K', '4K'], images: 14 },
  'gemini-3-pro-image-preview': { ratios: TEN_RATIOS, sizes: ['1K', '2K', '4K'], images: 14 },
};

const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/heic', 'image/heif'];

/** A generateContent request the sandbox accepted. */
export interface SandboxGenerateJob {
  /** Model id of the path. */
  readonly model: string;
  /** The text part. */
  readonly prompt: string;
  /** The aspect ratio asked for (1:1 when none: Gemini's default without references). */
  readonly aspect: { readonly width: number; readonly height: number };
  /** generationConfig.seed, when sent. */
  readonly seed?: number;
  /** Reference images sent (inlineData and fileData parts). */
  readonly references: number;
}

/** The verdict on a request: the job, or Google's 400 message. */
export type SandboxGenerateVerdict = { readonly ok: true; readonly job: SandboxGenerateJob } | { readonly ok: false; readonly message: string; readonly unknownModel?: boolean };

function no(message: string, unknownModel = false): SandboxGenerateVerdict {
  return { ok: false, message, ...(unknownModel ? { unknownModel } : {}) };
}

/**
 * Google's rules for `POST /v1beta/models/<model>:generateContent` asking for an image: one of the three image
 * models; one user turn whose parts are one text and images (inlineData of png/jpeg/webp/heic/heif with base64
 * data, or fileData with an https URI), at most 3 images for Gemini 2.5 Flash Image and 14 for the Gemini 3
 * models; responseModalities naming IMAGE (and at most TEXT beside it); the model's aspect ratios and image
 * sizes (Gemini 2.5 Flash Image takes no imageSize); an integer seed; candidateCount 1; no other top-level field.
 */
export function validateSandboxGenerate(model: string, body: unknown): SandboxGenerateVerdict {
  const rules = SANDBOX_GEMINI_MODELS[model];
  if (!rules) return no(`models/${model} is not found for API version v1beta, or is not supported for generateContent.`, true);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return no('The request body must be a JSON object.');
  const b = body as Record<string, unknown>;
  const extra = Object.keys(b).filter((k) => !['contents', 'generationConfig'].includes(k));
  if (extra.length > 0) return no(`Invalid JSON payload received. Unknown name "${extra[0]}": Cannot find field.`);
  const contents = b.contents;
  if (!Array.isArray(contents) || contents.length !== 1) return no('contents: one user turn is expected.');
  const turn = contents[0] as { role?: unknown; parts?: unknown };
  if (turn.role !== 'user' || !Array.isArray(turn.parts)) return no('contents[0]: role "user" and parts are required.');
  const parts = turn.parts as Array<Record<string, unknown>>;
  const texts = parts.filter((p) => typeof p.text === 'string' && p.text.trim() !== '');
  if (texts.length !== 1) return no('contents[0].parts: exactly one non-empty text part is expected.');
  let references = 0;
  for (const part of parts) {
    if (typeof part !== 'object' || part === null || Object.keys(part).length !== 1) return no('contents[0].parts[]: each part has exactly one of text, inlineData, fileData.');
    if ('text' in part) continue;
    const inline = part.inlineData as { mimeType?: unknown; data?: unknown } | undefined;
    const file = part.fileData as { fileUri?: unknown; mimeType?: unknown } | undefined;
    if (inline !== undefined) {
      if (!IMAGE_TYPES.includes(String(inline.mimeType))) return no(`inlineData.mimeType ${String(inline.mimeType)} is not a supported image type.`);
      if (typeof inline.data !== 'string' || inline.data === '' || !/^[A-Za-z0-9+/]*={0,2}$/.test(inline.data)) return no('inlineData.data must be base64.');
    } else if (file !== undefined) {
      if (typeof file.fileUri !== 'string' || !file.fileUri.startsWith('https://')) return no('fileData.fileUri must be an https URL.');
      if (file.mimeType !== undefined && !IMAGE_TYPES.includes(String(file.mimeType))) return no(`fileData.mimeType ${String(file.mimeType)} is not a supported image type.`);
    } else {
      return no('contents[0].parts[]: a part that is not text must be inlineData or fileData.');
    }
    references += 1;
  }
  if (references > rules.images) return no(`${model} takes at most ${rules.images} images per prompt (${references} were sent).`);
  const config = b.generationConfig as { responseModalities?: unknown; imageConfig?: Record<string, unknown>; seed?: unknown; candidateCount?: unknown } | undefined;
  const modalities = config?.responseModalities;
  if (!Array.isArray(modalities) || !modalities.includes('IMAGE') || modalities.some((m) => m !== 'IMAGE' && m !== 'TEXT')) {
    return no('generationConfig.responseModalities must name IMAGE (and at most TEXT) for an image model.');
  }
  const imageConfig = config?.imageConfig ?? {};
  const extraConfig = Object.keys(imageConfig).filter((k) => !['aspectRatio', 'imageSize'].includes(k));
  if (extraConfig.length > 0) return no(`generationConfig.imageConfig.${extraConfig[0]} is not supported in the Gemini API.`);
  const ratio = imageConfig.aspectRatio;
  if (ratio !== undefined && !rules.ratios.includes(String(ratio))) return no(`aspectRatio ${String(ratio)} is not supported by ${model}.`);
  const size = imageConfig.imageSize;
  if (size !== undefined && !(rules.sizes ?? []).includes(String(size))) return no(`imageSize ${String(size)} is not supported by ${model}.`);
  const seed = config?.seed;
  if (seed !== undefined && !Number.isInteger(seed)) return no('generationConfig.seed must be an integer.');
  if (config?.candidateCount !== undefined && config.candidateCount !== 1) return no('Multiple candidates is not enabled for this model.');
  const [w, h] = String(ratio ?? '1:1').split(':').map(Number);
  return {
    ok: true,
    job: { model, prompt: String(texts[0]?.text), aspect: { width: w ?? 1, height: h ?? 1 }, ...(typeof seed === 'number' ? { seed } : {}), references },
  };
}

/** Google's error body: `{ error: { code, message, status } }`. */
export function geminiErrorBody(code: number, status: string, message: string): Record<string, unknown> {
  return { error: { code, message, status } };
}

/** A generateContent answer with one PNG image. */
export function geminiImageAnswer(model: string, png: Buffer, promptTokens: number): Record<string, unknown> {
  return {
    candidates: [{ content: { role: 'model', parts: [{ inlineData: { mimeType: 'image/png', data: png.toString('base64') } }] }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: promptTokens, candidatesTokenCount: 1290, totalTokenCount: promptTokens + 1290 },
    modelVersion: model,
    responseId: randomBytes(12).toString('base64url'),
  };
}

/** A generateContent answer whose image the safety filter removed (finishReason IMAGE_SAFETY, no image). */
export function geminiFilteredAnswer(model: string, promptTokens: number): Record<string, unknown> {
  return {
    candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'IMAGE_SAFETY', finishMessage: 'The image was filtered out by the safety filter (sandbox mode fail).', index: 0 }],
    usageMetadata: { promptTokenCount: promptTokens, totalTokenCount: promptTokens },
    modelVersion: model,
  };
}

/** A generateContent answer to a blocked prompt (no candidates, promptFeedback.blockReason). */
export function geminiBlockedAnswer(model: string, promptTokens: number): Record<string, unknown> {
  return { promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: promptTokens, totalTokenCount: promptTokens }, modelVersion: model };
}
