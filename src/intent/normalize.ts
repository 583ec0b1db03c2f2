/**
 * normalizePlatformRequest: platform submit request -> canonical intent, following docs/mapping.md.
 * Every field a client sends is honoured, converted with a warning, or rejected with an error naming it.
 */
import { DEFAULT_FORMAT, DEFAULT_QUALITY, findModel, MODEL_NAMES, QUALITIES, type CatalogModel, type OutputFormat, type Quality, type TaskType } from '../platform/catalog';
import { ValidationError } from '../platform/errors';
import { findGptImage2Size, GPT_IMAGE_2_SIZE_NAMES } from '../platform/gpt-image-2-sizes';
import { LEGACY_REFERENCE_FIELDS, MAX_SEED, SUBMIT_FIELDS, submitRequestSchema, type RawSubmit, type SubmitRequest } from '../platform/submit-request';
import type { Geometry, ImageIntent, ImageRef, Warning } from './intent';
import { isBlankPrompt } from './prompt';
import { matchRatio, reducedRatio } from './ratios';
import { collectReferences, type ReferenceLimits } from './references';

/** Limits the normalizer enforces; all configurable. */
export interface NormalizeOptions extends ReferenceLimits {
  /** Longest prompt, in characters. */
  readonly maxPromptLength: number;
}

/** Defaults used by `npm start` and the translate command. */
export const DEFAULT_NORMALIZE_OPTIONS: NormalizeOptions = {
  maxPromptLength: 10_000,
  maxReferences: 16,
  maxImageBytes: 10 * 1024 * 1024,
  maxUrlLength: 4096,
};

/** What each field must be, for type errors (fields in the order they are checked). */
const FIELD_EXPECTATIONS: Record<string, string> = {
  model: `a string naming a model: ${MODEL_NAMES.join(', ')}`,
  prompt: 'a non-empty string',
  task_type: 'one of text2image, image2image',
  image: 'a string: an http(s) URL or a data:image/... URI',
  images: 'an array of strings (http(s) URLs or data:image/... URIs)',
  input_reference: 'a string: an http(s) URL or a data:image/... URI (a legacy field; use image or images)',
  size: 'a string "WIDTHxHEIGHT"',
  aspect_ratio: 'a string such as "16:9"',
  quality: 'a string: one of low, medium, high',
  n: 'an integer',
  output_format: 'a string: one of png, jpeg, webp (per model)',
  response_format: 'the string "url"',
  seed: `an integer from 0 to ${MAX_SEED}`,
};

function validateShape(body: unknown): SubmitRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError('invalid_request', 'The request body must be a JSON object.');
  }
  // null means "not sent" for every optional field; clients that serialize absent fields as null are common.
  // Object.fromEntries defines own properties: assigning `present[k] = v` would treat a JSON key "__proto__"
  // as the prototype, so it would vanish from the unknown-field check and could even supply model/prompt.
  const present: Record<string, unknown> = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null));
  const unknown = Object.keys(present).filter((k) => !SUBMIT_FIELDS.includes(k));
  if (unknown.length > 0) {
    throw new ValidationError(
      'unknown_parameter',
      `Unknown parameter${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}. Allowed parameters: ${SUBMIT_FIELDS.join(', ')}.`,
      unknown[0],
    );
  }
  for (const required of ['model', 'prompt'] as const) {
    if (present[required] === undefined) {
      throw new ValidationError('missing_parameter', `${required} is required: ${FIELD_EXPECTATIONS[required]}.`, required);
    }
  }
  const parsed = submitRequestSchema.safeParse(present);
  if (parsed.success) return parsed.data;
  const fieldsWithIssues = new Set(parsed.error.issues.map((i) => String(i.path[0] ?? '')));
  const field = SUBMIT_FIELDS.find((f) => fieldsWithIssues.has(f)) ?? String(parsed.error.issues[0]?.path[0] ?? '');
  throw new ValidationError('invalid_parameter', `${field} must be ${FIELD_EXPECTATIONS[field] ?? 'valid'}.`, field);
}

