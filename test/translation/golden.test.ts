/**
 * Golden translation cases: every fixtures/platform/<case>.request.json is planned (normalize -> route ->
 * the adapter the golden names) and the whole planned output must equal <case>.upstream.json exactly; a
 * refusal golden holds the exact error envelope and HTTP status instead, and nothing is built.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import { planSubmit, type SubmitPlan } from '../../src/routing/plan';
import { AdapterRegistry } from '../../src/routing/registry';
import { createTranslationContainer } from '../../src/di/container';
import type { ImageAdapter } from '../../src/adapter-kit/contract';
import { MODEL_NAMES } from '../../src/platform/catalog';
import { isBridgeError } from '../../src/platform/errors';
import type { RawSubmit } from '../../src/platform/submit-request';
import { goldenRequestView } from '../../src/testing/golden-files';

const DIR = join(__dirname, '../../fixtures/platform');
const requestFiles = readdirSync(DIR).filter((f) => f.endsWith('.request.json')).sort();
const cases = requestFiles.map((f) => f.slice(0, -'.request.json'.length));

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(join(DIR, file), 'utf8'));
}

/** The planned output in the shape of the golden files (src/testing/golden-files.ts; warnings of the normalizer first, then the adapter's). */
function plannedOutput(plan: SubmitPlan): unknown {
  return {
    adapter: plan.adapter.id,
    ...goldenRequestView(plan.built.request),
    warnings: [...plan.intent.warnings, ...plan.built.warnings],
    metadata: plan.built.metadata,
  };
}

let container: DependencyContainer;
let registry: AdapterRegistry;

beforeEach(() => {
  container = createTranslationContainer();
  registry = container.resolve(AdapterRegistry);
});

afterEach(async () => {
  await container.dispose();
});

describe('golden platform -> hub cases', () => {
  test('every request has an upstream file and every upstream file a request', () => {
    const upstreamFiles = readdirSync(DIR).filter((f) => f.endsWith('.upstream.json')).sort();
    expect(upstreamFiles).toStrictEqual(cases.map((c) => `${c}.upstream.json`));
    expect(cases.length).toBeGreaterThanOrEqual(28);
  });

  test('every servable platform model has at least one golden case', () => {
    const models = new Set(cases.map((c) => (readJson(`${c}.request.json`) as { model: string }).model));
    expect([...models].sort()).toStrictEqual(MODEL_NAMES.filter((m) => m !== 'NanoBananaPro-8K').sort());
  });

  test.each(cases)('%s', (name) => {
    const body = readJson(`${name}.request.json`);
    const expected = readJson(`${name}.upstream.json`) as { adapter: string; error?: unknown };
    // Each golden file names the adapter it is for, so cases of other adapters can live here too.
    const candidates = [registry.get(expected.adapter)];
    if (expected.error === undefined) {
      expect(plannedOutput(planSubmit({ body }, registry, undefined, candidates))).toStrictEqual(expected);
      return;
    }
    // A refusal golden: { adapter, status, error: <the exact envelope> }; nothing is built for any adapter.
    const built = jest.spyOn(candidates[0] as ImageAdapter, 'buildSubmit');
    let caught: unknown;
    try {
      planSubmit({ body }, registry, undefined, candidates);
    } catch (err) {
      caught = err;
    }
    if (!isBridgeError(caught)) throw new Error(`${name}: expected a refusal, got ${String(caught)}`);
    expect({ adapter: expected.adapter, status: caught.httpStatus, error: caught.toEnvelope() }).toStrictEqual(expected);
    expect(built).not.toHaveBeenCalled();
    built.mockRestore();
  });

  test('with every adapter registered, the hub (registered first) is the one chosen', () => {
    expect(registry.all()[0]?.id).toBe('hub');
    expect(planSubmit({ body: { model: 'NanoBanana', prompt: 'p' } }, registry).adapter.id).toBe('hub');
  });
});

describe('multipart uploads', () => {
  // 1x1 transparent PNG.
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

  test('uploaded image files become data URIs after the image URL and before images, in order', () => {
    const raw: RawSubmit = {
      body: { model: 'gpt-image-2', prompt: 'Keep the subject', size: '1024x1024', image: 'https://example.com/first.png', images: ['https://example.com/last.png'] },
      uploads: [{ field: 'image', filename: 'input.png', mimeType: 'application/octet-stream', bytes: png }],
    };
    const plan = planSubmit(raw, registry);
    expect(plannedOutput(plan)).toStrictEqual({
      adapter: 'hub',
      method: 'POST',
      path: '/hub/v1/tasks',
      body: {
        model: 'gpt-image-2/edit',
        input: {
          prompt: 'Keep the subject',
          image_urls: ['https://example.com/first.png', `data:image/png;base64,${png.toString('base64')}`, 'https://example.com/last.png'],
          num_images: 1,
          output_format: 'png',
          image_size: 'square_hd',
          quality: 'medium',
        },
      },
      warnings: [],
      metadata: {},
    });
    expect(plan.intent.references[1]).toStrictEqual({ source: 'upload', url: `data:image/png;base64,${png.toString('base64')}`, byteLength: png.length, filename: 'input.png' });
    expect(plan.intent.taskType).toBe('image2image');
  });

  test('the same file uploaded twice is sent once, with a warning', () => {
    const upload = { field: 'image', filename: 'a.png', mimeType: 'image/png', bytes: png };
    const plan = planSubmit({ body: { model: 'NanoBanana', prompt: 'p' }, uploads: [upload, { ...upload, filename: 'b.png' }] }, registry);
    expect((plan.built.request.body as { input: { image_urls: string[] } }).input.image_urls).toStrictEqual([`data:image/png;base64,${png.toString('base64')}`]);
    expect(plan.intent.warnings).toStrictEqual([
      { code: 'duplicate_reference', param: 'images', message: 'A reference image was given more than once (upload b.png); it is sent once.' },
    ]);
  });
});

describe('intent details the golden bodies do not show', () => {
  test('billing carries the gpt-image-2 size tier and quality, and the default quality is medium', () => {
    const plan = planSubmit({ body: { model: 'gpt-image-2', prompt: 'p', size: '1920x1080', n: 3 } }, registry);
    expect(plan.intent.billing).toStrictEqual({ tier: '2K', quality: 'medium', requestedImages: 3 });
    expect(plan.intent.geometry).toStrictEqual({ kind: 'size', width: 1920, height: 1080, tier: '2K' });
  });

  test('Nano billing is the requested count only (the model is the intent\'s platformModel; quality is not a Nano billing dimension)', () => {
    const plan = planSubmit({ body: { model: 'NanoBananaPro-2K', prompt: 'p', quality: 'high', n: 2 } }, registry);
    expect(plan.intent.billing).toStrictEqual({ requestedImages: 2 });
    expect(plan.intent.quality).toBeUndefined();
  });
});
