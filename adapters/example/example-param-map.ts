/**
 * exampleParamMap: where every canonical intent field goes in a pixelforge job. The `satisfies` below makes
 * this table exhaustive: a new intent field does not compile until it is mapped here or declared handled.
 */
import type { ImageIntent } from '../../src/intent/intent';
import { INTENT_BOOKKEEPING, referenceUrls, type ParamMap } from '../../src/adapter-kit/param-map';
import { ModelUnavailableError } from '../../src/platform/errors';
import { EXAMPLE_ASPECT_SIZES, EXAMPLE_DEFAULT_ASPECT, exampleEngine } from './example-models';

/** The pixelforge mapping table. */
export const exampleParamMap = {
  platformModel: { handled: 'the family decides the engine' },
  family: { to: 'engine', transform: (family, intent) => exampleEngine(family, intent.quality) },
  taskType: { handled: 'text2image only (EXAMPLE_CAPABILITIES)' },
  prompt: { to: 'text' },
  references: { to: 'refs', transform: referenceUrls },
  count: { to: 'count' },
  format: { to: 'format' },
  geometry: {
    merge: (g) => {
      if (g.kind === 'size') return { width: g.width, height: g.height };
      const ratio = g.aspectRatio ?? EXAMPLE_DEFAULT_ASPECT;
      const size = EXAMPLE_ASPECT_SIZES[ratio];
      if (!size) throw new ModelUnavailableError(`pixelforge has no size for aspect_ratio ${ratio}; use one of ${Object.keys(EXAMPLE_ASPECT_SIZES).join(', ')}.`, 'aspect_ratio');
      return { width: size.width, height: size.height };
    },
  },
  quality: { handled: 'part of the gpt-image-2 engine name (example-models.ts)' },
  seed: { to: 'seed', when: () => false, otherwise: 'pixelforge takes no seed; seed was not sent.' },
  ...INTENT_BOOKKEEPING,
} as const satisfies ParamMap<ImageIntent>;
