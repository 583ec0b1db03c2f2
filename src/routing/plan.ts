/**
 * planSubmit: the pure pipeline shared by the task service and the translate command:
 * raw platform request -> intent -> chosen adapter -> upstream submit request.
 */
import { normalizePlatformRequest, type NormalizeOptions, DEFAULT_NORMALIZE_OPTIONS } from '../intent/normalize';
import type { ImageIntent } from '../intent/intent';
import type { RawSubmit } from '../platform/submit-request';
import type { BuiltSubmit, ImageAdapter } from '../adapter-kit/contract';
import type { AdapterRegistry } from './registry';

/** A planned submit. */
export interface SubmitPlan {
  /** The canonical intent. */
  readonly intent: ImageIntent;
  /** The adapter that will serve it. */
  readonly adapter: ImageAdapter;
  /** What the adapter built. */
  readonly built: BuiltSubmit;
}

/** Normalizes, picks the first adapter (of `candidates`) that serves the intent, and builds its submit. */
export function planSubmit(
  raw: RawSubmit,
  registry: AdapterRegistry,
  options: NormalizeOptions = DEFAULT_NORMALIZE_OPTIONS,
  candidates?: readonly ImageAdapter[],
): SubmitPlan {
  const intent = normalizePlatformRequest(raw, options);
  const adapter = registry.pick(intent, candidates);
  return { intent, adapter, built: adapter.buildSubmit(intent) };
}
