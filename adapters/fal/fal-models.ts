/**
 * fal model ids, edit variants and limits, per model family.
 *
 * Endpoint ids, as fal publishes them ("Endpoint ID" / "Model ID" on fal's own pages):
 * - fal-ai/nano-banana: "fal.ai/docs/model-api-reference/image-generation-api/nano-banana";
 *   fal-ai/nano-banana/edit: "fal.ai/models/fal-ai/nano-banana/edit/llms.txt".
 * - fal-ai/nano-banana-2: "fal.ai/docs/model-api-reference/image-generation-api/nano-banana-2";
 *   fal-ai/nano-banana-2/edit: "fal.ai/models/fal-ai/nano-banana-2/edit/llms.txt" (resolution 0.5K/1K/2K/4K).
 * - fal-ai/nano-banana-pro: "fal.ai/docs/model-api-reference/image-generation-api/nano-banana-pro" (1K/2K/4K).
 * - openai/gpt-image-2: "fal.ai/models/openai/gpt-image-2/llms.txt"; openai/gpt-image-2/edit:
 *   "fal.ai/models/openai/gpt-image-2/edit/llms.txt" (a partner model under `openai/`, not `fal-ai/`).
 * Each Nano page gives num_images "Range: 1 to 4". What no fal page states is in FAL_ASSUMPTIONS below
 * (and in the README "Mapping" section).
 */
import type { Assumption } from '../../src/adapter-kit/assumptions';
import type { AdapterCapabilities, PollCadence } from '../../src/adapter-kit/contract';
import type { Family } from '../../src/platform/catalog';

/** fal endpoint id (text-to-image) per family; image-to-image appends `/edit`. */
export const FAL_MODEL_IDS: Readonly<Record<Family, string>> = {
  'nano-banana': 'fal-ai/nano-banana',
  'nano-banana-2': 'fal-ai/nano-banana-2',
  'nano-banana-pro': 'fal-ai/nano-banana-pro',
  'gpt-image-2': 'openai/gpt-image-2',
};

/** The fal endpoint id for a family and task type. */
export function falModelId(family: Family, edit: boolean): string {
  return edit ? `${FAL_MODEL_IDS[family]}/edit` : FAL_MODEL_IDS[family];
}

/** Families whose fal endpoint takes `seed` (gpt-image-2's fal schema has none, as in the hub reference). */
export const FAL_SEED_FAMILIES: readonly Family[] = ['nano-banana', 'nano-banana-2', 'nano-banana-pro'];

/** Families whose fal endpoint takes `resolution`. */
export const FAL_RESOLUTION_FAMILIES: readonly Family[] = ['nano-banana-2', 'nano-banana-pro'];

/** gpt-image-2 `image_size` presets that equal a platform size exactly (fal's ImageSize preset names). */
export const FAL_IMAGE_SIZE_PRESETS: Readonly<Record<string, string>> = {
  '1024x768': 'landscape_4_3',
  '768x1024': 'portrait_4_3',
  '1024x1024': 'square_hd',
};

/** Custom gpt-image-2 sizes must have both edges a multiple of this ("openai/gpt-image-2/llms.txt": multiples of 16). */
export const FAL_SIZE_MULTIPLE = 16;

/** Shortest prompt fal's Nano endpoints accept (their input schema's prompt minimum length). */
export const FAL_NANO_MIN_PROMPT_LENGTH = 3;

const both = ['text2image', 'image2image'] as const;

/** fal's queue jobs take seconds (status polling is cheap, the result fetch is a follow-up): 1 s, doubling, at most every 5 s. */
export const FAL_POLL_CADENCE: PollCadence = { firstMs: 1000, factor: 2, capMs: 5000 };

/**
 * What fal serves, as data; the router decides with this and nothing else.
 * - No 8K: fal publishes no 8K tier for nano-banana-pro (1K/2K/4K only), so NanoBananaPro-8K is never
 *   routed here (model_unavailable, never a silent downgrade).
 * - maxImages 4: fal's Nano pages ("Range: 1 to 4"); for gpt-image-2 see FAL_ASSUMPTIONS.
 * - maxReferences and the Nano prompt minimum: see FAL_ASSUMPTIONS.
 */
export const FAL_CAPABILITIES = {
  'nano-banana': { taskTypes: both, formats: ['png', 'jpeg', 'webp'], maxImages: 4, maxReferences: 10, minPromptLength: FAL_NANO_MIN_PROMPT_LENGTH },
  'nano-banana-2': {
    taskTypes: both,
    resolutions: ['0.5K', '1K', '2K', '4K'],
    formats: ['png', 'jpeg', 'webp'],
    maxImages: 4,
    maxReferences: 14,
    minPromptLength: FAL_NANO_MIN_PROMPT_LENGTH,
  },
  'nano-banana-pro': { taskTypes: both, resolutions: ['1K', '2K', '4K'], formats: ['png', 'jpeg', 'webp'], maxImages: 4, maxReferences: 14, minPromptLength: FAL_NANO_MIN_PROMPT_LENGTH },
  'gpt-image-2': { taskTypes: both, formats: ['png', 'jpeg', 'webp'], maxImages: 4, maxReferences: 16 },
} as const satisfies AdapterCapabilities;

/** The values above that no fal page confirms, with their source. */
export const FAL_ASSUMPTIONS: readonly Assumption[] = [
  {
    what: 'gpt-image-2 num_images on fal',
    value: 'at most 4 per task',
    source: "fal's openai/gpt-image-2 pages (llms.txt) give num_images without a range in the stored copy; third-party wrappers of this fal endpoint document 1 to 4, as fal's Nano pages do. n of 5-8 (which the platform allows) is refused on a deployment whose only gpt-image-2 channel is fal",
  },
  {
    what: 'Nano reference images on fal',
    value: 'nano-banana 10; nano-banana-2 and nano-banana-pro 14',
    source: "fal's Nano edit pages give image_urls without a limit; 14 is the reference-image limit Google documents for the Gemini 3 image models (not re-read for this table), 10 a conservative figure for Gemini 2.5 Flash Image",
  },
  {
    what: 'gpt-image-2 reference images on fal',
    value: '16',
    source: "fal's openai/gpt-image-2/edit page gives image_urls without a limit; 16 is the image-edit limit OpenAI documents for its GPT image models (not re-read for this table)",
  },
  {
    what: 'Nano prompt minimum on fal',
    value: `${FAL_NANO_MIN_PROMPT_LENGTH} characters`,
    source: "fal's Nano input schemas refuse shorter prompts (found by an independent check against fal's published API; the stored copies of fal's pages read for this adapter do not show it)",
  },
  {
    what: 'fal-ai/nano-banana-pro/edit endpoint id',
    value: 'fal-ai/nano-banana-pro/edit',
    source: "fal's nano-banana-pro reference page confirms the text-to-image id; the edit id follows fal's /edit convention, which fal's own pages confirm for nano-banana, nano-banana-2 and openai/gpt-image-2",
  },
];
