/**
 * A synchronous test upstream ("pixelsync"): `POST /v1/generate { prompt, n, aspect_ratio, images? }` answers
 * the images themselves, `{ data: [{ b64: <base64>, mime: "image/png" }] }`, after the generation; one image
 * per call (n fans out), 1:1 and 16:9 only. Errors: `{ error: { message } }` with a 4xx/5xx status.
 */
import type { AdapterCapabilities, BuiltSubmit, ImageAdapter, PollOutcome, SubmitOutcome, UpstreamRequest, UpstreamResponse } from '../../src/adapter-kit/contract';
import type { ImageIntent } from '../../src/intent/intent';
import { UpstreamError } from '../../src/platform/errors';

/** The pixelsync adapter. */
export class PixelSyncAdapter implements ImageAdapter {
  readonly id = 'pixelsync';
  readonly synchronous = true;
  readonly capabilities: AdapterCapabilities = {
    'nano-banana': { taskTypes: ['text2image', 'image2image'], formats: ['png'], maxImages: 4, imagesPerCall: 1, maxReferences: 2, aspectRatios: ['1:1', '16:9'], minPromptLength: 3 },
  };

  authHeaders(apiKey: string): Record<string, string> {
    return { 'x-pixelsync-key': apiKey };
  }

  buildSubmit(intent: ImageIntent): BuiltSubmit {
    const ratio = intent.geometry.kind === 'aspect' ? (intent.geometry.aspectRatio ?? '1:1') : '1:1';
    const body = { prompt: intent.prompt, n: intent.count, aspect_ratio: ratio, ...(intent.references.length > 0 ? { images: intent.references.map((r) => r.url) } : {}) };
    return { request: { method: 'POST', path: '/v1/generate', body, headers: { 'x-request-mode': 'sync' }, timeoutMs: 120_000, maxResponseBytes: 32 * 1024 * 1024 }, warnings: [], metadata: {} };
  }

  parseSubmit(response: UpstreamResponse): SubmitOutcome {
    const data = (response.body as { data?: Array<{ b64?: unknown; mime?: unknown }> } | undefined)?.data;
    if (!Array.isArray(data) || data.some((d) => typeof d.b64 !== 'string' || typeof d.mime !== 'string')) {
      throw new UpstreamError('malformed', 'pixelsync answered no readable images.', response.status);
    }
    const images = data.map((d) => ({ data: Buffer.from(d.b64 as string, 'base64'), mimeType: d.mime as string }));
    return { kind: 'final', state: images.length > 0 ? { status: 'succeeded', progress: 100, images } : { status: 'failed', images: [], error: { code: 'no_output', message: 'pixelsync returned no image.' } } };
  }

  buildPoll(): UpstreamRequest {
    throw new Error('pixelsync answers synchronously; there is nothing to poll');
  }

  parsePoll(): PollOutcome {
    throw new Error('pixelsync answers synchronously; there is nothing to poll');
  }

  describeError(body: unknown): string | undefined {
    const message = (body as { error?: { message?: unknown } } | undefined)?.error?.message;
    return typeof message === 'string' ? message : undefined;
  }
}

/** A small distinct PNG-like payload for call `i` (bytes only matter for equality). */
export function pixel(i: number): Buffer {
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(`image-${i}-`.repeat(20))]);
}
