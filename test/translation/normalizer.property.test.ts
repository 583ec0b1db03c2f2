/**
 * Property tests of the normalizer: whatever JSON a client throws at it, it returns an intent or a
 * BridgeError with a known code (never a TypeError or a zod error), and valid gpt-image-2 sizes always
 * reach the hub on its 16-pixel grid.
 */
import fc from 'fast-check';
import type { DependencyContainer } from 'tsyringe';
import { planSubmit } from '../../src/routing/plan';
import { AdapterRegistry } from '../../src/routing/registry';
import { createTranslationContainer } from '../../src/di/container';
import type { ImageIntent } from '../../src/intent/intent';
import { normalizePlatformRequest } from '../../src/intent/normalize';
import { findModel, MODEL_NAMES, QUALITIES } from '../../src/platform/catalog';
import { isBridgeError, type ErrorCode } from '../../src/platform/errors';
import { GPT_IMAGE_2_SIZES, GPT_IMAGE_2_SIZE_NAMES } from '../../src/platform/gpt-image-2-sizes';
import { multipartFieldsToBody, SUBMIT_FIELDS, type RawSubmit, type Upload } from '../../src/platform/submit-request';
import { errorEnvelopeSchema } from '../../src/platform/task';

/** Codes the normalizer may raise: all client errors, never an upstream or internal one. */
const NORMALIZER_CODES: readonly ErrorCode[] = [
  'invalid_request',
  'missing_parameter',
  'invalid_parameter',
  'unsupported_parameter',
  'unknown_parameter',
  'conflicting_parameters',
  'model_not_found',
  'payload_too_large',
];

/** Runs the normalizer; fails the property on anything but an intent or a well-formed client error. */
function normalizeOrClientError(raw: RawSubmit): ImageIntent | undefined {
  try {
    return normalizePlatformRequest(raw);
  } catch (err) {
    if (!isBridgeError(err)) throw new Error(`normalizer threw a non-BridgeError: ${String(err)}`, { cause: err });
    if (!NORMALIZER_CODES.includes(err.code)) throw new Error(`normalizer threw an unexpected code ${err.code}: ${err.message}`, { cause: err });
    const envelope = err.toEnvelope();
    if (!errorEnvelopeSchema.safeParse(envelope).success) throw new Error(`bad envelope ${JSON.stringify(envelope)}`, { cause: err });
    if (err.httpStatus !== 400 && err.httpStatus !== 413) throw new Error(`unexpected status ${err.httpStatus}`, { cause: err });
    return undefined;
  }
}

/** Invariants every accepted intent must satisfy. */
function checkIntent(intent: ImageIntent): void {
  const model = findModel(intent.platformModel);
  expect(model).toBeDefined();
  if (!model) return;
  expect(intent.family).toBe(model.family);
  expect(intent.count).toBeGreaterThanOrEqual(model.n.min);
  expect(intent.count).toBeLessThanOrEqual(model.n.max);
  expect(model.formats).toContain(intent.format);
  expect(intent.prompt.trim().length).toBeGreaterThan(0);
  expect(intent.taskType === 'image2image').toBe(intent.references.length > 0);
  expect(new Set(intent.references.map((r) => r.url)).size).toBe(intent.references.length);
  if (model.quality) expect(QUALITIES).toContain(intent.quality);
  else expect(intent.quality).toBeUndefined();
  if (intent.geometry.kind === 'size') expect(GPT_IMAGE_2_SIZE_NAMES).toContain(`${intent.geometry.width}x${intent.geometry.height}`);
  else if (intent.geometry.aspectRatio !== undefined) expect(model.aspectRatios).toContain(intent.geometry.aspectRatio);
  for (const w of intent.warnings) expect(SUBMIT_FIELDS).toContain(w.param);
}

const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const reference = fc.oneof(
  fc.constantFrom('https://example.com/a.png', 'http://example.com/b.jpg', PNG, 'ftp://example.com/x.png', 'data:image/png;base64,@@', 'data:text/plain;base64,aGk=', ''),
  fc.webUrl(),
  fc.string(),
);
const ratio = fc.oneof(fc.constantFrom('auto', '21:9', '16:9', '3:2', '4:3', '5:4', '1:1', '4:5', '3:4', '2:3', '9:16', '4:1', '1:4', '8:1', '1:8', '7:5'), fc.string());
const size = fc.oneof(
  fc.constantFrom(...GPT_IMAGE_2_SIZE_NAMES),
  fc.tuple(fc.integer({ min: 1, max: 99999 }), fc.integer({ min: 1, max: 99999 })).map(([w, h]) => `${w}x${h}`),
  fc.string(),
);
const anyJsonValue = fc.jsonValue();

