/**
 * Every rejection rule of design section 4: each produces the platform error envelope with the right HTTP
 * status, names the field and the allowed values, and no upstream request is built or sent.
 */
import nock from 'nock';
import type { DependencyContainer } from 'tsyringe';
import { HubAdapter } from '../../adapters/hub/hub-adapter';
import { planSubmit } from '../../src/routing/plan';
import { AdapterRegistry } from '../../src/routing/registry';
import { createTranslationContainer } from '../../src/di/container';
import { DEFAULT_NORMALIZE_OPTIONS, type NormalizeOptions } from '../../src/intent/normalize';
import { isBridgeError, type ErrorCode } from '../../src/platform/errors';
import { multipartFieldsToBody, type RawSubmit, type Upload } from '../../src/platform/submit-request';
import { errorEnvelopeSchema } from '../../src/platform/task';

const HUB_BASE_URL = 'https://hub.rejections.test';
const NANO_RATIOS = '21:9, 16:9, 3:2, 4:3, 5:4, 1:1, 4:5, 3:4, 2:3, 9:16';
const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

let container: DependencyContainer;
let registry: AdapterRegistry;
let hubScope: nock.Scope;
let buildSubmit: jest.SpiedFunction<HubAdapter['buildSubmit']>;

beforeEach(() => {
  container = createTranslationContainer();
  registry = container.resolve(AdapterRegistry);
  // A hub that would accept the submit: it must stay unused by every rejected request.
  hubScope = nock(HUB_BASE_URL).post('/hub/v1/tasks').reply(201, { task_id: 'hub-1', status: 'queued', ready: false });
  buildSubmit = jest.spyOn(HubAdapter.prototype, 'buildSubmit');
});

afterEach(async () => {
  buildSubmit.mockRestore();
  nock.cleanAll();
  await container.dispose();
});

interface Expected {
  code: ErrorCode;
  param?: string;
  status: number;
  /** Substrings the message must contain (the allowed values, the offending value). */
  mentions: string[];
}

function expectRejected(raw: RawSubmit, expected: Expected, options: NormalizeOptions = DEFAULT_NORMALIZE_OPTIONS): void {
  let caught: unknown;
  try {
    planSubmit(raw, registry, options);
  } catch (err) {
    caught = err;
  }
  if (!isBridgeError(caught)) throw new Error(`expected a BridgeError, got ${String(caught)}`);
  const envelope = caught.toEnvelope();
  expect(errorEnvelopeSchema.safeParse(envelope).success).toBe(true);
  expect(envelope).toStrictEqual({
    code: expected.code,
    message: caught.message,
    ...(expected.param !== undefined ? { param: expected.param } : {}),
    data: null,
  });
  expect(caught.httpStatus).toBe(expected.status);
  for (const m of expected.mentions) expect(envelope.message).toContain(m);
  expect(buildSubmit).not.toHaveBeenCalled();
  expect(hubScope.isDone()).toBe(false);
  expect(hubScope.pendingMocks()).toStrictEqual([`POST ${HUB_BASE_URL}:443/hub/v1/tasks`]);
}

const nano = (extra: Record<string, unknown>) => ({ body: { model: 'NanoBanana2-1K', prompt: 'a red cube', ...extra } });
const gpt = (extra: Record<string, unknown>) => ({ body: { model: 'gpt-image-2', prompt: 'a red cube', size: '1024x768', ...extra } });

test('a valid request does build the hub submit (the spy and the rejection helper are live)', () => {
  planSubmit(nano({}), registry);
  expect(buildSubmit).toHaveBeenCalledTimes(1);
});

