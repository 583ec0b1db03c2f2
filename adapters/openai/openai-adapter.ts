/**
 * The openai adapter: gpt-image-2 on OpenAI's Images API. Synchronous: the submit call itself generates (the
 * engine makes it in the background) and answers the images as base64, which the engine stores in the
 * BlobStore. Pure; the shared upstream client does the I/O.
 *
 * - text2image: `POST /v1/images/generations`, JSON.
 * - image2image: `POST /v1/images/edits`, multipart/form-data: the same fields as text parts and each reference
 *   as an `image[]` file part. The adapter declares `referenceBytes`, so the engine has fetched every URL
 *   reference into a data: URI before building (src/tasks/reference-bytes.ts).
 * - n above two fans out two images per call (OPENAI_IMAGES_PER_CALL); seed is not an OpenAI parameter
 *   (warning parameter_ignored).
 * - A 400 is read here: a safety refusal is a failed task with code content_policy_violation and OpenAI's
 *   words; any other 400 is the client's usual rejection (upstream_rejected). 401/403/429/5xx are the client's.
 */
import { injectable } from 'tsyringe';
import type { BuiltSubmit, FormPart, ImageAdapter, PollOutcome, SubmitOutcome, UpstreamBytesImage, UpstreamRequest, UpstreamResponse } from '../../src/adapter-kit/contract';
import { submitFromParamMap } from '../../src/adapter-kit/param-map';
import { finishedWithImages } from '../../src/adapter-kit/task-state';
import { parseOptional, parseUpstreamBody } from '../../src/adapter-kit/upstream-schema';
import type { ImageIntent, ImageRef } from '../../src/intent/intent';
import { sniffImageType } from '../../src/intent/references';
import { BridgeError, UpstreamError } from '../../src/platform/errors';
import {
  OPENAI_IMAGE_PART,
  OPENAI_PATHS,
  OPENAI_READ_ERROR_STATUSES,
  OPENAI_SAFETY_CODES,
  openaiAuthHeaders,
  openaiErrorSchema,
  openaiImagesResponseSchema,
  type OpenAIError,
  type OpenAIImagesResponse,
} from './openai-api';
import { OPENAI_CALL_TIMEOUT_MS, OPENAI_CAPABILITIES, OPENAI_MAX_RESPONSE_BYTES, OPENAI_MODEL_IDS } from './openai-models';
import { openaiParamMap } from './openai-param-map';

const DATA_URI = /^data:(image\/[a-z0-9.+-]+);base64,(.*)$/is;
const EXTENSIONS: Readonly<Record<string, string>> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/gif': 'gif' };
const FORMAT_TYPES: Readonly<Record<string, string>> = { png: 'image/png', jpeg: 'image/jpeg', jpg: 'image/jpeg', webp: 'image/webp' };

@injectable()
export class OpenAIAdapter implements ImageAdapter {
  readonly id = 'openai';
  readonly capabilities = OPENAI_CAPABILITIES;
  readonly synchronous = true;
  readonly referenceBytes = true;

  authHeaders(apiKey: string): Record<string, string> {
    return openaiAuthHeaders(apiKey);
  }

  buildSubmit(intent: ImageIntent): BuiltSubmit {
    return submitFromParamMap(openaiParamMap, intent, (mapped) => {
      const model = OPENAI_MODEL_IDS[intent.family];
      if (model === undefined) throw new BridgeError('internal_error', `The openai adapter has no model for family ${intent.family}.`);
      const fields = { model, ...mapped };
      const call = { timeoutMs: OPENAI_CALL_TIMEOUT_MS, maxResponseBytes: OPENAI_MAX_RESPONSE_BYTES, acceptStatuses: OPENAI_READ_ERROR_STATUSES };
      if (intent.taskType !== 'image2image' || intent.references.length === 0) return { method: 'POST', path: OPENAI_PATHS.generations, body: fields, ...call };
      const form: FormPart[] = [...Object.entries(fields).map(([name, value]) => ({ name, value: String(value) })), ...intent.references.map(imagePart)];
      return { method: 'POST', path: OPENAI_PATHS.edits, form, ...call };
    });
  }

