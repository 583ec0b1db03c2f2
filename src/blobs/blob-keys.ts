/**
 * Blob keys: 24 random bytes (192 bits) in base64url plus the extension of the media type, e.g.
 * `Zq3T...x.png`. The extension is how every store knows the media type without a second lookup, and only
 * raster image types are accepted: a stored blob can never be served as HTML or SVG (script) from the bridge's
 * origin, whatever an upstream claimed.
 */
import { BridgeError } from '../platform/errors';

/** Media types the bridge stores and serves, with their key extension. */
export const BLOB_MEDIA_TYPES: Readonly<Record<string, string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/avif': 'avif',
};

const TYPE_OF_EXTENSION: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(BLOB_MEDIA_TYPES).map(([type, ext]) => [ext, type]));

/** Random bytes in a key: 192 bits, well over the 128 the design asks for. */
export const BLOB_KEY_RANDOM_BYTES = 24;

const KEY_PATTERN = /^[A-Za-z0-9_-]{32}\.(png|jpg|webp|gif|avif)$/;

/** The normalized media type (`image/PNG; q=1` -> `image/png`), or a BridgeError for a type the bridge does not store. */
export function blobMediaType(mimeType: string): string {
  const normalized = mimeType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (BLOB_MEDIA_TYPES[normalized] === undefined) {
    throw new BridgeError('upstream_error', `The upstream answered an image of media type "${mimeType.slice(0, 60)}"; the bridge stores ${Object.keys(BLOB_MEDIA_TYPES).join(', ')}.`);
  }
  return normalized;
}

/** What a put accepts: non-empty bytes of a type the bridge stores. Answers the normalized media type; throws BridgeError. */
export function checkedBlobType(bytes: Uint8Array, mimeType: string): string {
  const type = blobMediaType(mimeType);
  if (bytes.byteLength === 0) throw new BridgeError('upstream_error', 'The upstream answered an empty image.');
  return type;
}

/** A new key for a blob of `mimeType` (already normalized), from `randomBytes` (a CSPRNG: the key is the capability). */
export function newBlobKey(randomBytes: (n: number) => Buffer, mimeType: string): string {
  const ext = BLOB_MEDIA_TYPES[mimeType];
  if (ext === undefined) throw new Error(`newBlobKey: ${mimeType} is not a blob media type`);
  return `${randomBytes(BLOB_KEY_RANDOM_BYTES).toString('base64url')}.${ext}`;
}

/** True when `key` has the shape newBlobKey makes (so it is safe as a file name or object key). */
export function isBlobKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

/** The media type a key stands for (call only with a key isBlobKey accepts). */
export function mediaTypeOfKey(key: string): string {
  return TYPE_OF_EXTENSION[key.slice(key.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
}