describe('request shape', () => {
  test.each([
    ['an array', []],
    ['a string', 'model=NanoBanana'],
    ['null', null],
  ])('a body that is %s is invalid_request', (_label, body) => {
    expectRejected({ body }, { code: 'invalid_request', status: 400, mentions: ['JSON object'] });
  });

  test('an unknown field (a typo of aspect_ratio) is named, with the allowed fields', () => {
    expectRejected(nano({ aspectRatio: '16:9' }), { code: 'unknown_parameter', param: 'aspectRatio', status: 400, mentions: ['aspectRatio', 'aspect_ratio', 'output_format'] });
  });

  test('several unknown fields are all named', () => {
    expectRejected(nano({ width: 1024, steps: 30 }), { code: 'unknown_parameter', param: 'width', status: 400, mentions: ['Unknown parameters: width, steps'] });
  });

  test('a "__proto__" key in the JSON body is an unknown field, not a way to inject model/prompt', () => {
    const body = JSON.parse('{"__proto__": {"model": "NanoBanana", "prompt": "injected"}}') as unknown;
    expectRejected({ body }, { code: 'unknown_parameter', param: '__proto__', status: 400, mentions: ['__proto__'] });
  });

  test('a multipart field named __proto__ is an unknown field too', () => {
    const body = multipartFieldsToBody([
      { name: 'model', value: 'NanoBanana' },
      { name: 'prompt', value: 'p' },
      { name: '__proto__', value: 'x' },
    ]);
    expectRejected({ body }, { code: 'unknown_parameter', param: '__proto__', status: 400, mentions: ['__proto__'] });
  });

  test('missing model is missing_parameter and lists the models', () => {
    expectRejected({ body: { prompt: 'p' } }, { code: 'missing_parameter', param: 'model', status: 400, mentions: ['model is required', 'NanoBanana2-0.5K', 'gpt-image-2'] });
  });

  test('missing prompt is missing_parameter', () => {
    expectRejected({ body: { model: 'NanoBanana' } }, { code: 'missing_parameter', param: 'prompt', status: 400, mentions: ['prompt is required'] });
  });

  test('a blank prompt is missing_parameter', () => {
    expectRejected({ body: { model: 'NanoBanana', prompt: ' \n\t ' } }, { code: 'missing_parameter', param: 'prompt', status: 400, mentions: ['must not be blank'] });
  });

  test.each([
    ['zero-width spaces', '\u200b\u200b\u200b'],
    ['joiners and a byte-order mark', '\u200c\u200d\u2060\ufeff'],
    ['a no-break space and an ideographic space', '\u00a0\u3000'],
    ['Hangul fillers', '\u3164\u115f\uffa0'],
    ['the blank Braille pattern and variation selectors', '\u2800\ufe0f\u{e0100}'],
    ['control and bidi characters', '\u0007\u200e\u202e'],
  ])('a prompt of only %s is blank (missing_parameter)', (_label, prompt) => {
    expectRejected({ body: { model: 'NanoBanana', prompt } }, { code: 'missing_parameter', param: 'prompt', status: 400, mentions: ['must not be blank', 'invisible characters'] });
  });

  test('a prompt with one visible character among invisible ones is not blank', () => {
    expect(planSubmit({ body: { model: 'NanoBanana', prompt: '\u200b猫\u200b' } }, registry).intent.prompt).toBe('\u200b猫\u200b');
  });

  test('a prompt that is not a string is invalid_parameter', () => {
    expectRejected({ body: { model: 'NanoBanana', prompt: 42 } }, { code: 'invalid_parameter', param: 'prompt', status: 400, mentions: ['prompt must be a non-empty string'] });
  });

  test('a prompt longer than the limit is invalid_parameter and states the limit', () => {
    expectRejected(nano({ prompt: 'x'.repeat(10_001) }), { code: 'invalid_parameter', param: 'prompt', status: 400, mentions: ['10001 characters', 'the limit is 10000'] });
  });
});

