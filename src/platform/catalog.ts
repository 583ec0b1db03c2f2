/**
 * The platform's model catalog as data (docs/mapping.md, "Models").
 * Adding a platform model is adding a row here; no code branches on model names.
 */

/** Upstream-neutral model family. */
export type Family = 'nano-banana' | 'nano-banana-2' | 'nano-banana-pro' | 'gpt-image-2';
/** Nano resolution tiers (8K is in the platform catalog but no upstream serves it today). */
export type Resolution = '0.5K' | '1K' | '2K' | '4K' | '8K';
/** Output image formats. */
export type OutputFormat = 'png' | 'jpeg' | 'webp';
/** Task types of the platform. */
export type TaskType = 'text2image' | 'image2image';
/** gpt-image-2 quality levels. */
export type Quality = 'low' | 'medium' | 'high';

/** How a model controls the output geometry. */
export type GeometryControl = 'aspect_ratio' | 'size';

/** One platform model. */
export interface CatalogModel {
  /** The platform model name, exactly as clients send it. */
  readonly name: string;
  /** Family it belongs to. */
  readonly family: Family;
  /** Resolution tier for tiered Nano models. */
  readonly resolution?: Resolution;
  /** Whether the model is steered by aspect_ratio (Nano) or by size (gpt-image-2). */
  readonly geometry: GeometryControl;
  /** Output formats the platform allows for this model. */
  readonly formats: readonly OutputFormat[];
  /** Aspect ratios accepted (Nano only). */
  readonly aspectRatios: readonly string[];
  /** Inclusive range of n. */
  readonly n: { readonly min: number; readonly max: number };
  /** Whether quality is a real parameter (gpt-image-2) or decided by the tier (Nano). */
  readonly quality: boolean;
}

const NANO_RATIOS = ['21:9', '16:9', '3:2', '4:3', '5:4', '1:1', '4:5', '3:4', '2:3', '9:16'] as const;
/** nano-banana-2 adds auto and the extreme ratios (hub model reference). */
const NANO_2_RATIOS = ['auto', ...NANO_RATIOS, '4:1', '1:4', '8:1', '1:8'] as const;
/** nano-banana-pro adds auto (hub model reference). */
const NANO_PRO_RATIOS = ['auto', ...NANO_RATIOS] as const;

function nano(name: string, family: Family, ratios: readonly string[], formats: readonly OutputFormat[], resolution?: Resolution): CatalogModel {
  return { name, family, resolution, geometry: 'aspect_ratio', formats, aspectRatios: ratios, n: { min: 1, max: 4 }, quality: false };
}

/** Every platform model. */
export const MODEL_CATALOG: readonly CatalogModel[] = [
  nano('NanoBanana', 'nano-banana', NANO_RATIOS, ['png', 'jpeg', 'webp']),
  nano('NanoBanana2-0.5K', 'nano-banana-2', NANO_2_RATIOS, ['png', 'jpeg'], '0.5K'),
  nano('NanoBanana2-1K', 'nano-banana-2', NANO_2_RATIOS, ['png', 'jpeg'], '1K'),
  nano('NanoBanana2-2K', 'nano-banana-2', NANO_2_RATIOS, ['png', 'jpeg'], '2K'),
  nano('NanoBanana2-4K', 'nano-banana-2', NANO_2_RATIOS, ['png', 'jpeg'], '4K'),
  nano('NanoBananaPro-1K', 'nano-banana-pro', NANO_PRO_RATIOS, ['png', 'jpeg'], '1K'),
  nano('NanoBananaPro-2K', 'nano-banana-pro', NANO_PRO_RATIOS, ['png', 'jpeg'], '2K'),
  nano('NanoBananaPro-4K', 'nano-banana-pro', NANO_PRO_RATIOS, ['png', 'jpeg'], '4K'),
  nano('NanoBananaPro-8K', 'nano-banana-pro', NANO_PRO_RATIOS, ['png', 'jpeg'], '8K'),
  {
    name: 'gpt-image-2',
    family: 'gpt-image-2',
    geometry: 'size',
    formats: ['png', 'jpeg', 'webp'],
    aspectRatios: [],
    n: { min: 1, max: 8 },
    quality: true,
  },
];

const BY_NAME = new Map(MODEL_CATALOG.map((m) => [m.name, m]));

/** The catalog row of a platform model name, or undefined. */
export function findModel(name: string): CatalogModel | undefined {
  return BY_NAME.get(name);
}

/** All platform model names, for error messages. */
export const MODEL_NAMES: readonly string[] = MODEL_CATALOG.map((m) => m.name);

/** gpt-image-2 quality values and the platform default (docs/mapping.md, "Parameters": the platform default is medium). */
export const QUALITIES: readonly Quality[] = ['low', 'medium', 'high'];
export const DEFAULT_QUALITY: Quality = 'medium';
/** Default output format when the client sends none (the hub's own default, sent explicitly). */
export const DEFAULT_FORMAT: OutputFormat = 'png';
