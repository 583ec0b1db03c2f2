/**
 * geminiParamMap: where every canonical intent field goes in a generateContent body (docs/mapping.md, "Gemini").
 * The map builds a flat record of the fields below; gemini-adapter.ts nests them into `contents` and
 * `generationConfig` (`prompt` and `references` are the user turn's parts; `aspectRatio` and `imageSize` go to
 * `imageConfig`; `seed` to `generationConfig`).
 */
import type { ImageIntent, ImageRef } from '../../src/intent/intent';
import type { ParamMap } from '../../src/adapter-kit/param-map';
import { GEMINI_IMAGE_SIZE_FAMILIES, GEMINI_IMAGE_SIZES } from './gemini-models';

const DATA_URI = /^data:([a-z]+\/[a-z0-9.+-]+);base64,/i;

/**
 * A reference as a Gemini part: a data: URI as `inlineData`. At call time every reference is one: the gemini
 * adapter declares `referenceBytes`, so the engine fetches http(s) references first (src/tasks/reference-bytes.ts)
 * and Gemini gets the bytes, the input its image guide documents. Only a plan made before that (the translate dry
 * run, the submit's plan for warnings) still holds a URL, shown as a `fileData` part; that part is never sent.
 */
export function geminiReferencePart(ref: ImageRef): Record<string, unknown> {
  const match = DATA_URI.exec(ref.url);
  if (match) return { inlineData: { mimeType: (match[1] as string).toLowerCase(), data: ref.url.slice(match[0].length) } };
  return { fileData: { fileUri: ref.url } };
}

/** The Gemini mapping table. */
export const geminiParamMap = {
  platformModel: { handled: 'selects the Gemini model id in the path (gemini-models.ts)' },
  family: { handled: 'selects the Gemini model id in the path (gemini-models.ts)' },
  taskType: { handled: 'image2image is the same call with the references as parts' },
  prompt: { to: 'prompt' },
  references: { to: 'references', transform: (refs) => (refs.length > 0 ? refs.map(geminiReferencePart) : undefined) },
  count: { handled: 'one image per call: the engine fans n out over n calls (imagesPerCall 1)' },
  format: { handled: 'Gemini answers PNG and takes no format; only png is declared (gemini-models.ts)' },
  geometry: {
    merge: (g, intent) => {
      // The router only sends aspect geometries here (Nano families); `auto` is no aspectRatio at all.
      if (g.kind !== 'aspect') return {};
      const out: Record<string, unknown> = {};
      if (g.aspectRatio !== undefined && g.aspectRatio !== 'auto') out.aspectRatio = g.aspectRatio;
      const size = g.resolution !== undefined ? GEMINI_IMAGE_SIZES[g.resolution] : undefined;
      if (size !== undefined && GEMINI_IMAGE_SIZE_FAMILIES.includes(intent.family)) out.imageSize = size;
      return out;
    },
  },
  quality: { handled: 'Nano models have no quality (the normalizer warns quality_ignored)' },
  seed: { to: 'seed' },
  warnings: { handled: 'copied to the task metadata by the task service' },
  billing: { handled: 'used by usage settlement' },
} as const satisfies ParamMap<ImageIntent>;
