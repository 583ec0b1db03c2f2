/**
 * The Gemini adapter: intent -> one generateContent call, the answer -> the final state with the image as bytes.
 * Synchronous: the engine makes the call in the background and fans n out over n calls (one image each). Pure;
 * the shared upstream client does the I/O.
 */
import { injectable } from 'tsyringe';
import type { BuiltSubmit, ImageAdapter, PollOutcome, SubmitOutcome, UpstreamBytesImage, UpstreamRequest, UpstreamResponse, UpstreamTaskState } from '../../src/adapter-kit/contract';
import { applyParamMap } from '../../src/adapter-kit/param-map';
import { describeZodProblem } from '../../src/adapter-kit/upstream-schema';
import type { ImageIntent, Warning } from '../../src/intent/intent';
import { UpstreamError } from '../../src/platform/errors';
import { GEMINI_PATHS, GEMINI_POLICY_REASONS, geminiAuthHeaders, geminiErrorSchema, geminiResponseSchema, type GeminiResponse } from './gemini-api';
import { GEMINI_CALL_TIMEOUT_MS, GEMINI_CAPABILITIES, GEMINI_MAX_RESPONSE_BYTES, GEMINI_MODEL_IDS } from './gemini-models';
import { geminiParamMap } from './gemini-param-map';

@injectable()
export class GeminiAdapter implements ImageAdapter {
  readonly id = 'gemini';
  readonly capabilities = GEMINI_CAPABILITIES;
  readonly synchronous = true;
  /** Reference images go to Gemini as inlineData bytes: the engine fetches http(s) references before the call. */
  readonly referenceBytes = true;

  authHeaders(apiKey: string): Record<string, string> {
    return geminiAuthHeaders(apiKey);
  }

  buildSubmit(intent: ImageIntent): BuiltSubmit {
    const warnings: Warning[] = [];
    const metadata: Record<string, unknown> = {};
    const mapped = applyParamMap(geminiParamMap, intent, warnings, metadata);
    const modelId = GEMINI_MODEL_IDS[intent.family];
    // The router never sends a family GEMINI_CAPABILITIES lacks; reaching here with one is a bug, not a request.
    if (modelId === undefined) throw new Error(`The gemini adapter has no model for ${intent.family}.`);
    const imageConfig: Record<string, unknown> = {};
    if (mapped.aspectRatio !== undefined) imageConfig.aspectRatio = mapped.aspectRatio;
    if (mapped.imageSize !== undefined) imageConfig.imageSize = mapped.imageSize;
    const parts = [{ text: mapped.prompt }, ...((mapped.references as unknown[] | undefined) ?? [])];
    const body = {
      contents: [{ role: 'user', parts }],
      generationConfig: {
        responseModalities: ['IMAGE'],
        ...(Object.keys(imageConfig).length > 0 ? { imageConfig } : {}),
        ...(mapped.seed !== undefined ? { seed: mapped.seed } : {}),
      },
    };
    return {
      request: { method: 'POST', path: GEMINI_PATHS.generate(modelId), body, timeoutMs: GEMINI_CALL_TIMEOUT_MS, maxResponseBytes: GEMINI_MAX_RESPONSE_BYTES },
      warnings,
      metadata,
    };
  }

  parseSubmit(response: UpstreamResponse): SubmitOutcome {
    const parsed = geminiResponseSchema.safeParse(response.body);
    if (!parsed.success) throw new UpstreamError('malformed', `Gemini's generateContent answer is not readable: ${describeZodProblem(parsed.error)}.`, response.status);
    return { kind: 'final', state: geminiAnswerToState(parsed.data) };
  }

  buildPoll(): UpstreamRequest {
    throw new UpstreamError('malformed', 'Gemini answers generateContent synchronously; there is no job to poll.');
  }

  parsePoll(): PollOutcome {
    throw new UpstreamError('malformed', 'Gemini answers generateContent synchronously; there is no job to poll.');
  }

  describeError(body: unknown): string | undefined {
    const parsed = geminiErrorSchema.safeParse(body);
    if (!parsed.success) return undefined;
    const { status, message } = parsed.data.error;
    const text = [status, message].filter((s): s is string => typeof s === 'string' && s.trim() !== '').join(': ');
    return text === '' ? undefined : text.slice(0, 500);
  }
}

/** The images of an answer, in order (thought parts are the model's drafts, never results). */
function answerImages(answer: GeminiResponse): UpstreamBytesImage[] {
  const images: UpstreamBytesImage[] = [];
  for (const candidate of answer.candidates ?? []) {
    for (const part of candidate.content?.parts ?? []) {
      if (part.thought === true || !part.inlineData || !part.inlineData.mimeType.toLowerCase().startsWith('image/')) continue;
      const data = Buffer.from(part.inlineData.data, 'base64');
      if (data.byteLength === 0) throw new UpstreamError('malformed', 'Gemini answered an image part with no bytes.');
      images.push({ data, mimeType: part.inlineData.mimeType.toLowerCase() });
    }
  }
  return images;
}

/** What the model said in text, on one line and short (Gemini often explains a refusal in text). */
function answerText(answer: GeminiResponse): string {
  const texts = (answer.candidates ?? []).flatMap((c) => (c.content?.parts ?? []).flatMap((p) => (p.thought !== true && typeof p.text === 'string' ? [p.text] : [])));
  const text = texts.join(' ').replace(/\s+/g, ' ').trim();
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** A generateContent answer -> the final state: its images, or why there are none. */
export function geminiAnswerToState(answer: GeminiResponse): UpstreamTaskState {
  const images = answerImages(answer);
  if (images.length > 0) return { status: 'succeeded', progress: 100, images };
  const blocked = answer.promptFeedback?.blockReason;
  const said = answerText(answer);
  const saying = said !== '' ? ` The model said: "${said}"` : '';
  if (typeof blocked === 'string') {
    const why = answer.promptFeedback?.blockReasonMessage ? `: ${answer.promptFeedback.blockReasonMessage}` : '';
    const code = GEMINI_POLICY_REASONS.includes(blocked) ? 'content_policy_violation' : 'prompt_blocked';
    return failed(code, sentence(`Gemini blocked the prompt (blockReason ${blocked})${why}`));
  }
  const reason = answer.candidates?.map((c) => c.finishReason).find((r): r is string => typeof r === 'string') ?? 'unknown';
  const finishMessage = answer.candidates?.map((c) => c.finishMessage).find((m): m is string => typeof m === 'string');
  const detail = finishMessage ? `: ${finishMessage}` : '';
  const message = `${sentence(`Gemini returned no image (finishReason ${reason})${detail}`)}${saying}`;
  return failed(GEMINI_POLICY_REASONS.includes(reason) ? 'content_policy_violation' : 'no_output', message);
}

/** Text ending with one full stop (upstream messages may or may not end with one). */
function sentence(text: string): string {
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}

function failed(code: string, message: string): UpstreamTaskState {
  return { status: 'failed', progress: 100, images: [], error: { code, message } };
}