describe('model', () => {
  test('an unknown model is model_not_found and lists the available models', () => {
    expectRejected({ body: { model: 'NanoBanana3', prompt: 'p' } }, { code: 'model_not_found', param: 'model', status: 400, mentions: ['"NanoBanana3"', 'NanoBanana, NanoBanana2-0.5K', 'gpt-image-2'] });
  });

  test('model names are case-sensitive', () => {
    expectRejected({ body: { model: 'nanobanana', prompt: 'p' } }, { code: 'model_not_found', param: 'model', status: 400, mentions: ['"nanobanana"'] });
  });

  test('NanoBananaPro-8K is model_unavailable (never downgraded) and says which tiers are served', () => {
    expectRejected({ body: { model: 'NanoBananaPro-8K', prompt: 'p' } }, { code: 'model_unavailable', param: 'model', status: 400, mentions: ['NanoBananaPro-8K', '8K', '1K, 2K, 4K', 'not downgraded'] });
  });
});

describe('task_type and references', () => {
  test('an unknown task_type is invalid_parameter and lists the two types', () => {
    expectRejected(nano({ task_type: 'img2img' }), { code: 'invalid_parameter', param: 'task_type', status: 400, mentions: ['text2image, image2image'] });
  });

  test('image2image without a reference image is missing_parameter on image', () => {
    expectRejected(nano({ task_type: 'image2image' }), { code: 'missing_parameter', param: 'image', status: 400, mentions: ['image2image', 'image', 'images'] });
  });

  test('image2image with an empty images array is still missing a reference', () => {
    expectRejected(nano({ task_type: 'image2image', images: [] }), { code: 'missing_parameter', param: 'image', status: 400, mentions: ['image2image'] });
  });

  test('text2image with references still validates them (a bad one is refused, though none would be sent)', () => {
    expectRejected(nano({ task_type: 'text2image', images: ['https://example.com/a.png', 'not a url'] }), { code: 'invalid_parameter', param: 'images[1]', status: 400, mentions: ['not a url'] });
  });

  test.each(['ftp://example.com/a.png', 'file:///etc/passwd', 'javascript:alert(1)'])('a reference URL with scheme %s is invalid_parameter', (url) => {
    expectRejected(nano({ image: url }), { code: 'invalid_parameter', param: 'image', status: 400, mentions: ['http(s) URL or a data:image/... URI'] });
  });

  test.each(['image_url', 'image_urls', 'reference_images', 'reference_image', 'init_image'])(
    '%s is not a legacy field new-api parses: still unknown_parameter, and input_reference is offered',
    (field) => {
      expectRejected(nano({ [field]: 'https://example.com/a.png' }), { code: 'unknown_parameter', param: field, status: 400, mentions: [field, 'images, input_reference'] });
    },
  );

  test('input_reference that is not a string, or not a URL, is refused naming input_reference', () => {
    expectRejected(nano({ input_reference: ['https://example.com/a.png'] }), { code: 'invalid_parameter', param: 'input_reference', status: 400, mentions: ['input_reference must be a string', 'use image or images'] });
    expectRejected(nano({ input_reference: 'ftp://example.com/a.png' }), { code: 'invalid_parameter', param: 'input_reference', status: 400, mentions: ['input_reference must be an http(s) URL'] });
  });

  test('a bad URL inside images names its index', () => {
    expectRejected(nano({ images: ['https://example.com/a.png', 'not a url'] }), { code: 'invalid_parameter', param: 'images[1]', status: 400, mentions: ['http(s) URL', 'not a url'] });
  });

  test('images that is not an array of strings is invalid_parameter', () => {
    expectRejected(nano({ images: 'https://example.com/a.png' }), { code: 'invalid_parameter', param: 'images', status: 400, mentions: ['an array of strings'] });
  });

  test('a URL carrying credentials is refused', () => {
    expectRejected(nano({ image: 'https://user:secret@example.com/a.png' }), { code: 'invalid_parameter', param: 'image', status: 400, mentions: ['credentials'] });
  });

  test.each([
    ['not base64', 'data:image/png;base64,@@@@', 'data:image/<png|jpeg|webp|gif>;base64,<data>'],
    ['not base64-encoded', `data:image/png,${PNG_1X1}`, 'data:image/<png|jpeg|webp|gif>;base64,<data>'],
    ['not an image', 'data:text/plain;base64,aGVsbG8=', 'data:image/<png|jpeg|webp|gif>;base64,<data>'],
    ['an image type not accepted', 'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=', 'image/png, image/jpeg, image/webp, image/gif'],
    ['empty', 'data:image/png;base64,', 'empty data URI'],
  ])('a data URI that is %s is invalid_parameter', (_label, uri, mention) => {
    expectRejected(nano({ image: uri }), { code: 'invalid_parameter', param: 'image', status: 400, mentions: [mention] });
  });

  test('a data URI over the size limit is payload_too_large (413)', () => {
    expectRejected(nano({ image: `data:image/png;base64,${PNG_1X1}` }), { code: 'payload_too_large', param: 'image', status: 413, mentions: ['70 bytes', 'limit for one image is 10 bytes'] }, { ...DEFAULT_NORMALIZE_OPTIONS, maxImageBytes: 10 });
  });

  test('an uploaded file that is not an image is invalid_parameter', () => {
    const upload: Upload = { field: 'image', filename: 'notes.txt', mimeType: 'image/png', bytes: Buffer.from('hello, not an image') };
    expectRejected({ body: { model: 'NanoBanana', prompt: 'p' }, uploads: [upload] }, { code: 'invalid_parameter', param: 'image', status: 400, mentions: ['notes.txt', 'PNG, JPEG, WebP or GIF'] });
  });

  test('more reference images than allowed is invalid_parameter and states the limit', () => {
    const images = Array.from({ length: 17 }, (_, i) => `https://example.com/${i}.png`);
    expectRejected(nano({ images }), { code: 'invalid_parameter', param: 'images', status: 400, mentions: ['17', 'at most 16'] });
  });
});