/** A request the catalog accepts, for any platform model (references, sizes and ratios drawn from its row). */
const validBody: fc.Arbitrary<Record<string, unknown>> = fc.constantFrom(...MODEL_NAMES).chain((name) => {
  const model = findModel(name);
  if (!model) throw new Error(`catalog lost ${name}`);
  const refs = fc.array(fc.constantFrom('https://example.com/a.png', 'http://example.com/b.jpg', PNG), { maxLength: 3 });
  const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
  const geometry =
    model.geometry === 'size'
      ? fc.record({ size: fc.constantFrom(...GPT_IMAGE_2_SIZE_NAMES), quality: optional(fc.constantFrom(...QUALITIES)) })
      : fc.record({
          aspect_ratio: optional(fc.constantFrom(...model.aspectRatios)),
          quality: optional(fc.string()),
        });
  return fc
    .record({
      model: fc.constant(name),
      prompt: fc.string({ minLength: 1 }).filter((p) => p.trim().length > 0),
      refs,
      refsInImages: fc.boolean(),
      explicitTaskType: fc.boolean(),
      geometry,
      n: optional(fc.integer({ min: model.n.min, max: model.n.max })),
      output_format: optional(fc.constantFrom(...model.formats)),
      response_format: optional(fc.constant('url')),
      seed: optional(fc.integer({ min: 0, max: 4_294_967_295 })),
    })
    .map(({ refs: list, refsInImages, explicitTaskType, geometry: g, ...rest }) => {
      const body: Record<string, unknown> = { ...rest, ...g };
      if (list.length > 0) {
        if (refsInImages) body.images = list;
        else {
          body.image = list[0];
          if (list.length > 1) body.images = list.slice(1);
        }
      }
      if (explicitTaskType) body.task_type = list.length > 0 ? 'image2image' : 'text2image';
      return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
    });
});

/** Breaks 0-2 fields of a valid body: a junk value, a deleted field, or an unknown key. */
const mutation = fc.record({
  field: fc.oneof(fc.constantFrom(...SUBMIT_FIELDS), fc.string()),
  value: fc.oneof(anyJsonValue, reference, size, ratio, fc.constantFrom('auto', 'webp', 'b64_json', 'image2image', 'text2image', ''), fc.integer({ min: -2, max: 10 })),
  remove: fc.boolean(),
});
const plausibleBody = fc.tuple(validBody, fc.array(mutation, { maxLength: 2 })).map(([body, mutations]) => {
  const out: Record<string, unknown> = { ...body };
  for (const m of mutations) {
    if (m.remove) delete out[m.field];
    else Object.defineProperty(out, m.field, { value: m.value, enumerable: true, writable: true, configurable: true });
  }
  return out;
});

let container: DependencyContainer;
let registry: AdapterRegistry;

beforeEach(() => {
  container = createTranslationContainer();
  registry = container.resolve(AdapterRegistry);
});

afterEach(async () => {
  await container.dispose();
});

