/**
 * The price table (the `prices` section of CONFIG_FILE) and the cost of a finished task, following the
 * platform's billing rules (docs/configuration.md, prices): Nano models cost a fixed unit price per image;
 * gpt-image-2 costs price[size tier][quality] per image.
 *
 * Billed count: the images actually returned, not `n`. The platform API allows either ("n or the
 * number of results the upstream actually returned"); charging for returned images means a client is
 * never billed for an image it did not get. A failed task costs 0.
 */
import { z } from 'zod';
import { MODEL_CATALOG, QUALITIES, type CatalogModel } from '../platform/catalog';
import { ConfigError } from '../platform/errors';
import type { SizeTier } from '../platform/gpt-image-2-sizes';
import type { TaskRecord } from './task-record';

const unitPrice = z.number().finite().nonnegative();
const qualityPrices = z.strictObject({ low: unitPrice.optional(), medium: unitPrice.optional(), high: unitPrice.optional() });

/** Schema of the `prices` section (completeness is checked by `validatePrices`, with messages naming what is missing). */
export const pricesSchema = z.strictObject({
  /** Currency or unit of every price, e.g. `USD` or `credits`. */
  currency: z.string().min(1),
  /** Unit price per returned image, by Nano platform model name. */
  nano: z.record(z.string(), unitPrice),
  /** Price per returned image, by size tier and quality. */
  gpt_image_2: z.strictObject({ '1K': qualityPrices.optional(), '2K': qualityPrices.optional(), '4K': qualityPrices.optional() }),
});

/** The price table. */
export type Prices = z.infer<typeof pricesSchema>;

const SIZE_TIERS: readonly SizeTier[] = ['1K', '2K', '4K'];

/**
 * Default prices. ILLUSTRATIVE NUMBERS ONLY (in the range of public list prices for these models, not any
 * gateway's real tariff): a deployment that bills must configure its own `prices` in CONFIG_FILE.
 */
export const DEFAULT_PRICES: Prices = {
  currency: 'USD',
  nano: {
    NanoBanana: 0.039,
    'NanoBanana2-0.5K': 0.045,
    'NanoBanana2-1K': 0.067,
    'NanoBanana2-2K': 0.101,
    'NanoBanana2-4K': 0.151,
    'NanoBananaPro-1K': 0.134,
    'NanoBananaPro-2K': 0.134,
    'NanoBananaPro-4K': 0.24,
    'NanoBananaPro-8K': 0.48,
  },
  gpt_image_2: {
    '1K': { low: 0.011, medium: 0.042, high: 0.167 },
    '2K': { low: 0.022, medium: 0.084, high: 0.334 },
    '4K': { low: 0.044, medium: 0.168, high: 0.668 },
  },
};

function isMatrixPriced(model: CatalogModel | { family: string }): boolean {
  return model.family === 'gpt-image-2';
}

/**
 * Throws one ConfigError listing every model of `models` (default: the whole catalog) without a price, and
 * every Nano price for a model name the catalog does not know (a typo must not leave a model unpriced).
 */
export function validatePrices(prices: Prices, models: readonly CatalogModel[] = MODEL_CATALOG): void {
  const problems: string[] = [];
  const nanoNames = new Set(MODEL_CATALOG.filter((m) => !isMatrixPriced(m)).map((m) => m.name));
  for (const model of models) {
    if (isMatrixPriced(model)) {
      for (const tier of SIZE_TIERS) {
        for (const quality of QUALITIES) {
          if (prices.gpt_image_2[tier]?.[quality] === undefined) problems.push(`gpt_image_2.${tier}.${quality}`);
        }
      }
    } else if (prices.nano[model.name] === undefined) {
      problems.push(`nano["${model.name}"]`);
    }
  }
  const unknown = Object.keys(prices.nano).filter((name) => !nanoNames.has(name));
  const parts: string[] = [];
  if (problems.length > 0) parts.push(`missing prices: ${problems.join(', ')}`);
  if (unknown.length > 0) parts.push(`unknown Nano models: ${unknown.join(', ')} (known: ${[...nanoNames].join(', ')})`);
  if (parts.length > 0) throw new ConfigError(`Invalid price table: ${parts.join('; ')}.`);
}

/** Parses and validates the `prices` section of CONFIG_FILE; absent -> DEFAULT_PRICES. Throws ConfigError. */
export function parsePrices(raw: unknown, models: readonly CatalogModel[] = MODEL_CATALOG): Prices {
  if (raw === undefined) return DEFAULT_PRICES;
  const parsed = pricesSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `prices.${issue.path.join('.')}` : 'prices';
    throw new ConfigError(`Invalid price table: ${where}: ${issue?.message ?? 'not valid'}.`);
  }
  validatePrices(parsed.data, models);
  return parsed.data;
}

/**
 * Cost of a finished task: 0 when failed, otherwise the per-image price x `resultCount` (images actually
 * returned), rounded to 1e-9 so that sums of decimal prices do not show binary noise.
 * Throws ConfigError when the table has no price for the task (validatePrices at start-up prevents it).
 */
export function computeCost(prices: Prices, record: Pick<TaskRecord, 'family' | 'billing'>, resultCount: number, status: 'succeeded' | 'failed'): number {
  if (status === 'failed' || resultCount <= 0) return 0;
  let unit: number | undefined;
  if (isMatrixPriced(record)) {
    const { tier, quality } = record.billing;
    unit = tier && quality ? prices.gpt_image_2[tier]?.[quality] : undefined;
    if (unit === undefined) throw new ConfigError(`No gpt-image-2 price for tier ${tier ?? '?'} and quality ${quality ?? '?'}.`);
  } else {
    unit = prices.nano[record.billing.model];
    if (unit === undefined) throw new ConfigError(`No price for model ${record.billing.model}.`);
  }
  // Never more than the client asked for: an upstream that returns 1,000 images for n=1 is billed 1 unit
  // (the record keeps n results at most too; this also covers records stored before that cap).
  const billed = Math.min(resultCount, Math.max(1, record.billing.units));
  return Math.round(unit * billed * 1e9) / 1e9;
}
