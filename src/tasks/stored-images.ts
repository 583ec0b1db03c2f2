/**
 * Bytes in and out of the BlobStore for tasks, so that a task record never holds image bytes:
 * - result images an upstream answered as bytes become URLs of the bridge (`storeResultImages`);
 * - reference images a client uploaded (data: URIs) are kept as `blob:<key>` while a synchronous task waits
 *   for the engine (`storeReferences`), and turned back into data: URIs when the call is built (`loadReferences`).
 */
import { isBytesImage, type UpstreamImage, type UpstreamUrlImage } from '../adapter-kit/contract';
import type { BlobStore } from '../blobs/blob-store';
import type { BlobUrls } from '../blobs/blob-urls';
import type { ImageIntent, ImageRef } from '../intent/intent';
import { BridgeError } from '../platform/errors';

const BLOB_REF = 'blob:';
const DATA_URI = /^data:([a-z]+\/[a-z0-9.+-]+);base64,/i;

/** The images with every bytes image stored and replaced by its URL, in the same order. */
export async function storeResultImages(images: readonly UpstreamImage[], store: BlobStore, urls: BlobUrls): Promise<UpstreamUrlImage[]> {
  const out: UpstreamUrlImage[] = [];
  for (const image of images) {
    if (!isBytesImage(image)) {
      out.push(image);
      continue;
    }
    const stored = await store.put(image.data, image.mimeType);
    out.push({
      url: urls.url(stored.key),
      contentType: stored.mimeType,
      ...(image.width !== undefined ? { width: image.width } : {}),
      ...(image.height !== undefined ? { height: image.height } : {}),
    });
  }
  return out;
}

/** The intent with its data: URI references stored in the BlobStore and referred to as `blob:<key>`. */
export async function storeReferences(intent: ImageIntent, store: BlobStore): Promise<ImageIntent> {
  const references: ImageRef[] = [];
  for (const ref of intent.references) {
    const match = DATA_URI.exec(ref.url);
    if (!match) {
      references.push(ref);
      continue;
    }
    const bytes = Buffer.from(ref.url.slice(match[0].length), 'base64');
    const stored = await store.put(bytes, match[1] as string).catch((err: unknown) => {
      throw new BridgeError('invalid_parameter', `A reference image could not be kept for the upstream call: ${(err as Error).message}`, 'image');
    });
    references.push({ ...ref, url: `${BLOB_REF}${stored.key}` });
  }
  return { ...intent, references };
}

/** The intent with every `blob:<key>` reference read back into a data: URI (throws when a blob is gone). */
export async function loadReferences(intent: ImageIntent, store: BlobStore): Promise<ImageIntent> {
  const references: ImageRef[] = [];
  for (const ref of intent.references) {
    if (!ref.url.startsWith(BLOB_REF)) {
      references.push(ref);
      continue;
    }
    const blob = await store.get(ref.url.slice(BLOB_REF.length));
    if (blob === undefined) throw new BridgeError('internal_error', 'A reference image kept for this task is no longer in the blob store.');
    const chunks: Buffer[] = [];
    for await (const chunk of blob.body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
    references.push({ ...ref, url: `data:${blob.mimeType};base64,${Buffer.concat(chunks).toString('base64')}` });
  }
  return { ...intent, references };
}
