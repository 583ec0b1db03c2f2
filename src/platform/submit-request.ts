/**
 * The platform submit request (platform document sections 3-5): the strict zod schema of the JSON body,
 * the shape of multipart uploads, and the conversion of multipart text fields into that body.
 */
import { z } from 'zod';
import { ValidationError } from './errors';

/** Largest seed accepted (unsigned 32-bit, what the Nano models take). */
export const MAX_SEED = 4_294_967_295;

/** Strict schema of the JSON submit body: unknown fields are rejected by name. */
export const submitRequestSchema = z.strictObject({
  /** Platform model name. */
  model: z.string(),
  /** Prompt text. */
  prompt: z.string(),
  /** text2image or image2image; inferred when absent. */
  task_type: z.enum(['text2image', 'image2image']).optional(),
  /** One reference image: http(s) URL or data:image URI. */
  image: z.string().optional(),
  /** Several reference images. */
  images: z.array(z.string()).optional(),
  /** "WxH"; required for gpt-image-2. */
  size: z.string().optional(),
  /** Aspect ratio (Nano models). */
  aspect_ratio: z.string().optional(),
  /** Quality (gpt-image-2). */
  quality: z.string().optional(),
  /** Number of images. */
  n: z.number().int().optional(),
  /** png, jpeg or webp, per model. */
  output_format: z.string().optional(),
  /** Only `url`. */
  response_format: z.string().optional(),
  /** Random seed (extension of the platform API). */
  seed: z.number().int().min(0).max(MAX_SEED).optional(),
});

/** The JSON submit body after schema validation. */
export type SubmitRequest = z.infer<typeof submitRequestSchema>;

/** The field names clients may send, for error messages. */
export const SUBMIT_FIELDS: readonly string[] = Object.keys(submitRequestSchema.shape);

/** A file uploaded in the multipart field `image`. */
export interface Upload {
  /** Form field name (always `image` once accepted). */
  readonly field: string;
  /** Client-side file name. */
  readonly filename: string;
  /** Declared content type. */
  readonly mimeType: string;
  /** File content. */
  readonly bytes: Buffer;
}

/** A raw submit as the HTTP layer received it, before normalization. */
export interface RawSubmit {
  /** JSON body, or the text fields of a multipart body already converted by `multipartFieldsToBody`. */
  readonly body: unknown;
  /** Multipart files (field `image`). */
  readonly uploads?: readonly Upload[];
}

const INTEGER_FIELDS = new Set(['n', 'seed']);
const ARRAY_FIELDS = new Set(['images']);

/**
 * Turns multipart text fields into the JSON body shape: `n` and `seed` become integers when they are
 * decimal digits (otherwise they stay strings and fail validation with a clear message), `images`
 * (or `images[]`) may repeat and becomes an array, and any other field may appear once.
 */
export function multipartFieldsToBody(fields: ReadonlyArray<{ name: string; value: string }>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const { name: rawName, value } of fields) {
    const name = rawName.endsWith('[]') ? rawName.slice(0, -2) : rawName;
    if (ARRAY_FIELDS.has(name)) {
      const list = (body[name] as string[] | undefined) ?? [];
      list.push(value);
      body[name] = list;
      continue;
    }
    if (Object.prototype.hasOwnProperty.call(body, name)) {
      throw new ValidationError('invalid_parameter', `The multipart field "${name}" was sent more than once; send it once.`, name);
    }
    // defineProperty, not assignment: a field named "__proto__" must stay an own (and so rejected) field.
    Object.defineProperty(body, name, {
      value: INTEGER_FIELDS.has(name) && /^-?\d{1,16}$/.test(value.trim()) ? Number(value.trim()) : value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return body;
}
