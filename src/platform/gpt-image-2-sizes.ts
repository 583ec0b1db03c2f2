/**
 * The gpt-image-2 size table of the platform API (docs/mapping.md, "gpt-image-2 size -> image_size"), as data.
 * Each entry is a size the platform accepts, its aspect ratio label, orientation and billing tier.
 */

/** Billing tier of a gpt-image-2 size. */
export type SizeTier = '1K' | '2K' | '4K';

/** One row of the platform's gpt-image-2 size table. */
export interface PlatformSize {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** Aspect ratio label as the platform prints it ("3:2 approx" rows are marked approximate). */
  readonly ratio: string;
  /** True where the platform marks the ratio as approximate. */
  readonly approximate: boolean;
  /** landscape, portrait or square. */
  readonly orientation: 'landscape' | 'portrait' | 'square';
  /** Billing tier. */
  readonly tier: SizeTier;
}

// [width, height, ratio, approximate, tier] in the order of the platform API's size table.
const ROWS: ReadonlyArray<readonly [number, number, string, boolean, SizeTier]> = [
  [1024, 768, '4:3', false, '1K'],
  [768, 1024, '3:4', false, '1K'],
  [1344, 1024, '4:3', false, '1K'],
  [1024, 1344, '3:4', false, '1K'],
  [1280, 1024, '5:4', false, '1K'],
  [1024, 1280, '4:5', false, '1K'],
  [1360, 768, '16:9', false, '1K'],
  [768, 1360, '9:16', false, '1K'],
  [1536, 864, '16:9', false, '1K'],
  [864, 1536, '9:16', false, '1K'],
  [1024, 1024, '1:1', false, '1K'],
  [1536, 1024, '3:2', false, '1K'],
  [1024, 1536, '2:3', false, '1K'],
  [2048, 1024, '2:1', false, '1K'],
  [1024, 2048, '1:2', false, '1K'],
  [2016, 864, '21:9', false, '1K'],
  [864, 2016, '9:21', false, '1K'],
  [1920, 1080, '16:9', false, '2K'],
  [1080, 1920, '9:16', false, '2K'],
  [1536, 1536, '1:1', false, '2K'],
  [2048, 1360, '3:2', true, '2K'],
  [1360, 2048, '2:3', true, '2K'],
  [2048, 1536, '4:3', false, '2K'],
  [1536, 2048, '3:4', false, '2K'],
  [2160, 1440, '3:2', false, '2K'],
  [1440, 2160, '2:3', false, '2K'],
  [2048, 1152, '16:9', false, '2K'],
  [1152, 2048, '9:16', false, '2K'],
  [2688, 1344, '2:1', false, '2K'],
  [1344, 2688, '1:2', false, '2K'],
  [2688, 1152, '21:9', false, '2K'],
  [1152, 2688, '9:21', false, '2K'],
  [2560, 1440, '16:9', false, '2K'],
  [1440, 2560, '9:16', false, '2K'],
  [2048, 2048, '1:1', false, '4K'],
  [2560, 2048, '5:4', false, '2K'],
  [2048, 2560, '4:5', false, '2K'],
  [2880, 2880, '1:1', false, '4K'],
  [3264, 2448, '4:3', false, '4K'],
  [2448, 3264, '3:4', false, '4K'],
  [3504, 2336, '3:2', false, '4K'],
  [2336, 3504, '2:3', false, '4K'],
  [3840, 1920, '2:1', false, '4K'],
  [1920, 3840, '1:2', false, '4K'],
  [3840, 1648, '21:9', true, '4K'],
  [1648, 3840, '9:21', true, '4K'],
  [3840, 2160, '16:9', false, '4K'],
  [2160, 3840, '9:16', false, '4K'],
];

/** All 48 sizes, in document order. */
export const GPT_IMAGE_2_SIZES: readonly PlatformSize[] = ROWS.map(([width, height, ratio, approximate, tier]) => ({
  width,
  height,
  ratio,
  approximate,
  tier,
  orientation: width === height ? 'square' : width > height ? 'landscape' : 'portrait',
}));

const BY_KEY = new Map(GPT_IMAGE_2_SIZES.map((s) => [`${s.width}x${s.height}`, s]));

/** The table row for a "WxH" string, or undefined when the platform does not offer that size. */
export function findGptImage2Size(size: string): PlatformSize | undefined {
  return BY_KEY.get(size);
}

/** The accepted sizes as "WxH" strings, for error messages and docs. */
export const GPT_IMAGE_2_SIZE_NAMES: readonly string[] = GPT_IMAGE_2_SIZES.map((s) => `${s.width}x${s.height}`);
