/**
 * The platform submit request (docs/api.md, "Submit"): the strict zod schema of the JSON body,
 * the shape of multipart uploads, and the conversion of multipart text fields into that body.
 */
import { z } from 'zod';
import { MODEL_NAMES } from './catalog';
import { ValidationError } from './errors';

/** Largest seed accepted (unsigned 32-bit, what the Nano models take). */
export const MAX_SEED = 4_294_967_295;

/**
 * Strict schema of the JSON submit body: unknown fields are rejected by name. The descriptions are what the
 * OpenAPI document shows for each field.
 */
export const submitRequestSchema = z.strictObject({
  model: z.string().describe(`Platform model name: ${MODEL_NAMES.join(', ')} (another name is 400 model_not_found).`),
  prompt: z.string().describe('Prompt text (not blank; at most MAX_PROMPT_LENGTH characters, 10,000 by default).'),
  task_type: z.enum(['text2image', 'image2image']).optional().describe('text2image or image2image; inferred from the reference images when absent. An explicit text2image with references ignores them (warning references_ignored).'),
  image: z.string().optional().describe('One reference image: an http(s) URL or a data:image/... URI.'),
  images: z.array(z.string()).optional().describe('Several reference images (http(s) URLs or data:image/... URIs), after image.'),
  // The one legacy reference field new-api's task requests parse besides image and images (see LEGACY_REFERENCE_FIELDS).
  input_reference: z.string().optional().describe('Legacy reference image (an http(s) URL or a data:image/... URI), read after image and images with a warning legacy_field; new clients use image or images.'),
  size: z.string().optional().describe('"WIDTHxHEIGHT"; required for gpt-image-2 (one of its sizes); for Nano models converted to an aspect ratio with a warning.'),
  aspect_ratio: z.string().optional().describe('Aspect ratio such as "16:9" (Nano models only).'),
  quality: z.string().optional().describe('low, medium or high (gpt-image-2); ignored with a warning for Nano models.'),
  n: z.number().int().optional().describe('Number of images, within the model\'s range (1 by default).'),
  output_format: z.string().optional().describe('png, jpeg or webp, as the model allows (png by default).'),
  response_format: z.string().optional().describe('Only "url" is supported.'),
  seed: z.number().int().min(0).max(MAX_SEED).optional().describe('Random seed (extension of the platform API); ignored with a warning where the upstream takes none.'),
});

/**
 * Legacy reference fields, in the order they are merged after `image` and `images`. The platform API
 * parses legacy fields and merges them in order (docs/api.md, "Fields"). Source: QuantumNous/new-api's async task
 * request (it has no image request with task_type), `relay/common/relay_info.go` at 4812ced (`TaskSubmitReq`:
 * `image`, `images`, `input_reference`) and `relay/common/relay_utils.go` at 0d158eb (`isKnownTaskField`
 * lists `input_reference`; `ValidateMultipartDirect` reads it as the reference image). Its image request (`dto/openai_image.go`, `ImageRequest`) parses no other
 * reference field (`mask` is an edit mask, not a reference). Every other name stays `unknown_parameter`.
 */
export const LEGACY_REFERENCE_FIELDS = ['input_reference'] as const;

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