describe('normalizePlatformRequest never fails with anything but a client BridgeError', () => {
  test('fc.anything() as the body', () => {
    fc.assert(
      fc.property(fc.anything({ withBoxedValues: true, withMap: true, withSet: true, withNullPrototype: true, withBigInt: true, withDate: true, withTypedArray: true, withSparseArray: true }), (body) => {
        normalizeOrClientError({ body });
      }),
      { numRuns: 500 },
    );
  });

  test('random JSON text, parsed as a client would send it', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        normalizeOrClientError({ body: JSON.parse(text) as unknown });
      }),
      { numRuns: 500 },
    );
  });

  test('bodies around the real fields: accepted intents satisfy every catalog invariant', () => {
    let accepted = 0;
    fc.assert(
      fc.property(plausibleBody, (body) => {
        const intent = normalizeOrClientError({ body });
        if (intent) {
          accepted++;
          checkIntent(intent);
        }
      }),
      { numRuns: 1000 },
    );
    // The generator must reach the accepting paths too, or the invariants above prove nothing.
    expect(accepted).toBeGreaterThan(0);
  });

  test('every valid request plans a hub submit, except NanoBananaPro-8K which is model_unavailable', () => {
    fc.assert(
      fc.property(validBody, (body) => {
        if (body.model === 'NanoBananaPro-8K') {
          expect(() => planSubmit({ body }, registry)).toThrow(expect.objectContaining({ code: 'model_unavailable', httpStatus: 400 }) as Error);
          return;
        }
        const plan = planSubmit({ body }, registry);
        checkIntent(plan.intent);
        expect(plan.adapter.id).toBe('hub');
        expect(plan.built.request).toMatchObject({ method: 'POST', path: '/hub/v1/tasks' });
      }),
      { numRuns: 500 },
    );
  });

  test('multipart text fields and random uploads', () => {
    const field = fc.record({ name: fc.oneof(fc.constantFrom(...SUBMIT_FIELDS, 'images[]', '__proto__', 'constructor'), fc.string()), value: fc.string() });
    const upload: fc.Arbitrary<Upload> = fc.record({
      field: fc.constant('image'),
      filename: fc.string(),
      mimeType: fc.constantFrom('image/png', 'application/octet-stream'),
      bytes: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.constant(new Uint8Array(Buffer.from(PNG.split(',')[1] ?? '', 'base64')))).map((a) => Buffer.from(a)),
    });
    fc.assert(
      fc.property(fc.array(field, { maxLength: 8 }), fc.array(upload, { maxLength: 3 }), (fields, uploads) => {
        let body: Record<string, unknown>;
        try {
          body = multipartFieldsToBody(fields);
        } catch (err) {
          if (!isBridgeError(err) || err.code !== 'invalid_parameter') throw err;
          return;
        }
        const intent = normalizeOrClientError({ body, uploads });
        if (intent) checkIntent(intent);
      }),
      { numRuns: 500 },
    );
  });
});

describe('gpt-image-2 sizes reach the hub on its grid', () => {
  const PRESETS: Record<string, string> = { '1024x768': 'landscape_4_3', '768x1024': 'portrait_4_3', '1024x1024': 'square_hd' };

  test('every valid gpt-image-2 request produces an image_size with edges that are multiples of 16', () => {
    const request = fc.record({
      row: fc.constantFrom(...GPT_IMAGE_2_SIZES),
      quality: fc.option(fc.constantFrom(...QUALITIES), { nil: undefined }),
      n: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
      output_format: fc.option(fc.constantFrom('png', 'jpeg', 'webp'), { nil: undefined }),
      image: fc.option(fc.constantFrom('https://example.com/a.png', PNG), { nil: undefined }),
    });
    fc.assert(
      fc.property(request, ({ row, ...rest }) => {
        const requested = `${row.width}x${row.height}`;
        const body = Object.fromEntries(Object.entries({ model: 'gpt-image-2', prompt: 'a cube', size: requested, ...rest }).filter(([, v]) => v !== undefined));
        const plan = planSubmit({ body }, registry);
        const imageSize = (plan.built.request.body as { input: { image_size: unknown } }).input.image_size;
        const preset = PRESETS[requested];
        if (preset !== undefined) {
          expect(imageSize).toBe(preset);
          expect(plan.built.warnings).toStrictEqual([]);
          return;
        }
        const { width, height } = imageSize as { width: number; height: number };
        expect(width % 16).toBe(0);
        expect(height % 16).toBe(0);
        // Snapping moves an edge by less than one grid step, and only with a warning plus metadata.
        expect(Math.abs(width - row.width)).toBeLessThanOrEqual(8);
        expect(Math.abs(height - row.height)).toBeLessThanOrEqual(8);
        const adjusted = width !== row.width || height !== row.height;
        expect(plan.built.warnings.some((w) => w.code === 'size_adjusted')).toBe(adjusted);
        expect(plan.built.metadata).toStrictEqual(adjusted ? { requested_size: requested, actual_size: `${width}x${height}` } : {});
      }),
      { numRuns: 300 },
    );
  });

  test('every size of the table lies within the hub limits after mapping (max edge 3840, ratio <= 3:1, 655,360-8,294,400 pixels)', () => {
    for (const row of GPT_IMAGE_2_SIZES) {
      const plan = planSubmit({ body: { model: 'gpt-image-2', prompt: 'p', size: `${row.width}x${row.height}` } }, registry);
      const imageSize = (plan.built.request.body as { input: { image_size: unknown } }).input.image_size;
      const { width, height } = typeof imageSize === 'string' ? row : (imageSize as { width: number; height: number });
      expect(Math.max(width, height)).toBeLessThanOrEqual(3840);
      expect(Math.max(width, height) / Math.min(width, height)).toBeLessThanOrEqual(3);
      expect(width * height).toBeGreaterThanOrEqual(655_360);
      expect(width * height).toBeLessThanOrEqual(8_294_400);
    }
  });
});
