/**
 * Whether an adapter can serve an intent, decided from its declared capabilities only, and the error that
 * says why not: the model when the model itself is not served, otherwise the parameter and its limit on
 * this deployment (docs/api.md "Errors", `model_unavailable`).
 */
import { codePointLength } from '../intent/prompt';
import type { ImageIntent } from '../intent/intent';
import { findModel } from '../platform/catalog';
import { ModelUnavailableError } from '../platform/errors';
import type { AdapterCapabilities } from './contract';

/** Why an adapter cannot serve an intent. */
export interface Refusal {
  /** The request field to change: `model` when the model itself is not served here. */
  readonly param: string;
  /** Short reason, e.g. "at most 4 images per task are served for gpt-image-2". */
  readonly reason: string;
  /** The whole error message for a client. */
  readonly message: string;
}

function modelRefusal(intent: ImageIntent, reason: string): Refusal {
  return { param: 'model', reason, message: `${intent.platformModel} is not available: ${reason}. It is not downgraded silently; choose another model.` };
}

/** Why an adapter cannot serve an intent, or undefined when it can. */
export function refusal(capabilities: AdapterCapabilities, intent: ImageIntent): Refusal | undefined {
  const model = intent.platformModel;
  const support = capabilities[intent.family];
  if (!support) return modelRefusal(intent, `no upstream serves ${intent.family}`);
  const resolution = intent.geometry.kind === 'aspect' ? intent.geometry.resolution : undefined;
  if (resolution !== undefined && !(support.resolutions ?? []).includes(resolution)) {
    return modelRefusal(intent, `resolution ${resolution} is not served by any upstream today (served: ${(support.resolutions ?? []).join(', ') || 'none'})`);
  }
  if (!support.taskTypes.includes(intent.taskType)) {
    const served = support.taskTypes.join(', ');
    const fix = intent.taskType === 'image2image' ? 'send no image/images (text2image)' : 'send a reference image (image2image)';
    return {
      param: 'task_type',
      reason: `${intent.taskType} is not served for ${model}`,
      message: `task_type ${intent.taskType} is not served for ${model} on this deployment (served: ${served}); ${fix}.`,
    };
  }
  if (!support.formats.includes(intent.format)) {
    return {
      param: 'output_format',
      reason: `output_format ${intent.format} is not produced for ${model}`,
      message: `output_format ${intent.format} is not produced for ${model} on this deployment; allowed here: ${support.formats.join(', ')}.`,
    };
  }
  if (intent.count > support.maxImages) {
    const platform = findModel(model)?.n;
    const allows = platform ? ` (the platform allows ${platform.min}-${platform.max})` : '';
    return {
      param: 'n',
      reason: `at most ${support.maxImages} images per task are served for ${model}`,
      message: `n is ${intent.count}, but ${model} takes at most ${support.maxImages} images per task on this deployment${allows}; send n of ${support.maxImages} or less.`,
    };
  }
  if (intent.references.length > support.maxReferences) {
    return {
      param: 'images',
      reason: `at most ${support.maxReferences} reference images are served for ${model}`,
      message: `${intent.references.length} reference images were sent, but ${model} takes at most ${support.maxReferences} on this deployment; send at most ${support.maxReferences} (image, uploads and images together).`,
    };
  }
  const minPrompt = support.minPromptLength;
  const promptLength = codePointLength(intent.prompt);
  if (minPrompt !== undefined && promptLength < minPrompt) {
    return {
      param: 'prompt',
      reason: `prompts of at least ${minPrompt} characters are served for ${model}`,
      message: `prompt is ${promptLength} character${promptLength === 1 ? '' : 's'}, but ${model} needs at least ${minPrompt} on this deployment; write a longer prompt.`,
    };
  }
  const ratio = intent.geometry.kind === 'aspect' ? intent.geometry.aspectRatio : undefined;
  if (ratio !== undefined && support.aspectRatios !== undefined && !support.aspectRatios.includes(ratio)) {
    return {
      param: 'aspect_ratio',
      reason: `aspect_ratio ${ratio} is not served for ${model}`,
      message: `aspect_ratio ${ratio} is not served for ${model} on this deployment; allowed here: ${support.aspectRatios.join(', ')}.`,
    };
  }
  return undefined;
}

/** Why an adapter cannot serve an intent (the short reason), or undefined when it can. */
export function whyNotServed(capabilities: AdapterCapabilities, intent: ImageIntent): string | undefined {
  return refusal(capabilities, intent)?.reason;
}

/** The error for an intent no candidate serves: the first refusal's parameter and message, or `fallback`'s. */
export function notServedError(intent: ImageIntent, first: Refusal | undefined, fallback: string): ModelUnavailableError {
  const r = first ?? modelRefusal(intent, fallback);
  return new ModelUnavailableError(r.message, r.param);
}