function parseSize(size: string): { width: number; height: number } {
  const m = /^(\d{2,5})x(\d{2,5})$/.exec(size);
  if (!m) throw new ValidationError('invalid_parameter', `size must look like "1024x768" (WIDTHxHEIGHT); got "${size.slice(0, 40)}".`, 'size');
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** The size clients send by default (OpenAI's default): with aspect_ratio auto it is not a ratio request. */
const DEFAULT_CLIENT_SIZE = '1024x1024';

function nanoGeometry(model: CatalogModel, req: SubmitRequest, warnings: Warning[]): Geometry {
  const allowed = model.aspectRatios;
  let aspectRatio = req.aspect_ratio;
  if (aspectRatio !== undefined && !allowed.includes(aspectRatio)) {
    throw new ValidationError('invalid_parameter', `aspect_ratio "${aspectRatio}" is not supported by ${model.name}; allowed: ${allowed.join(', ')}.`, 'aspect_ratio');
  }
  if (req.size !== undefined) {
    const { width, height } = parseSize(req.size);
    const sizeRatio = reducedRatio(width, height);
    const ratios = allowed.filter((r) => r !== 'auto');
    if (aspectRatio === 'auto' && req.size === DEFAULT_CLIENT_SIZE) {
      warnings.push({ code: 'size_ignored', param: 'size', message: `${model.name} is steered by aspect_ratio and its tier; with aspect_ratio auto the model chooses the ratio, so size ${req.size} was not sent on.` });
    } else if (aspectRatio === undefined) {
      const match = matchRatio(width, height, ratios);
      if (!match) {
        throw new ValidationError(
          'invalid_parameter',
          `size ${req.size} has aspect ratio ${sizeRatio}, which ${model.name} does not support (nor one within 2% of it); ${model.name} is steered by aspect_ratio, allowed: ${ratios.join(', ')}.`,
          'size',
        );
      }
      aspectRatio = match.ratio;
      const how = match.kind === 'exact' ? '' : ` (approximately ${match.ratio}: ${match.why === 'labelled' ? "the platform's size table labels it so" : 'within 2%'})`;
      warnings.push({ code: 'size_converted', param: 'size', message: `${model.name} is steered by aspect_ratio and its tier; size ${req.size}${how} was sent as aspect_ratio ${match.ratio}.` });
    } else {
      const match = matchRatio(width, height, [aspectRatio]);
      if (!match) {
        throw new ValidationError('conflicting_parameters', `size ${req.size} (ratio ${sizeRatio}) disagrees with aspect_ratio ${aspectRatio}; send only aspect_ratio for ${model.name}.`, 'size');
      }
      const how = match.kind === 'exact' ? 'matches' : 'approximately matches';
      warnings.push({ code: 'size_ignored', param: 'size', message: `${model.name} is steered by aspect_ratio and its tier; size ${req.size} ${how} aspect_ratio ${aspectRatio} and was not sent on.` });
    }
  }
  if (req.quality !== undefined) {
    warnings.push({ code: 'quality_ignored', param: 'quality', message: `${model.name} has no quality setting (its tier decides quality); quality "${req.quality}" was ignored.` });
  }
  return { kind: 'aspect', aspectRatio, resolution: model.resolution };
}

function sizeGeometry(model: CatalogModel, req: SubmitRequest): Geometry {
  if (req.aspect_ratio !== undefined) {
    throw new ValidationError('unsupported_parameter', `${model.name} does not take aspect_ratio; use size (e.g. 1024x768). Allowed sizes: ${GPT_IMAGE_2_SIZE_NAMES.join(', ')}.`, 'aspect_ratio');
  }
  if (req.size === undefined) {
    throw new ValidationError('missing_parameter', `size is required for ${model.name}; allowed: ${GPT_IMAGE_2_SIZE_NAMES.join(', ')}.`, 'size');
  }
  const row = findGptImage2Size(req.size);
  if (!row) {
    throw new ValidationError('invalid_parameter', `size "${req.size.slice(0, 40)}" is not offered for ${model.name}; allowed: ${GPT_IMAGE_2_SIZE_NAMES.join(', ')}.`, 'size');
  }
  return { kind: 'size', width: row.width, height: row.height, tier: row.tier };
}

function resolveQuality(model: CatalogModel, req: SubmitRequest): Quality | undefined {
  if (!model.quality) return undefined;
  if (req.quality === undefined) return DEFAULT_QUALITY;
  if (!(QUALITIES as readonly string[]).includes(req.quality)) {
    throw new ValidationError('invalid_parameter', `quality "${req.quality.slice(0, 40)}" is not supported by ${model.name}; allowed: ${QUALITIES.join(', ')}.`, 'quality');
  }
  return req.quality as Quality;
}

function resolveFormat(model: CatalogModel, req: SubmitRequest): OutputFormat {
  const format = req.output_format ?? DEFAULT_FORMAT;
  if (!(model.formats as readonly string[]).includes(format)) {
    throw new ValidationError('invalid_parameter', `output_format "${format.slice(0, 40)}" is not supported by ${model.name}; allowed: ${model.formats.join(', ')}.`, 'output_format');
  }
  return format as OutputFormat;
}

/**
 * The task type: inferred from the references when absent; an explicit value wins, as the platform
 * document says ("显式传了 task_type 时,以显式值为准"). Explicit text2image with references generates from
 * the prompt alone and says so (`references_ignored`); explicit image2image without a reference cannot run.
 */
function resolveTaskType(req: SubmitRequest, references: readonly ImageRef[], warnings: Warning[]): { taskType: TaskType; references: readonly ImageRef[] } {
  const hasReferences = references.length > 0;
  if (req.task_type === undefined) return { taskType: hasReferences ? 'image2image' : 'text2image', references };
  if (req.task_type === 'image2image' && !hasReferences) {
    throw new ValidationError('missing_parameter', 'task_type image2image needs a reference image: send image (URL, data URI or multipart file) or images.', 'image');
  }
  if (req.task_type === 'text2image' && hasReferences) {
    const n = references.length;
    warnings.push({
      code: 'references_ignored',
      param: 'task_type',
      message: `task_type is text2image, so the ${n} reference image${n > 1 ? 's were' : ' was'} not sent (an explicit task_type wins); send task_type image2image, or no task_type, to edit ${n > 1 ? 'them' : 'it'}.`,
    });
    return { taskType: 'text2image', references: [] };
  }
  return { taskType: req.task_type, references };
}

/**
 * Turns a raw platform submit into the canonical intent, or throws a ValidationError that names the field.
 * Pure: no I/O, no clock, no randomness.
 */
export function normalizePlatformRequest(raw: RawSubmit, options: NormalizeOptions = DEFAULT_NORMALIZE_OPTIONS): ImageIntent {
  const req = validateShape(raw.body);
  const model = findModel(req.model);
  if (!model) {
    throw new ValidationError('model_not_found', `Model "${req.model.slice(0, 60)}" does not exist; available models: ${MODEL_NAMES.join(', ')}.`, 'model');
  }
  const prompt = req.prompt;
  if (isBlankPrompt(prompt)) throw new ValidationError('missing_parameter', 'prompt is required and must not be blank (whitespace and invisible characters such as zero-width spaces do not count).', 'prompt');
  if (prompt.length > options.maxPromptLength) {
    throw new ValidationError('invalid_parameter', `prompt is ${prompt.length} characters; the limit is ${options.maxPromptLength}.`, 'prompt');
  }
  if (req.response_format !== undefined && req.response_format !== 'url') {
    throw new ValidationError('invalid_parameter', `response_format "${req.response_format.slice(0, 40)}" is not supported; allowed: url.`, 'response_format');
  }
  const count = req.n ?? 1;
  if (count < model.n.min || count > model.n.max) {
    throw new ValidationError('invalid_parameter', `n must be an integer from ${model.n.min} to ${model.n.max} for ${model.name}; got ${count}.`, 'n');
  }

  const warnings: Warning[] = [];
  const legacy = LEGACY_REFERENCE_FIELDS.flatMap((field) => (req[field] !== undefined ? [{ field, value: req[field] }] : []));
  const collected = collectReferences(req.image, raw.uploads ?? [], req.images, options, warnings, legacy);
  const { taskType, references } = resolveTaskType(req, collected, warnings);
  const geometry = model.geometry === 'size' ? sizeGeometry(model, req) : nanoGeometry(model, req, warnings);
  const quality = resolveQuality(model, req);
  const format = resolveFormat(model, req);

  return {
    platformModel: model.name,
    family: model.family,
    taskType,
    prompt,
    references,
    count,
    format,
    geometry,
    ...(quality !== undefined ? { quality } : {}),
    ...(req.seed !== undefined ? { seed: req.seed } : {}),
    warnings,
    billing: {
      ...(geometry.kind === 'size' ? { tier: geometry.tier } : {}),
      ...(quality !== undefined ? { quality } : {}),
      requestedImages: count,
    },
  };
}
