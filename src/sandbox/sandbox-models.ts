/**
 * What the sandbox hub accepts, per hub model, taken from the hub's model reference (as adapters/hub/hub-models.ts cites it) and fal's
 * conventions for the `/edit` variants. Deliberately independent of adapters/hub/: the sandbox is a second,
 * separate reading of the hub document, so an adapter mistake shows up as a 422 instead of being mirrored.
 *
 * Strictness the real hub may not have: an input field the reference does not list for the model is a 422
 * (`extra_forbidden`), so a bridge that sends e.g. `seed` to gpt-image-2 or `resolution` to nano-banana
 * finds out on a laptop.
 */

/** Output formats every hub model accepts (hub model reference). */
export const SANDBOX_FORMATS = ['png', 'jpeg', 'webp'] as const;
/** An output format. */
export type SandboxFormat = (typeof SANDBOX_FORMATS)[number];

/** Content-Type of each output format. */
export const SANDBOX_CONTENT_TYPES: Readonly<Record<SandboxFormat, string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};

/** Most images one task may ask for (the hub reference gives no maximum; 8 is gpt-image-2's platform limit). */
export const SANDBOX_MAX_IMAGES = 8;

const NANO_RATIOS = ['21:9', '16:9', '3:2', '4:3', '5:4', '1:1', '4:5', '3:4', '2:3', '9:16'] as const;

/**
 * gpt-image-2 `image_size` presets (fal's preset names and sizes). Presets are exempt from the custom-size
 * rules: `square` (512x512) is below the custom minimum pixel count.
 */
export const SANDBOX_IMAGE_SIZE_PRESETS: Readonly<Record<string, { width: number; height: number }>> = {
  square_hd: { width: 1024, height: 1024 },
  square: { width: 512, height: 512 },
  portrait_4_3: { width: 768, height: 1024 },
  portrait_16_9: { width: 576, height: 1024 },
  landscape_4_3: { width: 1024, height: 768 },
  landscape_16_9: { width: 1024, height: 576 },
};

/** Custom gpt-image-2 size rules (hub model reference). */
export const SANDBOX_CUSTOM_SIZE = {
  multiple: 16,
  maxEdge: 3840,
  maxRatio: 3,
  minPixels: 655_360,
  maxPixels: 8_294_400,
} as const;

/** How a model is steered and which optional parameters it takes. */
interface SandboxModelSpec {
  /** `aspect` (Nano) or `size` (gpt-image-2). */
  readonly geometry: 'aspect' | 'size';
  /** Allowed aspect ratios (Nano). */
  readonly aspectRatios?: readonly string[];
  /** Default aspect ratio (Nano). */
  readonly defaultAspectRatio?: string;
  /** Allowed resolutions, when the model takes `resolution`. */
  readonly resolutions?: readonly string[];
  /** Whether the model takes `seed`. */
  readonly seed: boolean;
  /** Other optional fields the reference lists, with their check. */
  readonly extras: Readonly<Record<string, FieldCheck>>;
}

/** Checks one optional field; returns a problem message or undefined. */
type FieldCheck = (value: unknown) => string | undefined;

const isBoolean: FieldCheck = (v) => (typeof v === 'boolean' ? undefined : 'must be a boolean');
const isString: FieldCheck = (v) => (typeof v === 'string' ? undefined : 'must be a string');
const oneOf =
  (values: readonly string[]): FieldCheck =>
  (v) =>
    typeof v === 'string' && values.includes(v) ? undefined : `must be one of ${values.join(', ')}`;
// The sandbox only simulates the queued task flow; sync_mode=true would need data-URI outputs.
const syncModeFalse: FieldCheck = (v) => (v === false ? undefined : 'the sandbox only supports sync_mode=false (omit it)');

const NANO_EXTRAS = { sync_mode: syncModeFalse, safety_tolerance: oneOf(['1', '2', '3', '4', '5', '6']), limit_generations: isBoolean };

