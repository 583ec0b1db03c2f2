/**
 * hubParamMap: where every canonical intent field goes in the hub's `input` (docs/mapping.md, "Parameters").
 */
import type { ImageIntent } from '../../src/intent/intent';
import { falStyleGeometry, INTENT_BOOKKEEPING, referenceUrls, type ParamMap } from '../../src/adapter-kit/param-map';
import { HUB_IMAGE_SIZE_PRESETS, HUB_RESOLUTION_FAMILIES, HUB_SEED_FAMILIES, HUB_SIZE_MULTIPLE } from './hub-models';

/** The hub mapping table. */
export const hubParamMap = {
  platformModel: { handled: 'selects the hub model id (hub-models.ts)' },
  family: { handled: 'selects the hub model id (hub-models.ts)' },
  taskType: { handled: 'image2image selects the /edit variant (hub-models.ts)' },
  prompt: { to: 'prompt' },
  references: { to: 'image_urls', transform: referenceUrls },
  count: { to: 'num_images' },
  format: { to: 'output_format' },
  geometry: falStyleGeometry({ presets: HUB_IMAGE_SIZE_PRESETS, sizeMultiple: HUB_SIZE_MULTIPLE, resolutionFamilies: HUB_RESOLUTION_FAMILIES }),
  quality: { to: 'quality' },
  seed: {
    to: 'seed',
    when: (intent) => HUB_SEED_FAMILIES.includes(intent.family),
    otherwise: 'The upstream gpt-image-2 model takes no seed; seed was not sent.',
  },
  ...INTENT_BOOKKEEPING,
} as const satisfies ParamMap<ImageIntent>;
