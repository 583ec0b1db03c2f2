/**
 * The price table as data (src/tasks/pricing.ts): one entry per model, a unit price or a tier x quality
 * matrix; exact costs; the first `prices` format still accepted; every validation message.
 */
import { MODEL_CATALOG } from '../../src/platform/catalog';
import type { BridgeError } from '../../src/platform/errors';
import { computeCost, DEFAULT_PRICES, parsePrices, validatePrices, type Prices } from '../../src/tasks/pricing';

function configError(fn: () => unknown): BridgeError {
  try {
    fn();
  } catch (err) {
    expect((err as Error).name).toBe('ConfigError');
    return err as BridgeError;
  }
  throw new Error('expected a ConfigError');
}

const nano = { model: 'NanoBanana2-1K', billing: { requestedImages: 4 } };
const gpt = { model: 'gpt-image-2', billing: { tier: '4K' as const, quality: 'low' as const, requestedImages: 8 } };
const GPT_MATRIX = DEFAULT_PRICES.models['gpt-image-2'];
const LEGACY = {
  currency: 'USD',
  nano: Object.fromEntries(Object.entries(DEFAULT_PRICES.models).filter(([name]) => name !== 'gpt-image-2')),
  gpt_image_2: GPT_MATRIX,
};

describe('computeCost', () => {
  test('a unit price x images actually returned (not n)', () => {
    expect(computeCost(DEFAULT_PRICES, nano, 3, 'succeeded')).toBe(0.201);
    expect(computeCost(DEFAULT_PRICES, nano, 1, 'succeeded')).toBe(0.067);
  });

  test('a tier x quality price: price[tier][quality] x images actually returned', () => {
    expect(computeCost(DEFAULT_PRICES, gpt, 8, 'succeeded')).toBe(0.352);
    expect(computeCost(DEFAULT_PRICES, { ...gpt, billing: { ...gpt.billing, tier: '1K', quality: 'medium' } }, 2, 'succeeded')).toBe(0.084);
  });

  test('the kind of price is the table entry, not the family: gpt-image-2 at one unit price, a Nano model by tier and quality', () => {
    const prices: Prices = { currency: 'USD', models: { 'gpt-image-2': 0.05, 'NanoBanana2-1K': { '1K': { low: 0.5 } } } };
    expect(computeCost(prices, gpt, 3, 'succeeded')).toBe(0.15);
    expect(computeCost(prices, { model: 'NanoBanana2-1K', billing: { tier: '1K', quality: 'low', requestedImages: 2 } }, 2, 'succeeded')).toBe(1);
  });

  test('failed tasks and tasks with no image cost 0', () => {
    expect(computeCost(DEFAULT_PRICES, nano, 3, 'failed')).toBe(0);
    expect(computeCost(DEFAULT_PRICES, gpt, 0, 'succeeded')).toBe(0);
  });

  test('decimal prices do not show binary noise', () => {
    const prices: Prices = { ...DEFAULT_PRICES, models: { ...DEFAULT_PRICES.models, 'NanoBanana2-1K': 0.1 } };
    expect(computeCost(prices, nano, 3, 'succeeded')).toBe(0.3);
  });

  test('a missing price is a ConfigError naming the model (and the tier and quality)', () => {
    const prices: Prices = { currency: 'USD', models: { 'gpt-image-2': { '1K': { low: 1 } } } };
    expect(configError(() => computeCost(prices, nano, 1, 'succeeded')).message).toBe('No price for model NanoBanana2-1K.');
    expect(configError(() => computeCost(prices, gpt, 1, 'succeeded')).message).toBe('No gpt-image-2 price for tier 4K and quality low.');
    expect(configError(() => computeCost(prices, { model: 'gpt-image-2', billing: { requestedImages: 1 } }, 1, 'succeeded')).message).toBe('No gpt-image-2 price for tier ? and quality ?.');
  });
});

test('the billed count is the images returned, never more than the requested count (an upstream that over-returns)', () => {
  const record = { model: 'NanoBanana', billing: { requestedImages: 1 } };
  expect(computeCost(DEFAULT_PRICES, record, 1000, 'succeeded')).toBe(0.039);
  expect(computeCost(DEFAULT_PRICES, { ...record, billing: { requestedImages: 3 } }, 2, 'succeeded')).toBe(0.078);
  expect(computeCost(DEFAULT_PRICES, { ...record, billing: { requestedImages: 3 } }, 3, 'succeeded')).toBe(0.117);
});