/** The hub's text-to-image models; each also has an `<id>/edit` variant that requires `image_urls`. */
export const SANDBOX_MODELS: Readonly<Record<string, SandboxModelSpec>> = {
  'nano-banana': { geometry: 'aspect', aspectRatios: NANO_RATIOS, defaultAspectRatio: '1:1', seed: true, extras: NANO_EXTRAS },
  'nano-banana-2': {
    geometry: 'aspect',
    aspectRatios: ['auto', ...NANO_RATIOS, '4:1', '1:4', '8:1', '1:8'],
    defaultAspectRatio: 'auto',
    resolutions: ['0.5K', '1K', '2K', '4K'],
    seed: true,
    extras: { ...NANO_EXTRAS, system_prompt: isString, thinking_level: oneOf(['minimal', 'high']), enable_web_search: isBoolean },
  },
  'nano-banana-pro': {
    geometry: 'aspect',
    aspectRatios: ['auto', ...NANO_RATIOS],
    defaultAspectRatio: '1:1',
    resolutions: ['1K', '2K', '4K'],
    seed: true,
    extras: { ...NANO_EXTRAS, system_prompt: isString, enable_web_search: isBoolean },
  },
  'gpt-image-2': { geometry: 'size', seed: false, extras: { sync_mode: syncModeFalse, quality: oneOf(['auto', 'low', 'medium', 'high']) } },
};

/** Every model id the sandbox accepts, text-to-image and edit. */
export const SANDBOX_MODEL_IDS: readonly string[] = Object.keys(SANDBOX_MODELS).flatMap((id) => [id, `${id}/edit`]);

/** One validation problem, fal/pydantic style. */
export interface SandboxProblem {
  /** Where: `['body', 'input', 'num_images']`. */
  readonly loc: readonly string[];
  /** What is wrong. */
  readonly msg: string;
  /** Problem kind. */
  readonly type: string;
}

/** A validated task request: what the simulator needs to produce images. */
export interface SandboxJob {
  /** Model id as sent. */
  readonly model: string;
  /** Prompt. */
  readonly prompt: string;
  /** Number of images. */
  readonly numImages: number;
  /** Output format. */
  readonly format: SandboxFormat;
  /** Width:height of the full-size image the real model would produce. */
  readonly aspect: { readonly width: number; readonly height: number };
  /** Seed sent by the client, if any. */
  readonly seed?: number;
}

/** Validation result. */
export type SandboxValidation = { readonly ok: true; readonly job: SandboxJob } | { readonly ok: false; readonly unknownModel: boolean; readonly problems: SandboxProblem[] };

