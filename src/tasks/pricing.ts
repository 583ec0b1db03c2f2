/**
 * The price table (the `prices` section of CONFIG_FILE) and the cost of a finished task, following the
 * platform's billing rules (docs/configuration.md, prices). The table is data, one entry per platform model:
 * a unit price per image (`0.039`), or a price per image by size tier and quality
 * (`{ "1K": { "low": 0.011, ... }, ... }`). A new model or family is a new entry, never a new branch.
 *
 * Billed count: the images actually returned, at most the requested count (`billing.requestedImages`, the
 * task's `n`). The platform API allows either ("n or the number of results the upstream actually returned");
 * charging for returned images means a client is never billed for an image it did not get. A failed task
 * costs 0.
 */
import { z } from 'zod';
import { MODEL_CATALOG, QUALITIES, type CatalogModel, type Quality } from '../platform/catalog';
import { ConfigError } from '../platform/errors';
import type { SizeTier } from '../platform/gpt-image-2-sizes';
import type { TaskRecord } from './task-record';

/** The size tiers a tier x quality price covers. */
const SIZE_TIERS: readonly SizeTier[] = ['1K', '2K', '4K'];

/** A price per image by size tier and quality (gpt-image-2). */
export type TierQualityPrices = Readonly<Partial<Record<SizeTier, Readonly<Partial<Record<Quality, number>>>>>>;

/** One model's price per returned image: a unit price, or a price by size tier and quality. */
export type ModelPrice = number | TierQualityPrices;

/** The price table: the currency, and one price per platform model name. */
export interface Prices {
  /** Currency or unit of every price, e.g. `USD` or `credits`. */
  readonly currency: string;
  /** Price per returned image, by platform model name. */
  readonly models: Readonly<Record<string, ModelPrice>>;
}

const unitPrice = z.number().finite().nonnegative();
const qualityPrices = z.strictObject({ low: unitPrice.optional(), medium: unitPrice.optional(), high: unitPrice.optional() });
const tierQualityPrices = z.strictObject({ '1K': qualityPrices.optional(), '2K': qualityPrices.optional(), '4K': qualityPrices.optional() });

/** Schema of the `prices` section: `{ currency, models }` (completeness is checked by `validatePrices`). */
export const pricesSchema = z.strictObject({
  currency: z.string().min(1),
  models: z.record(z.string(), z.union([unitPrice, tierQualityPrices])),
});

/**
 * The first format of the `prices` section, still accepted: `nano` (unit prices by Nano model name) and
 * `gpt_image_2` (the tier x quality prices of gpt-image-2). Read as `{ models: { ...nano, 'gpt-image-2': gpt_image_2 } }`.
 */
export const legacyPricesSchema = z.strictObject({
  currency: z.string().min(1),
  nano: z.record(z.string(), unitPrice),
  gpt_image_2: tierQualityPrices,
});

/**
 * Default prices. ILLUSTRATIVE NUMBERS ONLY (in the range of public list prices for these models, not any
 * gateway's real tariff): a deployment that bills must configure its own `prices` in CONFIG_FILE.
 */
export const DEFAULT_PRICES: Prices = {
  currency: 'USD',
  models: {
    NanoBanana: 0.039,
    'NanoBanana2-0.5K': 0.045,
    'NanoBanana2-1K': 0.067,
    'NanoBanana2-2K': 0.101,
    'NanoBanana2-4K': 0.151,
    'NanoBananaPro-1K': 0.134,
    'NanoBananaPro-2K': 0.134,
    'NanoBananaPro-4K': 0.24,
    'NanoBananaPro-8K': 0.48,
    'gpt-image-2': {
      '1K': { low: 0.011, medium: 0.042, high: 0.167 },
      '2K': { low: 0.022, medium: 0.084, high: 0.334 },
      '4K': { low: 0.044, medium: 0.168, high: 0.668 },
    },
  },
};

/** Whether a task of this model carries a size tier and a quality to price by (the catalog says so). */
function hasTierAndQuality(model: CatalogModel): boolean {
  return model.geometry === 'size' && model.quality;
}

