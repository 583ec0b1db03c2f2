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

const nano = { family: 'nano-banana-2' as const, billing: { model: 'NanoBanana2-1K', units: 4 } };
const gpt = { family: 'gpt-image-2' as const, billing: { model: 'gpt-image-2', tier: '4K' as const, quality: 'low' as const, units: 8 } };

describe('computeCost', () => {
  test('Nano: unit price x images actually returned (not n)', () => {
    expect(computeCost(DEFAULT_PRICES, nano, 3, 'succeeded')).toBe(0.201);
    expect(computeCost(DEFAULT_PRICES, nano, 1, 'succeeded')).toBe(0.067);
  });

  test('gpt-image-2: price[tier][quality] x images actually returned', () => {
    expect(computeCost(DEFAULT_PRICES, gpt, 8, 'succeeded')).toBe(0.352);
    expect(computeCost(DEFAULT_PRICES, { ...gpt, billing: { ...gpt.billing, tier: '1K', quality: 'medium' } }, 2, 'succeeded')).toBe(0.084);
  });

  test('failed tasks and tasks with no image cost 0', () => {
    expect(computeCost(DEFAULT_PRICES, nano, 3, 'failed')).toBe(0);
    expect(computeCost(DEFAULT_PRICES, gpt, 0, 'succeeded')).toBe(0);
  });

  test('decimal prices do not show binary noise', () => {
    const prices: Prices = { ...DEFAULT_PRICES, nano: { ...DEFAULT_PRICES.nano, 'NanoBanana2-1K': 0.1 } };
    expect(computeCost(prices, nano, 3, 'succeeded')).toBe(0.3);
  });

  test('a missing price is a ConfigError naming the model', () => {
    const prices: Prices = { currency: 'USD', nano: {}, gpt_image_2: {} };
    expect(configError(() => computeCost(prices, nano, 1, 'succeeded')).message).toBe('No price for model NanoBanana2-1K.');
    expect(configError(() => computeCost(prices, gpt, 1, 'succeeded')).message).toBe('No gpt-image-2 price for tier 4K and quality low.');
  });
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

  test('every missing price and every unknown Nano model is named in one line', () => {
    const { 'NanoBanana2-2K': _dropped, ...nanoPrices } = DEFAULT_PRICES.nano;
    const prices: Prices = {
      currency: 'USD',
      nano: { ...nanoPrices, 'NanoBanana-2K': 0.1 },
      gpt_image_2: { '1K': DEFAULT_PRICES.gpt_image_2['1K'], '2K': { low: 0.02, medium: 0.08 }, '4K': DEFAULT_PRICES.gpt_image_2['4K'] },
    };
    const err = configError(() => validatePrices(prices));
    expect(err.message).toBe(
      'Invalid price table: missing prices: nano["NanoBanana2-2K"], gpt_image_2.2K.high; unknown Nano models: NanoBanana-2K ' +
        '(known: NanoBanana, NanoBanana2-0.5K, NanoBanana2-1K, NanoBanana2-2K, NanoBanana2-4K, NanoBananaPro-1K, NanoBananaPro-2K, NanoBananaPro-4K, NanoBananaPro-8K).',
    );
    expect(err.message).not.toMatch(/\n/);
  });

  test('only the given models need prices', () => {
    const prices: Prices = { currency: 'USD', nano: { NanoBanana: 0.04 }, gpt_image_2: {} };
    expect(() => validatePrices(prices, MODEL_CATALOG.filter((m) => m.name === 'NanoBanana'))).not.toThrow();
  });

  test('shape errors name the field', () => {
    expect(configError(() => parsePrices({ ...DEFAULT_PRICES, nano: { NanoBanana: -1 } })).message).toMatch(/^Invalid price table: prices\.nano\.NanoBanana: /);
    expect(configError(() => parsePrices({ ...DEFAULT_PRICES, gpt_image_2: { '8K': {} } })).message).toMatch(/^Invalid price table: prices\.gpt_image_2: /);
    expect(configError(() => parsePrices({ nano: {}, gpt_image_2: {} })).message).toMatch(/^Invalid price table: prices\.currency: /);
    expect(configError(() => parsePrices('cheap')).message).toMatch(/^Invalid price table: prices: /);
  });
});

test('the billed count never exceeds the requested n (an upstream that over-returns)', () => {
  const record = { family: 'nano-banana' as const, billing: { model: 'NanoBanana', units: 1 } };
  expect(computeCost(DEFAULT_PRICES, record, 1000, 'succeeded')).toBe(0.039);
  expect(computeCost(DEFAULT_PRICES, { ...record, billing: { ...record.billing, units: 3 } }, 2, 'succeeded')).toBe(0.078);
});
