/**
 * The golden-file loader of the testing entry point (src/testing/golden-files.ts): one adapter's cases from a
 * folder, every request field of the file kept, multipart file parts turned into bytes, and the view that
 * compares a built request with a golden exactly.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goldenCasesFromFiles, goldenRequestView } from '../../src/testing/golden-files';

let dir: string;
const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

function write(name: string, request: unknown, upstream: unknown): void {
  writeFileSync(join(dir, `${name}.request.json`), JSON.stringify(request));
  writeFileSync(join(dir, `${name}.upstream.json`), JSON.stringify(upstream));
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'goldens-'));
  write('b.json', { model: 'NanoBanana', prompt: 'a cat' }, { adapter: 'hub', method: 'POST', path: '/hub/v1/tasks', body: { x: 1 }, warnings: [{ code: 'parameter_ignored', param: 'seed', message: 'm' }], metadata: {} });
  write(
    'a.form',
    { model: 'gpt-image-2', prompt: 'edit' },
    {
      adapter: 'openai',
      method: 'POST',
      path: '/v1/images/edits',
      headers: { 'OpenAI-Beta': 'x' },
      form: [
        { name: 'prompt', value: 'edit' },
        { name: 'image[]', filename: 'ref-0.png', mimeType: 'image/png', base64: PNG_BASE64 },
      ],
      timeoutMs: 120000,
      warnings: [],
      metadata: { a: 1 },
    },
  );
  write('c.refused', { model: 'NanoBananaPro-8K', prompt: 'a cat' }, { adapter: 'openai', status: 400, error: { code: 'model_unavailable' } });
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

test("an adapter's cases only, refusals left out, every request field kept and file parts as bytes", () => {
  const cases = goldenCasesFromFiles(dir, 'openai');
  expect(cases.map((c) => c.name)).toStrictEqual(['a.form']);
  const [golden] = cases;
  expect(golden?.request).toStrictEqual({ model: 'gpt-image-2', prompt: 'edit' });
  expect(golden?.warnings).toStrictEqual([]);
  expect(golden?.metadata).toStrictEqual({ a: 1 });
  expect(golden?.upstream).toStrictEqual({
    method: 'POST',
    path: '/v1/images/edits',
    headers: { 'OpenAI-Beta': 'x' },
    form: [
      { name: 'prompt', value: 'edit' },
      { name: 'image[]', filename: 'ref-0.png', mimeType: 'image/png', data: new Uint8Array(Buffer.from(PNG_BASE64, 'base64')) },
    ],
    timeoutMs: 120000,
  });
});

test('warnings keep code and param, the metadata is kept', () => {
  expect(goldenCasesFromFiles(dir, 'hub')).toStrictEqual([
    { name: 'b.json', request: { model: 'NanoBanana', prompt: 'a cat' }, upstream: { method: 'POST', path: '/hub/v1/tasks', body: { x: 1 } }, warnings: [{ code: 'parameter_ignored', param: 'seed' }], metadata: {} },
  ]);
});

test('the view compares bytes exactly, whatever typed array holds them', () => {
  const [golden] = goldenCasesFromFiles(dir, 'openai');
  const upstream = golden?.upstream ?? { method: 'GET', path: '/' };
  const bytes = Buffer.from(PNG_BASE64, 'base64');
  const built = { ...upstream, form: [{ name: 'prompt', value: 'edit' }, { name: 'image[]', filename: 'ref-0.png', mimeType: 'image/png', data: bytes }] };
  expect(goldenRequestView(built)).toStrictEqual(goldenRequestView(upstream));
  const oneByteOff = Buffer.from(bytes);
  oneByteOff[0] = 0;
  const broken = { ...upstream, form: [{ name: 'prompt', value: 'edit' }, { name: 'image[]', filename: 'ref-0.png', mimeType: 'image/png', data: oneByteOff }] };
  expect(goldenRequestView(broken)).not.toStrictEqual(goldenRequestView(upstream));
});

test('a request file without its upstream file is an error', () => {
  writeFileSync(join(dir, 'd.alone.request.json'), '{}');
  expect(() => goldenCasesFromFiles(dir, 'hub')).toThrow(/d\.alone\.upstream\.json/);
});
