/**
 * The submit pipeline, pure: raw platform request -> intent -> route(s) -> upstream submit request.
 *
 * `planRoutes` is the part the server and the translate command share: normalize with the given options, then
 * route the intent (the server to its channels, in the order to try them: `ChannelRouter.candidates`;
 * translate to adapters: `AdapterRegistry.pick`). Each route's adapter then builds the request
 * (`buildSubmit`): the server for each channel it tries (src/tasks/task-submitter.ts), `planSubmit` once, for
 * the first adapter that serves the intent (translate, the golden tests, the conformance kit).
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

/**
 * Normalizes the request and routes its intent: `route` answers what may serve it, in the order to try them,
 * and throws model_unavailable (a BridgeError) when nothing does.
 */
export function planRoutes<R>(raw: RawSubmit, options: NormalizeOptions, route: (intent: ImageIntent) => readonly R[]): { readonly intent: ImageIntent; readonly routes: readonly R[] } {
  const intent = normalizePlatformRequest(raw, options);
  return { intent, routes: route(intent) };
}

/** Normalizes, picks the first adapter (of `candidates`) that serves the intent, and builds its submit. */
export function planSubmit(
  raw: RawSubmit,
  registry: AdapterRegistry,
  options: NormalizeOptions = DEFAULT_NORMALIZE_OPTIONS,
  candidates?: readonly ImageAdapter[],
): SubmitPlan {
  const { intent, routes } = planRoutes(raw, options, (i) => [registry.pick(i, candidates)]);
  const adapter = routes[0] as ImageAdapter;
  return { intent, adapter, built: adapter.buildSubmit(intent) };
}
