/**
 * replicateParamMap: where every canonical intent field goes in a Replicate Nano model's `input` (docs/mapping.md,
 * "Replicate"; Replicate's input names: prompt, image_input, aspect_ratio, resolution, output_format).
 */
import type { ImageIntent } from '../../src/intent/intent';
import { INTENT_BOOKKEEPING, referenceUrls, type ParamMap } from '../../src/adapter-kit/param-map';
import { REPLICATE_FORMATS, REPLICATE_RESOLUTION_FAMILIES } from './replicate-models';

/** The Replicate mapping table. */
export const replicateParamMap = {
  platformModel: { handled: 'selects the Replicate model (replicate-models.ts)' },
  family: { handled: 'selects the Replicate model (replicate-models.ts)' },
  taskType: { handled: 'the same model does both; image2image is image_input' },
  prompt: { to: 'prompt' },
  references: { to: 'image_input', transform: referenceUrls },
  count: { handled: 'one image per prediction (maxImages 1 in replicate-models.ts); Nano models take no count' },
  format: { to: 'output_format', transform: (format) => REPLICATE_FORMATS[format] },
  geometry: {
    merge: (g, intent) => {
      const out: Record<string, unknown> = {};
      if (g.kind !== 'aspect') return out;
      // Absent: Replicate's default applies (match_input_image, i.e. the reference's ratio for image2image).
      if (g.aspectRatio !== undefined) out.aspect_ratio = g.aspectRatio;
      if (g.resolution !== undefined && REPLICATE_RESOLUTION_FAMILIES.includes(intent.family)) out.resolution = g.resolution;
      return out;
    },
  },
  quality: { to: 'quality', when: () => false, otherwise: "Replicate's Nano models take no quality; quality was not sent." },
  seed: { to: 'seed', when: () => false, otherwise: "Replicate's Nano models take no seed; seed was not sent." },
  ...INTENT_BOOKKEEPING,
} as const satisfies ParamMap<ImageIntent>;