describe('n', () => {
  test.each([
    ['NanoBanana', 5, 'from 1 to 4'],
    ['NanoBananaPro-2K', 5, 'from 1 to 4'],
    ['gpt-image-2', 9, 'from 1 to 8'],
    ['gpt-image-2', 0, 'from 1 to 8'],
    ['NanoBanana2-0.5K', 0, 'from 1 to 4'],
    ['NanoBanana2-0.5K', -1, 'from 1 to 4'],
  ])('%s with n=%d is invalid_parameter (%s)', (model, n, range) => {
    expectRejected({ body: { model, prompt: 'p', size: '1024x768', n } }, { code: 'invalid_parameter', param: 'n', status: 400, mentions: [range, model, `got ${n}`] });
  });

  test.each([1.5, '2', true])('n=%p (not an integer) is invalid_parameter', (n) => {
    expectRejected(nano({ n }), { code: 'invalid_parameter', param: 'n', status: 400, mentions: ['n must be an integer'] });
  });
});

describe('output_format and response_format', () => {
  test('webp on NanoBanana2-1K is invalid_parameter and lists png, jpeg', () => {
    expectRejected(nano({ output_format: 'webp' }), { code: 'invalid_parameter', param: 'output_format', status: 400, mentions: ['"webp"', 'NanoBanana2-1K', 'allowed: png, jpeg.'] });
  });

  test('webp on NanoBananaPro-4K is invalid_parameter', () => {
    expectRejected({ body: { model: 'NanoBananaPro-4K', prompt: 'p', output_format: 'webp' } }, { code: 'invalid_parameter', param: 'output_format', status: 400, mentions: ['allowed: png, jpeg.'] });
  });

  test('gif on gpt-image-2 is invalid_parameter and lists png, jpeg, webp', () => {
    expectRejected(gpt({ output_format: 'gif' }), { code: 'invalid_parameter', param: 'output_format', status: 400, mentions: ['"gif"', 'allowed: png, jpeg, webp.'] });
  });

  test('jpg (not the platform spelling) is invalid_parameter', () => {
    expectRejected(gpt({ output_format: 'jpg' }), { code: 'invalid_parameter', param: 'output_format', status: 400, mentions: ['"jpg"', 'png, jpeg, webp'] });
  });

  test('response_format b64_json is invalid_parameter naming url', () => {
    expectRejected(nano({ response_format: 'b64_json' }), { code: 'invalid_parameter', param: 'response_format', status: 400, mentions: ['"b64_json"', 'allowed: url'] });
  });
});