describe('validatePrices / parsePrices', () => {
  test('the default table prices every catalog model', () => {
    expect(() => validatePrices(DEFAULT_PRICES)).not.toThrow();
    expect(parsePrices(undefined)).toBe(DEFAULT_PRICES);
  });

  test('a valid table from CONFIG_FILE is returned as parsed', () => {
    const raw = JSON.parse(JSON.stringify({ ...DEFAULT_PRICES, currency: 'credits' })) as unknown;
    expect(parsePrices(raw)).toStrictEqual({ ...DEFAULT_PRICES, currency: 'credits' });
  });

  test('the first format ({ currency, nano, gpt_image_2 }) is still accepted, read as the same table', () => {
    expect(parsePrices(JSON.parse(JSON.stringify(LEGACY)))).toStrictEqual(DEFAULT_PRICES);
    expect(computeCost(parsePrices(JSON.parse(JSON.stringify(LEGACY))), gpt, 8, 'succeeded')).toBe(0.352);
  });

  test('every missing price, every misplaced matrix and every unknown model is named in one line', () => {
    const { 'NanoBanana2-2K': _dropped, ...models } = DEFAULT_PRICES.models;
    const prices: Prices = {
      currency: 'USD',
      models: { ...models, NanoBanana: { '1K': { low: 1 } }, 'NanoBanana-2K': 0.1, 'gpt-image-2': { '1K': { low: 1, medium: 1, high: 1 }, '2K': { low: 0.02, medium: 0.08 }, '4K': { low: 1, medium: 1, high: 1 } } },
    };
    const err = configError(() => validatePrices(prices));
    expect(err.message).toBe(
      'Invalid price table: missing prices: NanoBanana2-2K, gpt-image-2 2K high; priced by size tier and quality but its tasks have neither (give one unit price): NanoBanana; ' +
        'unknown models: NanoBanana-2K (known: NanoBanana, NanoBanana2-0.5K, NanoBanana2-1K, NanoBanana2-2K, NanoBanana2-4K, NanoBananaPro-1K, NanoBananaPro-2K, NanoBananaPro-4K, NanoBananaPro-8K, gpt-image-2).',
    );
    expect(err.message).not.toMatch(/\n/);
  });

  test('the first format reports missing prices by model name too', () => {
    const { NanoBanana: _dropped, ...nanoPrices } = LEGACY.nano;
    expect(configError(() => parsePrices({ ...LEGACY, nano: nanoPrices, gpt_image_2: {} })).message).toBe(
      'Invalid price table: missing prices: NanoBanana, gpt-image-2 1K low, gpt-image-2 1K medium, gpt-image-2 1K high, gpt-image-2 2K low, gpt-image-2 2K medium, gpt-image-2 2K high, gpt-image-2 4K low, gpt-image-2 4K medium, gpt-image-2 4K high.',
    );
  });

  test('only the given models need prices', () => {
    const prices: Prices = { currency: 'USD', models: { NanoBanana: 0.04 } };
    expect(() => validatePrices(prices, MODEL_CATALOG.filter((m) => m.name === 'NanoBanana'))).not.toThrow();
  });

  test('shape errors name the field', () => {
    expect(configError(() => parsePrices({ ...DEFAULT_PRICES, models: { NanoBanana: -1 } })).message).toMatch(/^Invalid price table: prices\.models\.NanoBanana: /);
    expect(configError(() => parsePrices({ ...DEFAULT_PRICES, models: { 'gpt-image-2': { '8K': {} } } })).message).toMatch(/^Invalid price table: prices\.models\.gpt-image-2: /);
    expect(configError(() => parsePrices({ models: {} })).message).toMatch(/^Invalid price table: prices\.currency: /);
    expect(configError(() => parsePrices({ ...LEGACY, nano: { NanoBanana: -1 } })).message).toMatch(/^Invalid price table: prices\.nano\.NanoBanana: /);
    expect(configError(() => parsePrices({ ...LEGACY, gpt_image_2: { '8K': {} } })).message).toMatch(/^Invalid price table: prices\.gpt_image_2: /);
    expect(configError(() => parsePrices({ nano: {}, gpt_image_2: {} })).message).toMatch(/^Invalid price table: prices\.currency: /);
    expect(configError(() => parsePrices('cheap')).message).toMatch(/^Invalid price table: prices: /);
  });
});
