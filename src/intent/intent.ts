/**
 * The canonical intent: one validated, upstream-neutral shape for every accepted platform request.
 * Adapters only ever see this; the platform layer never sees upstream field names.
 */
import type { Family, OutputFormat, Quality, Resolution, TaskType } from '../platform/catalog';
import type { WarningCode } from '../platform/warnings';
import type { SizeTier } from '../platform/gpt-image-2-sizes';

/** Something accepted but changed or ignored; travels to the task's metadata.warnings and the logs. */
export interface Warning {
  /** What happened, one of WARNING_CODES (src/platform/warnings.ts), e.g. `quality_ignored`. */
  readonly code: WarningCode;
  /** The request field it concerns. */
  readonly param: string;
  /** Human-readable explanation. */
  readonly message: string;
}

/** A reference image for image2image. Uploads are already turned into data: URIs. */
export interface ImageRef {
  /** Where it came from: a URL, a data URI in JSON, or a multipart file. */
  readonly source: 'url' | 'data-uri' | 'upload';
  /** http(s) URL or data:image/...;base64,... URI, as sent upstream. */
  readonly url: string;
  /** Decoded size in bytes, for data URIs and uploads. */
  readonly byteLength?: number;
  /** Original file name of an upload. */
  readonly filename?: string;
}

/** Output geometry: Nano models are steered by aspect ratio and tier, gpt-image-2 by an exact size. */
export type Geometry =
  | { readonly kind: 'aspect'; readonly aspectRatio?: string; readonly resolution?: Resolution }
  | { readonly kind: 'size'; readonly width: number; readonly height: number; readonly tier: SizeTier };

/**
 * What billing needs to know besides the model (the price table is keyed by the platform model, kept once:
 * `platformModel` here, `model` in the task record), fixed at submit time.
 */
export interface BillingInfo {
  /** Size tier, for a model priced by size (gpt-image-2). */
  readonly tier?: SizeTier;
  /** Quality, for a model priced by quality (gpt-image-2). */
  readonly quality?: Quality;
  /** Images requested (`n`): the most images a task is billed for; it is billed for those returned (src/tasks/pricing.ts). */
  readonly requestedImages: number;
}

/** The canonical intent. */
export interface ImageIntent {
  /** Platform model as the client asked, e.g. `NanoBanana2-1K`. */
  readonly platformModel: string;
  /** Model family. */
  readonly family: Family;
  /** text2image or image2image. */
  readonly taskType: TaskType;
  /** The prompt, unchanged. */
  readonly prompt: string;
  /** Reference images in the merged, de-duplicated order. */
  readonly references: readonly ImageRef[];
  /** Number of images (n). */
  readonly count: number;
  /** Output format. */
  readonly format: OutputFormat;
  /** Output geometry. */
  readonly geometry: Geometry;
  /** Quality; only set for models where quality is a real parameter. */
  readonly quality?: Quality;
  /** Random seed, when the client sent one. */
  readonly seed?: number;
  /** What was accepted but changed or ignored. */
  readonly warnings: readonly Warning[];
  /** Billing facts. */
  readonly billing: BillingInfo;
}