describe('geometry', () => {
  test('an aspect ratio a Nano model does not support is invalid_parameter and lists the allowed ones', () => {
    expectRejected({ body: { model: 'NanoBanana', prompt: 'p', aspect_ratio: '7:5' } }, { code: 'invalid_parameter', param: 'aspect_ratio', status: 400, mentions: ['"7:5"', NANO_RATIOS] });
  });

  test('an extreme ratio of nano-banana-2 is refused on NanoBananaPro', () => {
    expectRejected({ body: { model: 'NanoBananaPro-1K', prompt: 'p', aspect_ratio: '8:1' } }, { code: 'invalid_parameter', param: 'aspect_ratio', status: 400, mentions: ['"8:1"', `auto, ${NANO_RATIOS}`] });
  });

  test('auto is refused on the base NanoBanana model', () => {
    expectRejected({ body: { model: 'NanoBanana', prompt: 'p', aspect_ratio: 'auto' } }, { code: 'invalid_parameter', param: 'aspect_ratio', status: 400, mentions: ['"auto"', NANO_RATIOS] });
  });

  test('aspect_ratio with gpt-image-2 is unsupported_parameter and points to size', () => {
    expectRejected(gpt({ aspect_ratio: '4:3' }), { code: 'unsupported_parameter', param: 'aspect_ratio', status: 400, mentions: ['use size', '1024x768, 768x1024'] });
  });

  test('gpt-image-2 without size is missing_parameter and lists the sizes', () => {
    expectRejected({ body: { model: 'gpt-image-2', prompt: 'p' } }, { code: 'missing_parameter', param: 'size', status: 400, mentions: ['size is required', '1024x768', '2160x3840'] });
  });

  test('a gpt-image-2 size outside the table is invalid_parameter and lists the sizes', () => {
    expectRejected(gpt({ size: '1000x1000' }), { code: 'invalid_parameter', param: 'size', status: 400, mentions: ['"1000x1000"', '1024x768, 768x1024', '1920x1080'] });
  });

  test('a gpt-image-2 size with the hub grid but not in the platform table is refused too', () => {
    expectRejected(gpt({ size: '1088x1920' }), { code: 'invalid_parameter', param: 'size', status: 400, mentions: ['"1088x1920"', '1080x1920'] });
  });

  test('a size that is not WIDTHxHEIGHT is invalid_parameter (Nano)', () => {
    expectRejected(nano({ size: 'large' }), { code: 'invalid_parameter', param: 'size', status: 400, mentions: ['"large"', 'WIDTHxHEIGHT'] });
  });

  test('a Nano size whose ratio the model lacks is invalid_parameter naming the allowed ratios', () => {
    expectRejected({ body: { model: 'NanoBanana', prompt: 'p', size: '1000x700' } }, { code: 'invalid_parameter', param: 'size', status: 400, mentions: ['1000x700', '10:7', NANO_RATIOS] });
  });

  test('a Nano size that disagrees with aspect_ratio is conflicting_parameters', () => {
    expectRejected(nano({ size: '1024x768', aspect_ratio: '16:9' }), { code: 'conflicting_parameters', param: 'size', status: 400, mentions: ['1024x768', '4:3', '16:9'] });
  });
});

describe('quality and seed', () => {
  test.each(['ultra', 'auto', 'HIGH'])('quality %s on gpt-image-2 is invalid_parameter and lists low, medium, high', (quality) => {
    expectRejected(gpt({ quality }), { code: 'invalid_parameter', param: 'quality', status: 400, mentions: [`"${quality}"`, 'allowed: low, medium, high'] });
  });

  test.each([1.5, -1, 4_294_967_296, '7'])('seed %p is invalid_parameter and states the range', (seed) => {
    expectRejected(nano({ seed }), { code: 'invalid_parameter', param: 'seed', status: 400, mentions: ['seed must be an integer from 0 to 4294967295'] });
  });
});
