/**
 * The sandbox as a synchronous upstream, on real sockets: its Gemini-shaped generateContent (Google's rules,
 * the answer after the task's time, the failure modes), and the gateway in sandbox mode, where NanoBanana runs on
 * it through the gemini adapter (201 queued at once, the engine makes the call, the image served from the
 * BlobStore) while a NanoBanana request Gemini cannot serve (jpeg) and every other model stay on the sandbox hub.
 */
import sharp from 'sharp';
import { loadConfig } from '../../src/config/config';
import { startGateway, type Gateway } from '../../src/http/gateway';
import { startSandboxHub, type SandboxHub } from '../../src/sandbox';

const PATH = '/v1beta/models/gemini-2.5-flash-image:generateContent';
const BODY = { contents: [{ role: 'user', parts: [{ text: 'a red cube' }] }], generationConfig: { responseModalities: ['IMAGE'], imageConfig: { aspectRatio: '16:9' } } };

async function post(hub: SandboxHub, path: string, body: unknown, headers: Record<string, string> = { 'x-goog-api-key': hub.apiKey }): Promise<{ status: number; text: string; json: unknown }> {
  const res = await fetch(`${hub.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

describe('the sandbox generateContent endpoint', () => {
  let hub: SandboxHub;
  beforeAll(async () => {
    hub = await startSandboxHub({ timing: { queuedMs: 10, runningMs: 20 } });
  });
  afterAll(async () => {
    await hub.close();
  });

  it('answers one PNG as base64 inlineData, at the aspect ratio asked (long edge 256 px), with usageMetadata', async () => {
    const { status, json } = await post(hub, PATH, BODY);
    expect(status).toBe(200);
    const answer = json as { candidates: Array<{ content: { parts: Array<{ inlineData: { mimeType: string; data: string } }> }; finishReason: string }>; usageMetadata: unknown; modelVersion: string };
    expect(answer.candidates).toHaveLength(1);
    expect(answer.candidates[0]?.finishReason).toBe('STOP');
    expect(answer.modelVersion).toBe('gemini-2.5-flash-image');
    expect(answer.usageMetadata).toStrictEqual({ promptTokenCount: 3, candidatesTokenCount: 1290, totalTokenCount: 1293 });
    const part = answer.candidates[0]?.content.parts[0]?.inlineData;
    expect(part?.mimeType).toBe('image/png');
    const meta = await sharp(Buffer.from(part?.data ?? '', 'base64')).metadata();
    expect({ format: meta.format, width: meta.width, height: meta.height }).toStrictEqual({ format: 'png', width: 256, height: 144 });
  });

  it('refuses what Google refuses, in Google\'s error shape', async () => {
    expect(await post(hub, PATH, BODY, {})).toMatchObject({ status: 403, json: { error: { code: 403, status: 'PERMISSION_DENIED' } } });
    expect(await post(hub, PATH, BODY, { 'x-goog-api-key': 'wrong' })).toMatchObject({ status: 403, json: { error: { status: 'PERMISSION_DENIED' } } });
    expect(await post(hub, '/v1beta/models/gemini-9-image:generateContent', BODY)).toMatchObject({ status: 404, json: { error: { code: 404, status: 'NOT_FOUND' } } });
    const sized = { ...BODY, generationConfig: { ...BODY.generationConfig, imageConfig: { aspectRatio: '1:1', imageSize: '2K' } } };
    expect(await post(hub, PATH, sized)).toStrictEqual({
      status: 400,
      text: expect.any(String),
      json: { error: { code: 400, status: 'INVALID_ARGUMENT', message: 'imageSize 2K is not supported by gemini-2.5-flash-image.' } },
    });
    const wide = { ...BODY, generationConfig: { ...BODY.generationConfig, imageConfig: { aspectRatio: '8:1' } } };
    expect(await post(hub, PATH, wide)).toMatchObject({ status: 400, json: { error: { message: 'aspectRatio 8:1 is not supported by gemini-2.5-flash-image.' } } });
    const four = { ...BODY, contents: [{ role: 'user', parts: [{ text: 'x' }, ...[1, 2, 3, 4].map((i) => ({ fileData: { fileUri: `https://e.com/${i}.png` } }))] }] };
    expect(await post(hub, PATH, four)).toMatchObject({ status: 400, json: { error: { message: 'gemini-2.5-flash-image takes at most 3 images per prompt (4 were sent).' } } });
  });

  it.each([
    ['fail', 200, { candidates: [{ finishReason: 'IMAGE_SAFETY' }] }],
    ['reject', 200, { promptFeedback: { blockReason: 'PROHIBITED_CONTENT' } }],
    ['error500', 500, { error: { code: 500, status: 'INTERNAL' } }],
    ['wrong_shape', 200, { result: 'see files' }],
  ])('mode %s answers %i as Google would', async (mode, status, shape) => {
    const body = { ...BODY, contents: [{ role: 'user', parts: [{ text: `a red cube [sandbox:${mode}]` }] }] };
    expect(await post(hub, PATH, body)).toMatchObject({ status, json: shape });
  });

  it('mode malformed answers 200 with a body that is not JSON', async () => {
    const { status, json, text } = await post(hub, PATH, BODY, { 'x-goog-api-key': hub.apiKey, 'x-sandbox-mode': 'malformed' });
    expect({ status, json }).toStrictEqual({ status: 200, json: undefined });
    expect(text.startsWith('{"candidates"')).toBe(true);
  });
});

