/**
 * falParamMap: where every canonical intent field goes in a fal model's input (design section 4; fal's
 * parameter names, which the hub mirrors: prompt, num_images, output_format, aspect_ratio, resolution,
 * image_size, quality, seed, image_urls).
 */
import type { ImageIntent } from '../../src/intent/intent';
import type { MapContext, ParamMap } from '../../src/adapter/param-map';
import { FAL_IMAGE_SIZE_PRESETS, FAL_RESOLUTION_FAMILIES, FAL_SEED_FAMILIES, FAL_SIZE_MULTIPLE } from './fal-models';

/** Rounds an edge to the nearest multiple fal accepts (1080 -> 1088). */
function snap(edge: number): number {
  return Math.round(edge / FAL_SIZE_MULTIPLE) * FAL_SIZE_MULTIPLE;
}

/** gpt-image-2 size -> `image_size`: a preset name, or `{width, height}` snapped to fal's grid with a warning. */
function imageSize(width: number, height: number, ctx: MapContext): string | { width: number; height: number } {
  const requested = `${width}x${height}`;
  const preset = FAL_IMAGE_SIZE_PRESETS[requested];
  if (preset) return preset;
  const actual = { width: snap(width), height: snap(height) };
  if (actual.width !== width || actual.height !== height) {
    const sent = `${actual.width}x${actual.height}`;
    ctx.warn({ code: 'size_adjusted', param: 'size', message: `The upstream needs edges that are multiples of ${FAL_SIZE_MULTIPLE}; size ${requested} was generated as ${sent}.` });
    ctx.meta('requested_size', requested);
    ctx.meta('actual_size', sent);
  }
  return actual;
}

/** The fal mapping table. */
export const falParamMap = {
  platformModel: { handled: 'selects the fal endpoint id (fal-models.ts)' },
  family: { handled: 'selects the fal endpoint id (fal-models.ts)' },
  taskType: { handled: 'image2image selects the /edit endpoint (fal-models.ts)' },
  prompt: { to: 'prompt' },
  references: { to: 'image_urls', transform: (refs) => (refs.length > 0 ? refs.map((r) => r.url) : undefined) },
  count: { to: 'num_images' },
  format: { to: 'output_format' },
  geometry: {
    merge: (g, intent, ctx) => {
      if (g.kind === 'size') return { image_size: imageSize(g.width, g.height, ctx) };
      const out: Record<string, unknown> = {};
      if (g.aspectRatio !== undefined) out.aspect_ratio = g.aspectRatio;
      if (g.resolution !== undefined && FAL_RESOLUTION_FAMILIES.includes(intent.family)) out.resolution = g.resolution;
      return out;
    },
  },
  // Always sent for gpt-image-2 (the intent carries the platform default, medium): fal's own default is high.
  quality: { to: 'quality' },
  seed: {
    to: 'seed',
    when: (intent) => FAL_SEED_FAMILIES.includes(intent.family),
    otherwise: "fal's gpt-image-2 endpoint takes no seed; seed was not sent.",
  },
  warnings: { handled: 'copied to the task metadata by the task service' },
  billing: { handled: 'used by usage settlement' },
} as const satisfies ParamMap<ImageIntent>;
