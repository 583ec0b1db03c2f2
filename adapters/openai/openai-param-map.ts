/**
 * openaiParamMap: where every canonical intent field goes in an OpenAI Images API request (docs/mapping.md,
 * "openai"). The same fields go to both endpoints: as JSON for generations, as text parts of the edits form.
 */
import type { ImageIntent } from '../../src/intent/intent';
import { presetOrGridSize, type ParamMap } from '../../src/adapter-kit/param-map';
import { OPENAI_SIZE_MULTIPLE } from './openai-models';

/** No OpenAI size has a preset name: every size is sent as `WIDTHxHEIGHT`. */
const NO_PRESETS: Readonly<Record<string, string>> = {};

/** The OpenAI mapping table. */
export const openaiParamMap = {
  platformModel: { handled: 'selects the OpenAI model id (openai-models.ts)' },
  family: { handled: 'selects the OpenAI model id (openai-models.ts)' },
  taskType: { handled: 'image2image selects the edits endpoint (openai-adapter.ts)' },
  prompt: { to: 'prompt' },
  references: { handled: 'sent as image[] file parts of the edits form (openai-adapter.ts)' },
  count: { to: 'n' },
  geometry: {
    merge: (g, _intent, ctx) => {
      if (g.kind !== 'size') return {};
      // 1920x1080 and 1080x1920 are snapped to the 16-pixel grid with a size_adjusted warning; every other platform size is sent as it is.
      const size = presetOrGridSize(g.width, g.height, NO_PRESETS, OPENAI_SIZE_MULTIPLE, ctx);
      return { size: typeof size === 'string' ? size : `${size.width}x${size.height}` };
    },
  },
  // Always sent (the intent carries the platform default, medium): OpenAI's own default is auto.
  quality: { to: 'quality' },
  format: { to: 'output_format' },
  seed: { to: 'seed', when: () => false, otherwise: "OpenAI's Images API takes no seed; seed was not sent." },
  warnings: { handled: 'copied to the task metadata by the task service' },
  billing: { handled: 'used by usage settlement' },
} as const satisfies ParamMap<ImageIntent>;
