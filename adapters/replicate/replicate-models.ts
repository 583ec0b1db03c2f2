/**
 * Replicate model ids and limits, per model family (what is checked against which page: fixtures/replicate/README.md
 * and the README "Replicate" row).
 *
 * Model ids and input schemas, from Replicate's own model API pages ("replicate.com/<owner>/<name>/versions/<id>/api",
 * "Input schema" / "Output schema"):
 * - google/nano-banana (version f0a9d34b): prompt, image_input (array, "supports multiple images"),
 *   output_format (default jpg); output one `uri` string.
 * - google/nano-banana-2 (version 2de9ad5b): prompt, image_input ("supports up to 14 images"), aspect_ratio
 *   (default match_input_image), resolution (default 1K), google_search, image_search, output_format (default
 *   jpg); output one `uri` string.
 * - google/nano-banana-pro (version f5318740): prompt, image_input ("supports up to 14 images"), aspect_ratio
 *   (default match_input_image), resolution (default 2K), output_format (default jpg), safety_filter_level;
 *   output one `uri` string.
 * Those pages name the enum fields without listing their options; the options below (aspect ratios, 1K/2K/4K,
 * png/jpg) come from a reseller's copy of the same schemas ("api.core.today/v1/models/google/<name>/llms.txt",
 * "Provider: replicate") and are listed in REPLICATE_ASSUMPTIONS.
 *
 * Not served here: gpt-image-2. Replicate's openai/gpt-image-2 takes `aspect_ratio` 1:1, 3:2 or 2:3 only (same
 * reseller copy), while the platform's gpt-image-2 is steered by an exact size (48 sizes) and capabilities
 * cannot yet declare sizes, so the router could not refuse the other 45 before building. The hub and fal serve it.
 */
import type { Assumption } from '../../src/adapter-kit/assumptions';
import type { AdapterCapabilities, PollCadence } from '../../src/adapter-kit/contract';
import type { Family, OutputFormat } from '../../src/platform/catalog';

/** Replicate model (`owner/name`) per family served; text2image and image2image use the same model. */
export const REPLICATE_MODEL_IDS: Readonly<Partial<Record<Family, string>>> = {
  'nano-banana': 'google/nano-banana',
  'nano-banana-2': 'google/nano-banana-2',
  'nano-banana-pro': 'google/nano-banana-pro',
};

/** The Replicate model of a family (the router only routes families in REPLICATE_CAPABILITIES here). */
export function replicateModelId(family: Family): string {
  const id = REPLICATE_MODEL_IDS[family];
  if (id === undefined) throw new Error(`Replicate serves no model of family ${family}.`);
  return id;
}

/** Replicate's output_format values for the platform formats it produces (jpeg is spelled jpg). */
export const REPLICATE_FORMATS: Readonly<Partial<Record<OutputFormat, string>>> = { png: 'png', jpeg: 'jpg' };

/** Families whose Replicate model takes `resolution` (1K/2K/4K). */
export const REPLICATE_RESOLUTION_FAMILIES: readonly Family[] = ['nano-banana-2', 'nano-banana-pro'];

/** The ten ratios of Gemini 2.5 Flash Image and Gemini 3 Pro Image on Replicate (the platform's `auto` is not one). */
const GEMINI_RATIOS = ['21:9', '16:9', '3:2', '4:3', '5:4', '1:1', '4:5', '3:4', '2:3', '9:16'] as const;

/** Replicate's Nano jobs take 5-40 s: first poll after 2 s, then doubling, at most every 5 s. */
export const REPLICATE_POLL_CADENCE: PollCadence = { firstMs: 2000, factor: 2, capMs: 5000 };

const both = ['text2image', 'image2image'] as const;

/**
 * What Replicate serves, as data; the router decides with this and nothing else, and fails over to the next
 * channel (e.g. the hub) for the rest:
 * - one image per prediction (each Nano output schema is a single URI): n above 1 is not served here;
 * - png and jpeg (Replicate's png/jpg): webp is not;
 * - no 0.5K tier for nano-banana-2 and no 8K: Replicate's tiers are 1K/2K/4K;
 * - no `auto` aspect ratio (Replicate's nearest is match_input_image, which is not the same thing for text2image).
 */
export const REPLICATE_CAPABILITIES = {
  'nano-banana': { taskTypes: both, formats: ['png', 'jpeg'], maxImages: 1, maxReferences: 10, aspectRatios: GEMINI_RATIOS },
  'nano-banana-2': {
    taskTypes: both,
    resolutions: ['1K', '2K', '4K'],
    formats: ['png', 'jpeg'],
    maxImages: 1,
    maxReferences: 14,
    aspectRatios: [...GEMINI_RATIOS, '4:1', '1:4', '8:1', '1:8'],
  },
  'nano-banana-pro': { taskTypes: both, resolutions: ['1K', '2K', '4K'], formats: ['png', 'jpeg'], maxImages: 1, maxReferences: 14, aspectRatios: GEMINI_RATIOS },
} as const satisfies AdapterCapabilities;

/** The values above that no page of Replicate's own confirms, with their source. */
export const REPLICATE_ASSUMPTIONS: readonly Assumption[] = [
  {
    what: 'Nano aspect ratios on Replicate',
    value: 'nano-banana and nano-banana-pro the ten Gemini ratios; nano-banana-2 also 4:1, 1:4, 8:1, 1:8',
    source: "Replicate's model API pages name aspect_ratio without its options; the options are from a reseller's copy of Replicate's schemas (api.core.today llms.txt, Provider: replicate)",
  },
  {
    what: 'Nano resolutions and formats on Replicate',
    value: 'resolution 1K, 2K, 4K; output_format png or jpg',
    source: "Replicate's model API pages give the defaults (1K or 2K; jpg) without the options; the options are from the same reseller's copy",
  },
  {
    what: 'nano-banana reference images on Replicate',
    value: '10',
    source: "Replicate's google/nano-banana page says image_input supports multiple images without a number; 10 is the figure the fal adapter uses for Gemini 2.5 Flash Image (nano-banana-2 and -pro: 14, as Replicate's pages say)",
  },
];
