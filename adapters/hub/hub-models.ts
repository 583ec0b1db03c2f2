/**
 * Hub model ids, edit variants and limits, per model family (the hub's model reference).
 */
import type { Assumption } from '../../src/adapter-kit/assumptions';
import type { AdapterCapabilities, PollCadence } from '../../src/adapter-kit/contract';
import type { Family } from '../../src/platform/catalog';

/** Hub model id per family (text-to-image). */
export const HUB_MODEL_IDS: Readonly<Record<Family, string>> = {
  'nano-banana': 'nano-banana',
  'nano-banana-2': 'nano-banana-2',
  'nano-banana-pro': 'nano-banana-pro',
  'gpt-image-2': 'gpt-image-2',
};

/** Image-to-image goes to the edit variant of the model (fal's convention; the contract in hub-api.ts). */
export function hubModelId(family: Family, edit: boolean): string {
  return edit ? `${HUB_MODEL_IDS[family]}/edit` : HUB_MODEL_IDS[family];
}

/** Families whose hub model takes `seed` (gpt-image-2's parameter table has none). */
export const HUB_SEED_FAMILIES: readonly Family[] = ['nano-banana', 'nano-banana-2', 'nano-banana-pro'];

/** Families whose hub model takes `resolution`. */
export const HUB_RESOLUTION_FAMILIES: readonly Family[] = ['nano-banana-2', 'nano-banana-pro'];

/**
 * gpt-image-2 `image_size` presets that equal a platform size exactly (fal's preset names).
 * Other sizes are sent as `{ width, height }`.
 */
export const HUB_IMAGE_SIZE_PRESETS: Readonly<Record<string, string>> = {
  '1024x768': 'landscape_4_3',
  '768x1024': 'portrait_4_3',
  '1024x1024': 'square_hd',
};

/** Custom gpt-image-2 sizes must have both edges a multiple of this (hub model reference). */
export const HUB_SIZE_MULTIPLE = 16;

const both = ['text2image', 'image2image'] as const;

/** The hub's jobs take seconds to a minute: first poll after 1 s, then doubling, at most every 5 s. */
export const HUB_POLL_CADENCE: PollCadence = { firstMs: 1000, factor: 2, capMs: 5000 };

/**
 * What the hub serves. The hub document gives no image-count or reference-count limits; these are the
 * platform's own n ranges and the bridge's reference cap (HUB_ASSUMPTIONS).
 */
export const HUB_CAPABILITIES = {
  'nano-banana': { taskTypes: both, formats: ['png', 'jpeg', 'webp'], maxImages: 4, maxReferences: 16 },
  'nano-banana-2': { taskTypes: both, resolutions: ['0.5K', '1K', '2K', '4K'], formats: ['png', 'jpeg', 'webp'], maxImages: 4, maxReferences: 16 },
  'nano-banana-pro': { taskTypes: both, resolutions: ['1K', '2K', '4K'], formats: ['png', 'jpeg', 'webp'], maxImages: 4, maxReferences: 16 },
  'gpt-image-2': { taskTypes: both, formats: ['png', 'jpeg', 'webp'], maxImages: 8, maxReferences: 16 },
} as const satisfies AdapterCapabilities;

/** The values above that the hub's document does not give, with their source. */
export const HUB_ASSUMPTIONS: readonly Assumption[] = [
  {
    what: "the hub's num_images range",
    value: 'Nano 1-4, gpt-image-2 1-8',
    source: "the hub's model reference lists num_images (default 1) without a range; these are the platform document's n ranges (Nano: at most 4 here, \"以上游限制为准\"; gpt-image-2: 1-8)",
  },
  {
    what: "the hub's reference-image limit",
    value: '16',
    source: "the hub's model reference gives no limit for image_urls; 16 is the bridge's own cap (MAX_REFERENCE_IMAGES)",
  },
];
