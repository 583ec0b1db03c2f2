/**
 * The sandbox hub's images: real, decodable, small, deterministic.
 *
 * Images are NOT full size: the requested geometry is scaled so the long edge is {@link SANDBOX_IMAGE_LONG_EDGE}
 * pixels (1024x768 -> 256x192, 8:1 -> 256x32), and the task output reports that true small width/height.
 * Each image is a diagonal two-colour gradient whose colours and direction come from a hash of the prompt,
 * the seed and the image index, so different prompts (and the images of one task) look different while the
 * same request always gives the same bytes.
 */
import { createHash } from 'node:crypto';
import type Sharp from 'sharp';
import type { SandboxFormat } from './sandbox-models';

/**
 * What a host that installed the package without sharp is told: sharp is an optional peer dependency
 * (19 MB of native code only the sandbox hub needs), so `npm install image-task-bridge` does not bring it.
 */
export const SHARP_MISSING_MESSAGE =
  'The sandbox hub renders its placeholder images with "sharp", an optional peer dependency of image-task-bridge that is not installed. ' +
  'Run `npm install sharp` in your project to use the sandbox, or configure a real upstream (HUB_BASE_URL or CONFIG_FILE channels).';

function isSharpMissing(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e.code === 'MODULE_NOT_FOUND' && typeof e.message === 'string' && e.message.includes("'sharp'");
}

/** Throws an Error with {@link SHARP_MISSING_MESSAGE} when sharp cannot be found (without loading it). */
export function assertSharpInstalled(resolve: (id: string) => string = require.resolve): void {
  try {
    resolve('sharp');
  } catch (err) {
    if (isSharpMissing(err)) throw new Error(SHARP_MISSING_MESSAGE, { cause: err });
    throw err;
  }
}

/** sharp (libvips, ~20 MB of RSS) is loaded on the first sandbox image, not by every gateway that imports the package. */
let sharpModule: typeof Sharp | undefined;
function loadSharp(): typeof Sharp {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    sharpModule ??= require('sharp') as typeof Sharp;
  } catch (err) {
    if (isSharpMissing(err)) throw new Error(SHARP_MISSING_MESSAGE, { cause: err });
    throw err;
  }
  return sharpModule;
}

/** Long edge of every sandbox image, in pixels. */
export const SANDBOX_IMAGE_LONG_EDGE = 256;

/** The small size the sandbox renders for a requested width:height. */
export function sandboxImageSize(aspect: { width: number; height: number }): { width: number; height: number } {
  const long = Math.max(aspect.width, aspect.height);
  const scale = SANDBOX_IMAGE_LONG_EDGE / long;
  return {
    width: Math.max(1, Math.round(aspect.width * scale)),
    height: Math.max(1, Math.round(aspect.height * scale)),
  };
}

/** What one image is made from. */
export interface SandboxImageSpec {
  /** Prompt it was generated for. */
  readonly prompt: string;
  /** Seed of the task. */
  readonly seed: number;
  /** Index within the task. */
  readonly index: number;
  /** Pixel size. */
  readonly width: number;
  /** Pixel size. */
  readonly height: number;
  /** Encoding. */
  readonly format: SandboxFormat;
}

/** Renders one image; the same spec always gives the same bytes. */
export async function renderSandboxImage(spec: SandboxImageSpec): Promise<Buffer> {
  const digest = createHash('sha256').update(`${spec.prompt}\u0000${spec.seed}\u0000${spec.index}`).digest();
  const from = [digest[0] ?? 0, digest[1] ?? 0, digest[2] ?? 0];
  const to = [digest[3] ?? 255, digest[4] ?? 255, digest[5] ?? 255];
  // Weights of x and y in the gradient direction; at least 1 so the gradient never degenerates.
  const wx = 1 + ((digest[6] ?? 0) % 4);
  const wy = 1 + ((digest[7] ?? 0) % 4);
  const { width, height } = spec;
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = (wx * (x / Math.max(1, width - 1)) + wy * (y / Math.max(1, height - 1))) / (wx + wy);
      const offset = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) pixels[offset + c] = Math.round((from[c] as number) + ((to[c] as number) - (from[c] as number)) * t);
    }
  }
  return loadSharp()(pixels, { raw: { width, height, channels: 3 } }).toFormat(spec.format).toBuffer();
}