/**
 * Throws one ConfigError listing every model of `models` (default: the whole catalog) without a price (for a
 * tier x quality price: every missing tier and quality), every tier x quality price on a model whose tasks
 * have no tier or quality, and every price for a model name the catalog does not know (a typo must not leave
 * a model unpriced).
 */
export function validatePrices(prices: Prices, models: readonly CatalogModel[] = MODEL_CATALOG): void {
  const missing: string[] = [];
  const misfit: string[] = [];
  for (const model of models) {
    const price = prices.models[model.name];
    if (price === undefined) {
      missing.push(model.name);
    } else if (typeof price !== 'number') {
      if (!hasTierAndQuality(model)) misfit.push(model.name);
      else for (const tier of SIZE_TIERS) for (const quality of QUALITIES) if (price[tier]?.[quality] === undefined) missing.push(`${model.name} ${tier} ${quality}`);
    }
  }
  const known = MODEL_CATALOG.map((m) => m.name);
  const unknown = Object.keys(prices.models).filter((name) => !known.includes(name));
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`missing prices: ${missing.join(', ')}`);
  if (misfit.length > 0) parts.push(`priced by size tier and quality but its tasks have neither (give one unit price): ${misfit.join(', ')}`);
  if (unknown.length > 0) parts.push(`unknown models: ${unknown.join(', ')} (known: ${known.join(', ')})`);
  if (parts.length > 0) throw new ConfigError(`Invalid price table: ${parts.join('; ')}.`);
}

function shapeError(error: z.ZodError): ConfigError {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? `prices.${issue.path.join('.')}` : 'prices';
  return new ConfigError(`Invalid price table: ${where}: ${issue?.message ?? 'not valid'}.`);
}

/**
 * Parses and validates the `prices` section of CONFIG_FILE (`{ currency, models }`, or the first format
 * `{ currency, nano, gpt_image_2 }`); absent -> DEFAULT_PRICES. Throws ConfigError.
 */
export function parsePrices(raw: unknown, models: readonly CatalogModel[] = MODEL_CATALOG): Prices {
  if (raw === undefined) return DEFAULT_PRICES;
  let prices: Prices;
  if (typeof raw === 'object' && raw !== null && ('nano' in raw || 'gpt_image_2' in raw)) {
    const legacy = legacyPricesSchema.safeParse(raw);
    if (!legacy.success) throw shapeError(legacy.error);
    prices = { currency: legacy.data.currency, models: { ...legacy.data.nano, 'gpt-image-2': legacy.data.gpt_image_2 } };
  } else {
    const parsed = pricesSchema.safeParse(raw);
    if (!parsed.success) throw shapeError(parsed.error);
    prices = parsed.data;
  }
  validatePrices(prices, models);
  return prices;
}

/** The price of one image of this task, from its model's entry and its billing facts. Throws ConfigError when there is none. */
function unitPriceOf(prices: Prices, record: Pick<TaskRecord, 'model' | 'billing'>): number {
  const price = prices.models[record.model];
  if (typeof price === 'number') return price;
  if (price === undefined) throw new ConfigError(`No price for model ${record.model}.`);
  const { tier, quality } = record.billing;
  const unit = tier && quality ? price[tier]?.[quality] : undefined;
  if (unit === undefined) throw new ConfigError(`No ${record.model} price for tier ${tier ?? '?'} and quality ${quality ?? '?'}.`);
  return unit;
}

/**
 * Cost of a finished task: 0 when failed, otherwise the per-image price x the images billed — those returned
 * (`resultCount`), at most `billing.requestedImages` — rounded to 1e-9 so that sums of decimal prices do not
 * show binary noise. Throws ConfigError when the table has no price for the task (validatePrices at start-up
 * prevents it).
 */
export function computeCost(prices: Prices, record: Pick<TaskRecord, 'model' | 'billing'>, resultCount: number, status: 'succeeded' | 'failed'): number {
  if (status === 'failed' || resultCount <= 0) return 0;
  const unit = unitPriceOf(prices, record);
  // Never more than the client asked for: an upstream that returns 1,000 images for n=1 is billed 1 image
  // (the record keeps n results at most too; this also covers records stored before that cap).
  const billed = Math.min(resultCount, Math.max(1, record.billing.requestedImages));
  return Math.round(unit * billed * 1e9) / 1e9;
}
