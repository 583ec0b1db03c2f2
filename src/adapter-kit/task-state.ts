/**
 * Pieces of UpstreamTaskState that every adapter writes the same way: the finished state (images, or the
 * `no_output` failure when an upstream finishes without one), progress clamped to 0-100, and images in the
 * fal-style shape `{ url, content_type?, width?, height? }` that the hub and fal both use.
 */
import type { UpstreamImage, UpstreamTaskState } from './contract';

/** An image as the hub and fal report it. */
export interface FalStyleImage {
  /** Where the image can be fetched. */
  readonly url: string;
  /** MIME type. */
  readonly content_type?: string | null | undefined;
  /** Width in pixels. */
  readonly width?: number | null | undefined;
  /** Height in pixels. */
  readonly height?: number | null | undefined;
}

/** A fal-style image as an UpstreamImage (absent and non-numeric fields left out). */
export function imageFromFalStyle(image: FalStyleImage): UpstreamImage {
  return {
    url: image.url,
    ...(image.content_type ? { contentType: image.content_type } : {}),
    ...(typeof image.width === 'number' ? { width: image.width } : {}),
    ...(typeof image.height === 'number' ? { height: image.height } : {}),
  };
}

/** A job the upstream reports finished successfully: succeeded with its images, or failed no_output without any. */
export function finishedWithImages(images: readonly UpstreamImage[]): UpstreamTaskState {
  if (images.length > 0) return { status: 'succeeded', progress: 100, images };
  return { status: 'failed', progress: 100, images: [], error: { code: 'no_output', message: 'The upstream finished without returning any image.' } };
}

/** Upstream progress clamped to 0-100, or undefined when it is not a finite number. */
export function clampedProgress(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(100, Math.max(0, value)) : undefined;
}
