/**
 * falParamMap: where every canonical intent field goes in a fal model's input (docs/mapping.md, "fal"; fal's
 * parameter names, which the hub mirrors: prompt, num_images, output_format, aspect_ratio, resolution,
 * image_size, quality, seed, image_urls).
 */
import type { ImageIntent } from '../../src/intent/intent';
import { falStyleGeometry, INTENT_BOOKKEEPING, referenceUrls, type ParamMap } from '../../src/adapter-kit/param-map';
import { FAL_IMAGE_SIZE_PRESETS, FAL_RESOLUTION_FAMILIES, FAL_SEED_FAMILIES, FAL_SIZE_MULTIPLE } from './fal-models';

/** The fal mapping table. */
export const falParamMap = {
  platformModel: { handled: 'selects the fal endpoint id (fal-models.ts)' },
  family: { handled: 'selects the fal endpoint id (fal-models.ts)' },
  taskType: { handled: 'image2image selects the /edit endpoint (fal-models.ts)' },
  prompt: { to: 'prompt' },
  references: { to: 'image_urls', transform: referenceUrls },
  count: { to: 'num_images' },
  format: { to: 'output_format' },
  geometry: falStyleGeometry({ presets: FAL_IMAGE_SIZE_PRESETS, sizeMultiple: FAL_SIZE_MULTIPLE, resolutionFamilies: FAL_RESOLUTION_FAMILIES }),
  // Always sent for gpt-image-2 (the intent carries the platform default, medium): fal's own default is high.
  quality: { to: 'quality' },
  seed: {
    to: 'seed',
    when: (intent) => FAL_SEED_FAMILIES.includes(intent.family),
    otherwise: "fal's gpt-image-2 endpoint takes no seed; seed was not sent.",
  },
  ...INTENT_BOOKKEEPING,
} as const satisfies ParamMap<ImageIntent>;
