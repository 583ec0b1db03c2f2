/**
 * pixelforge engines, sizes and limits: an IMAGINARY upstream that shows contributors the adapter pattern.
 * Nothing here calls a real service; copy this folder as the start of a new adapter.
 */
import type { AdapterCapabilities, PollCadence } from '../../src/adapter-kit/contract';
import type { Family, Quality } from '../../src/platform/catalog';
import { ModelUnavailableError } from '../../src/platform/errors';

/**
 * pixelforge's engine per family. gpt-image-2's quality is part of the engine name on pixelforge, so the
 * engine depends on the intent's quality (the platform always sets one for gpt-image-2; medium by default).
 */
export function exampleEngine(family: Family, quality: Quality | undefined): string {
  switch (family) {
    case 'nano-banana':
      return 'nb-flash';
    case 'gpt-image-2':
      return `gi2-${quality ?? 'medium'}`;
    default:
      // Unreachable: the router only sends the families declared in EXAMPLE_CAPABILITIES.
      throw new ModelUnavailableError(`pixelforge has no engine for ${family}.`);
  }
}

/** pixelforge wants pixels, not ratios: the size each Nano aspect ratio is generated at (1K tier). */
export const EXAMPLE_ASPECT_SIZES: Readonly<Record<string, { width: number; height: number }>> = {
  '1:1': { width: 1024, height: 1024 },
  '2:3': { width: 832, height: 1248 },
  '3:2': { width: 1248, height: 832 },
  '3:4': { width: 864, height: 1184 },
  '4:3': { width: 1184, height: 864 },
  '4:5': { width: 896, height: 1152 },
  '5:4': { width: 1152, height: 896 },
  '9:16': { width: 768, height: 1344 },
  '16:9': { width: 1344, height: 768 },
  '21:9': { width: 1536, height: 672 },
};

/** The ratio used when the client sent none (Nano's own default). */
export const EXAMPLE_DEFAULT_ASPECT = '1:1';

/** How often the engine polls this upstream (copy and tune for a new adapter): 1 s, doubling, at most every 5 s. */
export const EXAMPLE_POLL_CADENCE: PollCadence = { firstMs: 1000, factor: 2, capMs: 5000 };

/**
 * What pixelforge serves, as data: text2image only, no webp, and its own per-call image limits. The router
 * refuses anything else (model_unavailable) before this adapter is ever asked to build a request.
 */
export const EXAMPLE_CAPABILITIES = {
  'nano-banana': { taskTypes: ['text2image'], formats: ['png', 'jpeg'], maxImages: 2, maxReferences: 0 },
  'gpt-image-2': { taskTypes: ['text2image'], formats: ['png', 'jpeg'], maxImages: 4, maxReferences: 0 },
} as const satisfies AdapterCapabilities;
