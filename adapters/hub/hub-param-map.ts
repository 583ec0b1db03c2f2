/**
 * hubParamMap: where every canonical intent field goes in the hub's `input` (docs/mapping.md, "Parameters").
 */
import type { ImageIntent } from '../../src/intent/intent';
import { presetOrGridSize, type ParamMap } from '../../src/adapter-kit/param-map';
import { HUB_IMAGE_SIZE_PRESETS, HUB_RESOLUTION_FAMILIES, HUB_SEED_FAMILIES, HUB_SIZE_MULTIPLE } from './hub-models';

/** The hub mapping table. */
export const hubParamMap = {
  platformModel: { handled: 'selects the hub model id (hub-models.ts)' },
  family: { handled: 'selects the hub model id (hub-models.ts)' },
  taskType: { handled: 'image2image selects the /edit variant (hub-models.ts)' },
  prompt: { to: 'prompt' },
  references: { to: 'image_urls', transform: (refs) => (refs.length > 0 ? refs.map((r) => r.url) : undefined) },
  count: { to: 'num_images' },
  format: { to: 'output_format' },
  geometry: {
    merge: (g, intent, ctx) => {
      if (g.kind === 'size') return { image_size: presetOrGridSize(g.width, g.height, HUB_IMAGE_SIZE_PRESETS, HUB_SIZE_MULTIPLE, ctx) };
      const out: Record<string, unknown> = {};
      if (g.aspectRatio !== undefined) out.aspect_ratio = g.aspectRatio;
      if (g.resolution !== undefined && HUB_RESOLUTION_FAMILIES.includes(intent.family)) out.resolution = g.resolution;
      return out;
    },
  },
  quality: { to: 'quality' },
  seed: {
    to: 'seed',
    when: (intent) => HUB_SEED_FAMILIES.includes(intent.family),
    otherwise: 'The upstream gpt-image-2 model takes no seed; seed was not sent.',
  },
  warnings: { handled: 'copied to the task metadata by the task service' },
  billing: { handled: 'used by usage settlement' },
} as const satisfies ParamMap<ImageIntent>;