function problem(field: string, msg: string, type = 'value_error'): SandboxProblem {
  return { loc: ['body', 'input', field], msg, type };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseRatio(ratio: string): { width: number; height: number } {
  // 'auto' lets the real model choose; the sandbox chooses square.
  if (ratio === 'auto') return { width: 1, height: 1 };
  const [w, h] = ratio.split(':').map(Number);
  return { width: w ?? 1, height: h ?? 1 };
}

function checkImageSize(value: unknown, problems: SandboxProblem[]): { width: number; height: number } | undefined {
  if (typeof value === 'string') {
    const preset = SANDBOX_IMAGE_SIZE_PRESETS[value];
    if (!preset) problems.push(problem('image_size', `must be one of ${Object.keys(SANDBOX_IMAGE_SIZE_PRESETS).join(', ')} or {width, height}`));
    return preset;
  }
  if (!isRecord(value)) {
    problems.push(problem('image_size', 'must be a preset name or an object {width, height}', 'type_error'));
    return undefined;
  }
  const extra = Object.keys(value).filter((k) => k !== 'width' && k !== 'height');
  if (extra.length > 0) problems.push(problem('image_size', `unexpected field(s) ${extra.join(', ')}; only width and height`, 'extra_forbidden'));
  const { width, height } = value;
  if (!Number.isInteger(width) || !Number.isInteger(height) || (width as number) <= 0 || (height as number) <= 0) {
    problems.push(problem('image_size', 'width and height must be positive integers', 'type_error'));
    return undefined;
  }
  const w = width as number;
  const h = height as number;
  const rules = SANDBOX_CUSTOM_SIZE;
  const before = problems.length;
  if (w % rules.multiple !== 0 || h % rules.multiple !== 0) problems.push(problem('image_size', `width and height must be multiples of ${rules.multiple} (got ${w}x${h})`));
  if (Math.max(w, h) > rules.maxEdge) problems.push(problem('image_size', `the longest edge must be at most ${rules.maxEdge} px (got ${w}x${h})`));
  if (Math.max(w, h) / Math.min(w, h) > rules.maxRatio) problems.push(problem('image_size', `the aspect ratio must be at most ${rules.maxRatio}:1 (got ${w}x${h})`));
  const pixels = w * h;
  if (pixels < rules.minPixels || pixels > rules.maxPixels) {
    problems.push(problem('image_size', `total pixels must be between ${rules.minPixels} and ${rules.maxPixels} (got ${pixels} for ${w}x${h})`));
  }
  return problems.length === before ? { width: w, height: h } : undefined;
}

/** Validates a submit body `{ model, input }` the way the hub would. */
export function validateSandboxSubmit(body: unknown): SandboxValidation {
  if (!isRecord(body)) return { ok: false, unknownModel: false, problems: [{ loc: ['body'], msg: 'must be a JSON object {model, input}', type: 'type_error' }] };
  const topExtra = Object.keys(body).filter((k) => k !== 'model' && k !== 'input');
  const { model, input } = body;
  if (typeof model !== 'string' || !SANDBOX_MODEL_IDS.includes(model)) {
    return { ok: false, unknownModel: true, problems: [{ loc: ['body', 'model'], msg: `unknown model ${JSON.stringify(model)}; known models: ${SANDBOX_MODEL_IDS.join(', ')}`, type: 'unknown_model' }] };
  }
  const problems: SandboxProblem[] = topExtra.map((k) => ({ loc: ['body', k], msg: 'unexpected field; the body is {model, input}', type: 'extra_forbidden' }));
  if (!isRecord(input)) {
    problems.push({ loc: ['body', 'input'], msg: 'must be an object of model parameters', type: 'type_error' });
    return { ok: false, unknownModel: false, problems };
  }
  const edit = model.endsWith('/edit');
  const baseId = edit ? model.slice(0, -'/edit'.length) : model;
  const spec = SANDBOX_MODELS[baseId] as SandboxModelSpec;

  const known = new Set(['prompt', 'num_images', 'output_format', ...Object.keys(spec.extras)]);
  if (spec.geometry === 'aspect') known.add('aspect_ratio');
  else known.add('image_size');
  if (spec.resolutions) known.add('resolution');
  if (spec.seed) known.add('seed');
  if (edit) known.add('image_urls');
  for (const key of Object.keys(input)) {
    if (!known.has(key)) problems.push(problem(key, `${model} takes no parameter ${key}; it takes ${[...known].join(', ')}`, 'extra_forbidden'));
  }

  const { prompt, num_images: numImages = 1, output_format: format = 'png', seed } = input;
  if (prompt === undefined) problems.push(problem('prompt', 'field required', 'missing'));
  else if (typeof prompt !== 'string' || prompt.trim() === '') problems.push(problem('prompt', 'must be a non-empty string'));
  if (!Number.isInteger(numImages) || (numImages as number) < 1 || (numImages as number) > SANDBOX_MAX_IMAGES) {
    problems.push(problem('num_images', `must be an integer from 1 to ${SANDBOX_MAX_IMAGES}`));
  }
  if (typeof format !== 'string' || !(SANDBOX_FORMATS as readonly string[]).includes(format)) problems.push(problem('output_format', `must be one of ${SANDBOX_FORMATS.join(', ')}`));
  if (spec.seed && seed !== undefined && !Number.isSafeInteger(seed)) problems.push(problem('seed', 'must be an integer'));
  for (const [key, check] of Object.entries(spec.extras)) {
    const message = input[key] === undefined ? undefined : check(input[key]);
    if (message) problems.push(problem(key, message));
  }
  if (edit) {
    const urls = input.image_urls;
    if (urls === undefined) problems.push(problem('image_urls', 'field required for edit models', 'missing'));
    else if (!Array.isArray(urls) || urls.length === 0) problems.push(problem('image_urls', 'must be a non-empty array of image URLs'));
    else {
      urls.forEach((u, i) => {
        if (typeof u !== 'string' || !/^(https?:\/\/|data:image\/)/i.test(u)) problems.push({ loc: ['body', 'input', 'image_urls', String(i)], msg: 'must be an http(s) URL or a data:image/ URI', type: 'value_error' });
      });
    }
  }

  let aspect: { width: number; height: number } | undefined;
  if (spec.geometry === 'aspect') {
    const ratio = input.aspect_ratio ?? spec.defaultAspectRatio;
    if (typeof ratio !== 'string' || !spec.aspectRatios?.includes(ratio)) problems.push(problem('aspect_ratio', `must be one of ${spec.aspectRatios?.join(', ')}`));
    else aspect = parseRatio(ratio);
    if (spec.resolutions && input.resolution !== undefined) {
      const message = oneOf(spec.resolutions)(input.resolution);
      if (message) problems.push(problem('resolution', message));
    }
  } else {
    aspect = checkImageSize(input.image_size ?? 'landscape_4_3', problems);
  }

  if (problems.length > 0 || !aspect) return { ok: false, unknownModel: false, problems };
  return {
    ok: true,
    job: {
      model,
      prompt: prompt as string,
      numImages: numImages as number,
      format: format as SandboxFormat,
      aspect,
      ...(typeof seed === 'number' ? { seed } : {}),
    },
  };
}
