/**
 * Gemini model ids, aspect ratios, image sizes and limits, per model family (Google's Gemini API, the
 * "Nano Banana" image models).
 *
 * Sources (checked):
 * - Model ids: `gemini-2.5-flash-image` (Nano Banana), `gemini-3.1-flash-image-preview` (Nano Banana 2),
 *   `gemini-3-pro-image-preview` (Nano Banana Pro): Google's model pages
 *   ("docs.cloud.google.com/vertex-ai/generative-ai/docs/models/gemini/3-1-flash-image", ".../3-pro-image") and
 *   the Gemini API guide ("ai.google.dev/gemini-api/docs/image-generation").
 * - Aspect ratios and sizes: the same model pages. Gemini 2.5 Flash Image: 1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4,
 *   9:16, 16:9, 21:9, one size (1K, no imageSize). Gemini 3.1 Flash Image: those plus 1:4, 4:1, 1:8, 8:1 (and
 *   9:21, which the platform has not), sizes 512, 1K, 2K, 4K. Gemini 3 Pro Image: the ten ratios, 1K, 2K, 4K.
 * - Reference images: "Maximum images per prompt: 14" on both Gemini 3 model pages; 3 for Gemini 2.5 Flash Image.
 * - `imageConfig.outputMimeType` "is not supported in Gemini API" (js-genai `ImageConfig`): the format cannot be
 *   chosen, so only png is declared (GEMINI_ASSUMPTIONS).
 * What no page confirms is in GEMINI_ASSUMPTIONS below (and in docs/mapping.md).
 */
import type { Assumption } from '../../src/adapter-kit/assumptions';
import type { AdapterCapabilities } from '../../src/adapter-kit/contract';
import type { Family, Resolution } from '../../src/platform/catalog';

/** Gemini model id per Nano family (gpt-image-2 is not a Gemini model). */
export const GEMINI_MODEL_IDS: Readonly<Partial<Record<Family, string>>> = {
  'nano-banana': 'gemini-2.5-flash-image',
  'nano-banana-2': 'gemini-3.1-flash-image-preview',
  'nano-banana-pro': 'gemini-3-pro-image-preview',
};

/** `imageConfig.imageSize` per platform tier (Gemini spells the 0.5K tier by its edge, "512"). */
export const GEMINI_IMAGE_SIZES: Readonly<Partial<Record<Resolution, string>>> = { '0.5K': '512', '1K': '1K', '2K': '2K', '4K': '4K' };

/** Families whose model takes `imageConfig.imageSize` (Gemini 2.5 Flash Image has one size). */
export const GEMINI_IMAGE_SIZE_FAMILIES: readonly Family[] = ['nano-banana-2', 'nano-banana-pro'];

const TEN_RATIOS = ['1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9', '21:9'] as const;

/**
 * A generation takes 10-60 s, a 4K Pro image with thinking longer: 5 minutes per call before the call counts
 * as timed out (a timed-out call is never sent again, the upstream may have charged it).
 */
export const GEMINI_CALL_TIMEOUT_MS = 300_000;

/** A 4K PNG is some 20-30 MB, base64 a third more; the shared client caps this at 128 MiB. */
export const GEMINI_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

const both = ['text2image', 'image2image'] as const;

/**
 * What the Gemini API serves, as data; the router decides with this and nothing else.
 * - One image per call (`imagesPerCall: 1`): Gemini image models answer one candidate; n fans out.
 * - maxImages 4: the platform's own n limit for Nano models.
 * - `auto` (NanoBanana2, NanoBananaPro) is sent as no aspectRatio: the model then picks the ratio from the
 *   references, or 1:1 (Google's ImageConfig documentation).
 * - png only: see GEMINI_ASSUMPTIONS; a jpeg or webp request fails over to a channel that produces it.
 * - No 8K tier.
 */
export const GEMINI_CAPABILITIES = {
  'nano-banana': { taskTypes: both, formats: ['png'], maxImages: 4, imagesPerCall: 1, maxReferences: 3, aspectRatios: TEN_RATIOS },
  'nano-banana-2': {
    taskTypes: both,
    resolutions: ['0.5K', '1K', '2K', '4K'],
    formats: ['png'],
    maxImages: 4,
    imagesPerCall: 1,
    maxReferences: 14,
    aspectRatios: ['auto', ...TEN_RATIOS, '4:1', '1:4', '8:1', '1:8'],
  },
  'nano-banana-pro': {
    taskTypes: both,
    resolutions: ['1K', '2K', '4K'],
    formats: ['png'],
    maxImages: 4,
    imagesPerCall: 1,
    maxReferences: 14,
    aspectRatios: ['auto', ...TEN_RATIOS],
  },
} as const satisfies AdapterCapabilities;

/** The values above (and in the request) that no Google page confirms, with their source. */
export const GEMINI_ASSUMPTIONS: readonly Assumption[] = [
  {
    what: 'Gemini output format',
    value: 'png only (png requests served; jpeg and webp refused here, so they fail over)',
    source: "js-genai's ImageConfig says outputMimeType and imageOutputOptions are not supported in the Gemini API (Vertex AI only); Google's examples save the inlineData as PNG. The adapter keeps the mimeType Gemini answers, so a different type would still be labelled truthfully",
  },
  {
    what: 'Gemini 0.5K imageSize value',
    value: '"512"',
    source: 'Google\'s Gemini 3.1 Flash Image model page lists the resolutions "512, 1K, 2K, 4K"; the wire spelling "512" is that list\'s and third-party wrappers\' (not re-checked against a live call)',
  },
  {
    what: 'Gemini seed',
    value: 'sent as generationConfig.seed',
    source: "GenerationConfig has seed (js-genai types); whether the image models honour it is not documented",
  },
  {
    what: 'Nano Banana 2 model id',
    value: 'gemini-3.1-flash-image-preview',
    source: "Google's model page names it; a GA id gemini-3.1-flash-image appears on the Vertex AI page only. Change GEMINI_MODEL_IDS when the Gemini API drops the preview id",
  },
];