  parseSubmit(response: UpstreamResponse): SubmitOutcome {
    if (response.status >= 300) return refusedToOutcome(response);
    const answer = parseUpstreamBody(openaiImagesResponseSchema, response, "OpenAI's images response");
    return { kind: 'final', state: finishedWithImages(answer.data.map((image) => decodedImage(image.b64_json, answer))) };
  }

  buildPoll(): UpstreamRequest {
    throw new UpstreamError('malformed', 'OpenAI answers the images in the submit call; there is no job to poll.');
  }

  parsePoll(): PollOutcome {
    throw new UpstreamError('malformed', 'OpenAI answers the images in the submit call; there is no job to poll.');
  }

  describeError(body: unknown): string | undefined {
    const error = parseOptional(openaiErrorSchema, body);
    return error ? openaiErrorText(error) : undefined;
  }
}

/**
 * One reference as an `image[]` file part. At call time every reference is a data: URI (the engine fetched the
 * URLs: `referenceBytes`); only a plan made before that (the translate dry run, the submit's plan for warnings)
 * still holds a URL, which it shows as the part's text. That part is never sent.
 */
function imagePart(ref: ImageRef, index: number): FormPart {
  const match = DATA_URI.exec(ref.url);
  if (!match) return { name: OPENAI_IMAGE_PART, value: ref.url };
  const mimeType = (match[1] as string).toLowerCase();
  return { name: OPENAI_IMAGE_PART, data: Buffer.from(match[2] as string, 'base64'), filename: `image-${index + 1}.${EXTENSIONS[mimeType] ?? 'bin'}`, mimeType };
}

/** A `b64_json` image: its bytes, type (from the bytes, else the answer's output_format) and the answer's size. */
function decodedImage(b64: string, answer: OpenAIImagesResponse): UpstreamBytesImage {
  const data = Buffer.from(b64, 'base64');
  const mimeType = sniffImageType(data) ?? FORMAT_TYPES[String(answer.output_format ?? '').toLowerCase()];
  if (data.length === 0 || mimeType === undefined) throw new UpstreamError('malformed', "OpenAI's images response holds a b64_json that is not a PNG, JPEG or WebP image.");
  const size = /^(\d+)x(\d+)$/.exec(answer.size ?? '');
  return { data, mimeType, ...(size ? { width: Number(size[1]), height: Number(size[2]) } : {}) };
}

/** `message (type …, code …, param …)`, from OpenAI's error body. */
export function openaiErrorText(error: OpenAIError): string {
  const { message, type, code, param } = error.error;
  const facts = [type ? `type ${type}` : undefined, code ? `code ${code}` : undefined, param ? `param ${param}` : undefined].filter((f) => f !== undefined);
  return `${message.trim().slice(0, 500)}${facts.length > 0 ? ` (${facts.join(', ')})` : ''}`;
}

/**
 * A 400 answer: a safety refusal is the task's verdict (failed, content_policy_violation, not retried); any
 * other 400 is a rejected request, as the client would have typed it.
 */
function refusedToOutcome(response: UpstreamResponse): SubmitOutcome {
  const error = parseOptional(openaiErrorSchema, response.body);
  const text = error ? openaiErrorText(error) : undefined;
  if (error && OPENAI_SAFETY_CODES.includes(error.error.code ?? '')) {
    return {
      kind: 'final',
      state: { status: 'failed', progress: 100, images: [], error: { code: 'content_policy_violation', message: `OpenAI's safety system refused the request: ${text ?? ''}` } },
    };
  }
  throw new UpstreamError('rejected', `OpenAI rejected the request (HTTP ${response.status})${text ? `: ${text}` : '.'}`, response.status);
}
