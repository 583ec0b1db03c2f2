/**
 * Nano sizes and aspect ratios compare as reduced ratios; sizes the platform's size table labels with a
 * ratio (or within 2% of one) convert to it with a warning; size 1024x1024 with aspect_ratio auto is auto.
 */
import { matchRatio, reduceLabel, reducedRatio } from '../../src/intent/ratios';
import { normalizePlatformRequest } from '../../src/intent/normalize';
import { GPT_IMAGE_2_SIZES } from '../../src/platform/gpt-image-2-sizes';

const NANO = ['21:9', '16:9', '3:2', '4:3', '5:4', '1:1', '4:5', '3:4', '2:3', '9:16'];

test('ratios are reduced before they are compared', () => {
  expect(reducedRatio(2016, 864)).toBe('7:3');
  expect(reduceLabel('21:9')).toBe('7:3');
  expect(reduceLabel('auto')).toBeUndefined();
  expect(matchRatio(2016, 864, NANO)).toStrictEqual({ kind: 'exact', ratio: '21:9' });
  expect(matchRatio(2688, 1152, NANO)).toStrictEqual({ kind: 'exact', ratio: '21:9' });
});

test.each([
  [1344, 1024, '4:3', 'labelled'],
  [1024, 1344, '3:4', 'labelled'],
  [1360, 768, '16:9', 'labelled'],
  [768, 1360, '9:16', 'labelled'],
  [2048, 1360, '3:2', 'labelled'],
  [1360, 2048, '2:3', 'labelled'],
  [3840, 1648, '21:9', 'labelled'],
  [1000, 562, '16:9', 'within_tolerance'],
] as const)('%ix%i is near %s (%s)', (w, h, ratio, why) => {
  expect(matchRatio(w, h, NANO)).toStrictEqual({ kind: 'near', ratio, why });
});

test('a size more than 2% from every ratio matches none (1000x700 is 10:7, 4.8% from 3:2)', () => {
  expect(matchRatio(1000, 700, NANO)).toBeUndefined();
  // 9:21 is a table label but not a Nano ratio, and 9:16 is far from it.
  expect(matchRatio(864, 2016, NANO)).toBeUndefined();
});

test('every table size labelled with a Nano ratio converts to that ratio for NanoBanana', () => {
  for (const s of GPT_IMAGE_2_SIZES.filter((row) => NANO.includes(row.ratio))) {
    const intent = normalizePlatformRequest({ body: { model: 'NanoBanana', prompt: 'a cube', size: `${s.width}x${s.height}` } });
    expect(intent.geometry).toStrictEqual({ kind: 'aspect', aspectRatio: s.ratio, resolution: undefined });
    expect(intent.warnings.map((w) => w.code)).toStrictEqual(['size_converted']);
  }
});

test('a size close to the given aspect_ratio is accepted, not sent, with size_ignored', () => {
  const intent = normalizePlatformRequest({ body: { model: 'NanoBanana2-2K', prompt: 'a cube', size: '1344x1024', aspect_ratio: '4:3' } });
  expect(intent.geometry).toStrictEqual({ kind: 'aspect', aspectRatio: '4:3', resolution: '2K' });
  expect(intent.warnings).toStrictEqual([
    { code: 'size_ignored', param: 'size', message: 'NanoBanana2-2K is steered by aspect_ratio and its tier; size 1344x1024 approximately matches aspect_ratio 4:3 and was not sent on.' },
  ]);
});

test('aspect_ratio auto with another size than 1024x1024 is still a conflict', () => {
  expect(() => normalizePlatformRequest({ body: { model: 'NanoBananaPro-1K', prompt: 'a cube', size: '1920x1080', aspect_ratio: 'auto' } })).toThrow(
    expect.objectContaining({ code: 'conflicting_parameters', param: 'size', message: 'size 1920x1080 (ratio 16:9) disagrees with aspect_ratio auto; send only aspect_ratio for NanoBananaPro-1K.' }),
  );
});
