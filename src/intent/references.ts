/**
 * Reference images: validation of URLs and data URIs, upload conversion, merge order and de-duplication
 * (docs/mapping.md, "Parameters").
 */
import { ValidationError } from '../platform/errors';
import type { Upload } from '../platform/submit-request';
import { redactUrlQuery, urlTextProblem } from '../util/url-text';
import type { ImageRef, Warning } from './intent';

/** Image types accepted as references (data URIs and uploads). */
export const REFERENCE_MIME_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'] as const;

/** Limits and policy for reference images. */
export interface ReferenceLimits {
  /** Most reference images per request. */
  readonly maxReferences: number;
  /** Largest decoded data URI or upload, in bytes. */
  readonly maxImageBytes: number;
  /** Longest URL accepted. */
  readonly maxUrlLength: number;
  /** Optional host policy: returns why a URL is refused, or undefined to accept it. */
  readonly checkUrl?: (url: URL) => string | undefined;
}

const DATA_URI = /^data:(image\/[a-z0-9.+-]+);base64,([A-Za-z0-9+/]*={0,2})$/;

/** Bytes a base64 payload decodes to, without decoding it. */
function base64Length(payload: string): number {
  const padding = payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0;
  return Math.floor((payload.length * 3) / 4) - padding;
}

function parseReferenceString(value: string, param: string, limits: ReferenceLimits): ImageRef {
  if (value.startsWith('data:')) {
    const m = DATA_URI.exec(value);
    if (!m) {
      throw new ValidationError('invalid_parameter', `${param} is not a valid data URI: use data:image/<png|jpeg|webp|gif>;base64,<data>.`, param);
    }
    const mime = m[1] === 'image/jpg' ? 'image/jpeg' : (m[1] as string);
    if (!(REFERENCE_MIME_TYPES as readonly string[]).includes(mime)) {
      throw new ValidationError('invalid_parameter', `${param} has image type ${m[1]}; allowed: ${REFERENCE_MIME_TYPES.join(', ')}.`, param);
    }
    const byteLength = base64Length(m[2] as string);
    if (byteLength === 0) throw new ValidationError('invalid_parameter', `${param} is an empty data URI.`, param);
    if (byteLength > limits.maxImageBytes) {
      throw new ValidationError('payload_too_large', `${param} is ${byteLength} bytes; the limit for one image is ${limits.maxImageBytes} bytes.`, param);
    }
    return { source: 'data-uri', url: value, byteLength };
  }
  if (value.length > limits.maxUrlLength) {
    throw new ValidationError('invalid_parameter', `${param} is longer than ${limits.maxUrlLength} characters.`, param);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ValidationError('invalid_parameter', `${param} must be an http(s) URL or a data:image/... URI; got "${redactUrlQuery(value).slice(0, 80)}".`, param);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationError('invalid_parameter', `${param} must be an http(s) URL or a data:image/... URI; scheme ${url.protocol} is not allowed.`, param);
  }
  // Parsers disagree on these (src/util/url-text.ts): what we check must be what the upstream fetches.
  const ambiguous = urlTextProblem(value);
  if (ambiguous) {
    throw new ValidationError('invalid_parameter', `${param} must not contain ${ambiguous}: URL parsers disagree on where such a URL points; percent-encode it.`, param);
  }
  if (url.username || url.password) {
    throw new ValidationError('invalid_parameter', `${param} must not carry credentials in the URL.`, param);
  }
  const refused = limits.checkUrl?.(url);
  if (refused) throw new ValidationError('invalid_parameter', `${param} is not allowed: ${refused}.`, param);
  // The serialization that was checked is the one sent on: no second parse can read another host from it.
  return { source: 'url', url: url.href };
}

/** Recognizes an image by its first bytes; the declared content type of an upload is not trusted. */
export function sniffImageType(bytes: Buffer): string | undefined {
  if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.readUInt32BE(4) === 0x0d0a1a0a) return 'image/png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  if (bytes.length >= 6 && /^GIF8[79]a$/.test(bytes.toString('latin1', 0, 6))) return 'image/gif';
  return undefined;
}

function uploadToRef(upload: Upload, index: number, limits: ReferenceLimits): ImageRef {
  const param = `image[${index}]`;
  if (upload.bytes.length === 0) throw new ValidationError('invalid_parameter', `The uploaded file ${param} (${upload.filename}) is empty.`, 'image');
  if (upload.bytes.length > limits.maxImageBytes) {
    throw new ValidationError('payload_too_large', `The uploaded file ${upload.filename} is ${upload.bytes.length} bytes; the limit for one image is ${limits.maxImageBytes} bytes.`, 'image');
  }
  const mime = sniffImageType(upload.bytes);
  if (!mime) {
    throw new ValidationError('invalid_parameter', `The uploaded file ${upload.filename} is not a PNG, JPEG, WebP or GIF image.`, 'image');
  }
  return { source: 'upload', url: `data:${mime};base64,${upload.bytes.toString('base64')}`, byteLength: upload.bytes.length, filename: upload.filename };
}

/** A legacy reference field the client sent (see LEGACY_REFERENCE_FIELDS). */
export interface LegacyReference {
  /** The field name, e.g. `input_reference`. */
  readonly field: string;
  /** Its value: an http(s) URL or a data URI. */
  readonly value: string;
}

/**
 * Merges `image` (string), uploaded `image` files, `images` and then the legacy fields, in that order,
 * validates each and sends each identical reference once, with a warning for every duplicate dropped and
 * for every legacy field read.
 */
export function collectReferences(
  image: string | undefined,
  uploads: readonly Upload[],
  images: readonly string[] | undefined,
  limits: ReferenceLimits,
  warnings: Warning[],
  legacy: readonly LegacyReference[] = [],
): ImageRef[] {
  const refs: ImageRef[] = [];
  if (image !== undefined) refs.push(parseReferenceString(image, 'image', limits));
  uploads.forEach((u, i) => refs.push(uploadToRef(u, i, limits)));
  images?.forEach((v, i) => refs.push(parseReferenceString(v, `images[${i}]`, limits)));
  for (const { field, value } of legacy) {
    refs.push(parseReferenceString(value, field, limits));
    warnings.push({
      code: 'legacy_field',
      param: field,
      message: `${field} is a legacy reference field; it was read as a reference image after image and images. New requests should send image or images.`,
    });
  }
  const seen = new Set<string>();
  const unique: ImageRef[] = [];
  for (const ref of refs) {
    if (seen.has(ref.url)) {
      warnings.push({ code: 'duplicate_reference', param: 'images', message: `A reference image was given more than once (${describe(ref)}); it is sent once.` });
      continue;
    }
    seen.add(ref.url);
    unique.push(ref);
  }
  if (unique.length > limits.maxReferences) {
    throw new ValidationError('invalid_parameter', `Too many reference images: ${unique.length}; at most ${limits.maxReferences} are allowed.`, 'images');
  }
  return unique;
}

function describe(ref: ImageRef): string {
  return ref.source === 'url' ? redactUrlQuery(ref.url) : ref.filename ? `upload ${ref.filename}` : 'a data URI';
}
