/**
 * fal model ids, edit variants and limits, per model family.
 *
 * Sources (fal's public model pages, "fal.ai/models/<id>/api" and their "llms.txt" twins):
 * - fal-ai/nano-banana, fal-ai/nano-banana/edit: "fal.ai/models/fal-ai/nano-banana/api" and
 *   "fal.ai/models/fal-ai/nano-banana/edit/llms.txt" (num_images range 1 to 4; output_format jpeg/png/webp;
 *   aspect_ratio incl. auto on edit; seed; image_urls on edit).
 * - fal-ai/nano-banana-pro(/edit): "fal.ai/models/fal-ai/nano-banana-pro/api". ASSUMPTION: id recalled from
 *   fal's gallery and seen in third-party integrations, page not re-read for this adapter.
 * - fal-ai/nano-banana-2(/edit): ASSUMPTION: follows fal's naming of the other Nano models; the hub reference
 *   (seed 004) mirrors fal's parameter table for it (resolution 0.5K/1K/2K/4K).
 * - openai/gpt-image-2(/edit): "fal.ai/models/openai/gpt-image-2/api" (partner model under the `openai/`
 *   namespace, not `fal-ai/`). ASSUMPTION: id seen in third-party integrations that cite that page.
 * A wrong id is a one-line fix in FAL_MODEL_IDS.
 */
import type { AdapterCapabilities } from '../../src/adapter-kit/contract';
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

/** Custom gpt-image-2 sizes must have both edges a multiple of this ("openai/gpt-image-2/api": multiples of 16). */
export const FAL_SIZE_MULTIPLE = 16;

const both = ['text2image', 'image2image'] as const;

/**
 * What fal serves, as data; the router decides with this and nothing else.
 * - No 8K: fal publishes no 8K tier for nano-banana-pro (1K/2K/4K only), so NanoBananaPro-8K is never
 *   routed here (model_unavailable, never a silent downgrade).
 * - maxImages: fal's Nano pages give num_images 1 to 4. ASSUMPTION: 4 for openai/gpt-image-2 too (fal's
 *   usual cap; the platform allows 8): n > 4 for gpt-image-2 is not served by this adapter.
 * - maxReferences: ASSUMPTION: 14 for nano-banana-2/pro (Google's documented reference limit for Gemini 3
 *   image models), 10 for nano-banana, 16 for gpt-image-2 (OpenAI's edit limit); fal's pages give no limit.
 */
export const FAL_CAPABILITIES = {
  'nano-banana': { taskTypes: both, formats: ['png', 'jpeg', 'webp'], maxImages: 4, maxReferences: 10 },
  'nano-banana-2': { taskTypes: both, resolutions: ['0.5K', '1K', '2K', '4K'], formats: ['png', 'jpeg', 'webp'], maxImages: 4, maxReferences: 14 },
  'nano-banana-pro': { taskTypes: both, resolutions: ['1K', '2K', '4K'], formats: ['png', 'jpeg', 'webp'], maxImages: 4, maxReferences: 14 },
  'gpt-image-2': { taskTypes: both, formats: ['png', 'jpeg', 'webp'], maxImages: 4, maxReferences: 16 },
} as const satisfies AdapterCapabilities;