describe('the gateway in sandbox mode: NanoBanana runs synchronously on the sandbox\'s Gemini endpoint', () => {
  let gw: Gateway;
  const authz = (): Record<string, string> => ({ authorization: `Bearer ${gw.developmentKey as string}` });
  async function submit(body: unknown): Promise<string> {
    const res = await fetch(`${gw.url}/v1/images/tasks`, { method: 'POST', headers: { ...authz(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { task_id: string; status: string };
    expect(created.status).toBe('queued');
    return created.task_id;
  }
  async function untilTerminal(id: string): Promise<{ status: string; result_url: string | null; error: unknown; metadata: { result_urls?: string[] } }> {
    for (let i = 0; i < 400; i++) {
      const task = ((await (await fetch(`${gw.url}/v1/images/tasks/${id}`, { headers: authz() })).json()) as { data: { status: string; result_url: string | null; error: unknown; metadata: { result_urls?: string[] } } }).data;
      if (task.status === 'succeeded' || task.status === 'failed') return task;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`task ${id} did not finish`);
  }

  beforeAll(async () => {
    gw = await startGateway(loadConfig({ PORT: '0', LOG_LEVEL: 'silent', POLL_INTERVAL_MS: '5' }), { processMetrics: false, sandboxTiming: { queuedMs: 20, runningMs: 60 } });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('NanoBanana n=2: two generateContent calls, two PNGs served by the bridge from its BlobStore', async () => {
    const before = gw.sandbox?.stats().generates ?? 0;
    const task = await untilTerminal(await submit({ model: 'NanoBanana', prompt: 'A small red cube on a white desk', aspect_ratio: '4:3', n: 2 }));
    expect(task.status).toBe('succeeded');
    expect(gw.sandbox?.stats().generates).toBe(before + 2);
    const urls = task.metadata.result_urls ?? [];
    expect(urls).toHaveLength(2);
    for (const url of urls) {
      expect(url.startsWith(`${gw.url}/v1/images/blobs/`)).toBe(true);
      const meta = await sharp(Buffer.from(await (await fetch(url)).arrayBuffer())).metadata();
      expect({ format: meta.format, width: meta.width, height: meta.height }).toStrictEqual({ format: 'png', width: 256, height: 192 });
    }
  });

  it('NanoBanana as jpeg (Gemini answers PNG only) goes to the sandbox hub instead; NanoBanana2 stays on the hub', async () => {
    const before = gw.sandbox?.stats() ?? { generates: 0, accepted: 0 };
    const jpeg = await untilTerminal(await submit({ model: 'NanoBanana', prompt: 'A small red cube', output_format: 'jpeg' }));
    const nb2 = await untilTerminal(await submit({ model: 'NanoBanana2-0.5K', prompt: 'A small red cube', aspect_ratio: '1:1' }));
    expect([jpeg.status, nb2.status]).toStrictEqual(['succeeded', 'succeeded']);
    expect(jpeg.result_url?.startsWith(`${gw.sandbox?.baseUrl}/files/`)).toBe(true);
    expect(gw.sandbox?.stats()).toMatchObject({ generates: before.generates, accepted: before.accepted + 2 });
  });

  it('a Gemini safety filter ([sandbox:fail]) is a failed task with content_policy_violation', async () => {
    const task = await untilTerminal(await submit({ model: 'NanoBanana', prompt: 'A small red cube [sandbox:fail]' }));
    expect(task).toMatchObject({
      status: 'failed',
      result_url: null,
      error: { code: 'content_policy_violation', message: 'Gemini returned no image (finishReason IMAGE_SAFETY): The image was filtered out by the safety filter (sandbox mode fail).' },
    });
  });
});
