/**
 * Aspect ratios compared as numbers, not strings: "21:9" and a 2016x864 size are the same ratio (7:3
 * reduced), and the platform's size table labels sizes within a hair of a ratio with that ratio
 * (1344x1024 is "4:3", 2048x1360 is "3:2 近似"). Used by the normalizer for Nano `size` (docs/mapping.md).
 */
import { findGptImage2Size } from '../platform/gpt-image-2-sizes';

/** Largest relative difference between a size's ratio and a ratio it may be converted to. */
export const NEAR_RATIO_TOLERANCE = 0.02;

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** "W:H" in lowest terms, e.g. 2016x864 -> "7:3". */
export function reducedRatio(width: number, height: number): string {
  const d = gcd(width, height);
  return `${width / d}:${height / d}`;
}

/** A ratio label ("21:9") in lowest terms ("7:3"), or undefined for labels that are not two positive integers ("auto"). */
export function reduceLabel(label: string): string | undefined {
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(label);
  if (!m) return undefined;
  const w = Number(m[1]);
  const h = Number(m[2]);
  return w > 0 && h > 0 ? reducedRatio(w, h) : undefined;
}

function labelValue(label: string): number | undefined {
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(label);
  return m && Number(m[2]) > 0 ? Number(m[1]) / Number(m[2]) : undefined;
}

/** How a size relates to one of the ratios a model takes. */
export type RatioMatch =
  /** The size is exactly the ratio (compared reduced). */
  | { readonly kind: 'exact'; readonly ratio: string }
  /** The size is close to the ratio: the platform's size table labels it so, or it is within NEAR_RATIO_TOLERANCE. */
  | { readonly kind: 'near'; readonly ratio: string; readonly why: 'labelled' | 'within_tolerance' };

/**
 * The ratio of `allowed` a size matches: exactly (reduced), else the one the platform's size table labels it
 * with, else the nearest one within 2% (relative). Undefined when none is close.
 */
export function matchRatio(width: number, height: number, allowed: readonly string[]): RatioMatch | undefined {
  const reduced = reducedRatio(width, height);
  const exact = allowed.find((r) => reduceLabel(r) === reduced);
  if (exact !== undefined) return { kind: 'exact', ratio: exact };
  const labelled = findGptImage2Size(`${width}x${height}`)?.ratio;
  if (labelled !== undefined && allowed.includes(labelled)) return { kind: 'near', ratio: labelled, why: 'labelled' };
  const value = width / height;
  let best: { ratio: string; distance: number } | undefined;
  for (const ratio of allowed) {
    const target = labelValue(ratio);
    if (target === undefined) continue;
    const distance = Math.abs(value / target - 1);
    if (distance < NEAR_RATIO_TOLERANCE && (best === undefined || distance < best.distance)) best = { ratio, distance };
  }
  return best ? { kind: 'near', ratio: best.ratio, why: 'within_tolerance' } : undefined;
}
