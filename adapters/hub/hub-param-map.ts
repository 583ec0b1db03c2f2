/**
 * hubParamMap: where every canonical intent field goes in the hub's `input` (design sections 4 and 9).
 */
import type { ImageIntent } from '../../src/intent/intent';
import type { MapContext, ParamMap } from '../../src/adapter/param-map';
import { HUB_IMAGE_SIZE_PRESETS, HUB_RESOLUTION_FAMILIES, HUB_SEED_FAMILIES, HUB_SIZE_MULTIPLE } from './hub-models';

/** Rounds an edge to the nearest multiple the hub accepts (1080 -> 1088). */
function snap(edge: number): number {
  return Math.round(edge / HUB_SIZE_MULTIPLE) * HUB_SIZE_MULTIPLE;
}

/** gpt-image-2 size -> `image_size`: a preset name, or `{width, height}` snapped to the hub's grid with a warning. */
function imageSize(width: number, height: number, ctx: MapContext): string | { width: number; height: number } {
  const requested = `${width}x${height}`;
  const preset = HUB_IMAGE_SIZE_PRESETS[requested];
  if (preset) return preset;
  const actual = { width: snap(width), height: snap(height) };
  if (actual.width !== width || actual.height !== height) {
    const sent = `${actual.width}x${actual.height}`;
    ctx.warn({ code: 'size_adjusted', param: 'size', message: `The upstream needs edges that are multiples of ${HUB_SIZE_MULTIPLE}; size ${requested} was generated as ${sent}.` });
    ctx.meta('requested_size', requested);
    ctx.meta('actual_size', sent);
  }
  return actual;
}

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
      if (g.kind === 'size') return { image_size: imageSize(g.width, g.height, ctx) };
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
