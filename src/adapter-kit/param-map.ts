/**
 * Mapping tables: each canonical intent field says where it goes upstream, or why it is not sent.
 * `ParamMap<ImageIntent>` is exhaustive: adding a field to the intent fails to compile until every
 * adapter's table maps it or declares it handled elsewhere / unsupported.
 */
import type { Family } from '../platform/catalog';
import type { Geometry, ImageIntent, ImageRef, Warning } from '../intent/intent';
import type { BuiltSubmit, UpstreamRequest } from './contract';

/** Lets a transform record conversions and task metadata. */
export interface MapContext {
  /** Record a conversion the client should know about. */
  warn(warning: Warning): void;
  /** Add a fact to the platform task's metadata. */
  meta(key: string, value: unknown): void;
}

/** One canonical field's mapping. */
export type ParamMapEntry<I, K extends keyof I> =
  /** Sent as `to`, optionally transformed; a transform returning undefined sends nothing. `when` limits it to some intents. */
  | {
      readonly to: string;
      readonly transform?: (value: NonNullable<I[K]>, intent: I, ctx: MapContext) => unknown;
      readonly when?: (intent: I) => boolean;
      /** Warning message when `when` is false but the value is present. */
      readonly otherwise?: string;
    }
  /** Produces several upstream fields at once. */
  | { readonly merge: (value: NonNullable<I[K]>, intent: I, ctx: MapContext) => Record<string, unknown> }
  /** Not a body field: consumed elsewhere (model choice, billing, warnings). The string says where. */
  | { readonly handled: string };

/** The exhaustive mapping table type. */
export type ParamMap<I> = { readonly [K in keyof I]-?: ParamMapEntry<I, K> };

/**
 * A submit built from a mapping table: the table applied to the intent (src/adapter-kit/param-map.ts
 * `applyParamMap`), the body handed to `toRequest` with the intent (for the path or an envelope around the
 * body), and the warnings and metadata the table recorded. The usual one-line `buildSubmit`.
 */
export function submitFromParamMap<I extends object>(
  map: ParamMap<I>,
  intent: I,
  toRequest: (body: Record<string, unknown>, intent: I) => UpstreamRequest,
): BuiltSubmit {
  const warnings: Warning[] = [];
  const metadata: Record<string, unknown> = {};
  const body = applyParamMap(map, intent, warnings, metadata);
  return { request: toRequest(body, intent), warnings, metadata };
}

/** Applies a mapping table to an intent: builds the upstream body, recording warnings and metadata. */
export function applyParamMap<I extends object>(
  map: ParamMap<I>,
  intent: I,
  warnings: Warning[],
  metadata: Record<string, unknown>,
): Record<string, unknown> {
  const ctx: MapContext = {
    warn: (w) => warnings.push(w),
    meta: (k, v) => {
      metadata[k] = v;
    },
  };
  const body: Record<string, unknown> = {};
  for (const key of Object.keys(map) as Array<keyof I>) {
    const entry = map[key] as ParamMapEntry<I, keyof I>;
    const value = intent[key];
    if (value === undefined || value === null || 'handled' in entry) continue;
    if ('merge' in entry) {
      Object.assign(body, entry.merge(value as NonNullable<I[keyof I]>, intent, ctx));
      continue;
    }
    if (entry.when && !entry.when(intent)) {
      if (entry.otherwise) ctx.warn({ code: 'parameter_ignored', param: String(key), message: entry.otherwise });
      continue;
    }
    const out = entry.transform ? entry.transform(value as NonNullable<I[keyof I]>, intent, ctx) : value;
    if (out !== undefined) body[entry.to] = out;
  }
  return body;
}

/**
 * A size as an upstream `image_size`: the preset name where `presets` has the exact "WxH", otherwise
 * `{ width, height }` with each edge rounded to the nearest multiple the upstream accepts (1080 -> 1088
 * for 16), recording a `size_adjusted` warning and requested_size / actual_size metadata when it changed.
 */
export function presetOrGridSize(
  width: number,
  height: number,
  presets: Readonly<Record<string, string>>,
  multiple: number,
  ctx: MapContext,
): string | { width: number; height: number } {
  const requested = `${width}x${height}`;
  const preset = presets[requested];
  if (preset) return preset;
  const snap = (edge: number): number => Math.round(edge / multiple) * multiple;
  const actual = { width: snap(width), height: snap(height) };
  if (actual.width !== width || actual.height !== height) {
    const sent = `${actual.width}x${actual.height}`;
    ctx.warn({ code: 'size_adjusted', param: 'size', message: `The upstream needs edges that are multiples of ${multiple}; size ${requested} was generated as ${sent}.` });
    ctx.meta('requested_size', requested);
    ctx.meta('actual_size', sent);
  }
  return actual;
}

/** A `references` transform: the reference URLs in order, or nothing sent when there are none. */
export function referenceUrls(refs: readonly ImageRef[]): string[] | undefined {
  return refs.length > 0 ? refs.map((r) => r.url) : undefined;
}

/** What fal's image endpoints (and the hub, which mirrors their names) need to know to place the geometry. */
export interface FalStyleGeometry {
  /** Upstream `image_size` preset names by exact "WxH". */
  readonly presets: Readonly<Record<string, string>>;
  /** The multiple a custom size's edges are rounded to. */
  readonly sizeMultiple: number;
  /** Families whose tier is sent as `resolution`. */
  readonly resolutionFamilies: readonly Family[];
}

/**
 * A `geometry` merge for fal-style inputs: a size becomes `image_size` (a preset, or a grid-snapped
 * `{ width, height }`: presetOrGridSize); an aspect ratio becomes `aspect_ratio`, and a tier `resolution` for
 * the families that take one.
 */
export function falStyleGeometry(opts: FalStyleGeometry): { readonly merge: (g: Geometry, intent: ImageIntent, ctx: MapContext) => Record<string, unknown> } {
  return {
    merge: (g, intent, ctx) => {
      if (g.kind === 'size') return { image_size: presetOrGridSize(g.width, g.height, opts.presets, opts.sizeMultiple, ctx) };
      const out: Record<string, unknown> = {};
      if (g.aspectRatio !== undefined) out.aspect_ratio = g.aspectRatio;
      if (g.resolution !== undefined && opts.resolutionFamilies.includes(intent.family)) out.resolution = g.resolution;
      return out;
    },
  };
}

/** The intent's bookkeeping fields, never sent to an upstream: spread into every table (`...INTENT_BOOKKEEPING`). */
export const INTENT_BOOKKEEPING = {
  warnings: { handled: 'copied to the task metadata by the task service' },
  billing: { handled: 'used by usage settlement' },
} as const;
