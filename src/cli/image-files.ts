/**
 * The file side of `generate`: reading --image files for upload, preparing --out, and saving downloaded images
 * under a name whose extension comes from the bytes (not from what a server claims).
 */
import { access, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { basename, join } from 'node:path';
import { ClientError } from './bridge-client';
import { EXIT } from './generate-options';

/** Largest local file read for upload; the bridge's own limit (UPLOAD_LIMIT_BYTES, 10 MiB by default) is lower. */
const MAX_UPLOAD_READ_BYTES = 64 * 1024 * 1024;

/** The image type of `bytes` from their first bytes, or undefined. */
export function imageTypeOf(bytes: Uint8Array): { ext: string; mime: string } | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 16));
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return { ext: 'png', mime: 'image/png' };
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { ext: 'jpg', mime: 'image/jpeg' };
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return { ext: 'webp', mime: 'image/webp' };
  if (b.length >= 6 && /^GIF8[79]a$/.test(b.toString('latin1', 0, 6))) return { ext: 'gif', mime: 'image/gif' };
  if (b.length >= 12 && b.toString('latin1', 4, 12) === 'ftypavif') return { ext: 'avif', mime: 'image/avif' };
  return undefined;
}

/** --image values split into references sent as text and local files uploaded as parts. */
export interface References {
  /** http(s) URLs and data URIs, in order. */
  readonly urls: readonly string[];
  /** Local files, in order. */
  readonly files: ReadonlyArray<{ readonly name: string; readonly type: string; readonly bytes: Uint8Array }>;
}

/** Reads the --image values: URLs and data URIs pass through; anything else must be a readable file. */
export async function readReferences(values: readonly string[]): Promise<References> {
  const urls: string[] = [];
  const files: Array<{ name: string; type: string; bytes: Uint8Array }> = [];
  for (const value of values) {
    if (/^(https?:\/\/|data:)/i.test(value)) {
      urls.push(value);
      continue;
    }
    let size: number;
    try {
      const info = await stat(value);
      if (!info.isFile()) throw Object.assign(new Error('not a file'), { code: 'not a file' });
      size = info.size;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ClientError(`--image ${value}: cannot read the file (${code}); give a local image file or an http(s) URL.`, EXIT.usage);
    }
    if (size > MAX_UPLOAD_READ_BYTES) throw new ClientError(`--image ${value}: the file is ${size} bytes; the largest read is ${MAX_UPLOAD_READ_BYTES}.`, EXIT.usage);
    const bytes = await readFile(value);
    // The bridge checks the bytes itself; the declared type only helps it name the part.
    files.push({ name: basename(value), type: imageTypeOf(bytes)?.mime ?? 'application/octet-stream', bytes });
  }
  return { urls, files };
}

/** Creates --out when missing and checks it is a writable directory. */
export async function prepareOutDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (err) {
    throw new ClientError(`--out ${dir}: not a writable directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`, EXIT.usage);
  }
}

const EXT_OF_TYPE: Readonly<Record<string, string>> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/gif': 'gif', 'image/avif': 'avif' };

/** Saves one image as `<dir>/<taskId>-<n>.<ext>` and returns the path. */
export async function saveImage(dir: string, taskId: string, index: number, bytes: Buffer, contentType: string): Promise<string> {
  const ext = imageTypeOf(bytes)?.ext ?? EXT_OF_TYPE[contentType.split(';')[0]?.trim().toLowerCase() ?? ''] ?? 'bin';
  const path = join(dir, `${taskId}-${index}.${ext}`);
  try {
    await writeFile(path, bytes);
  } catch (err) {
    throw new ClientError(`cannot write ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`, EXIT.network);
  }
  return path;
}
