/**
 * Retry decisions of the upstream client: which failures are sent again, and after how long (full-jitter
 * exponential backoff, Retry-After honoured up to a cap). Pure: the caller supplies the randomness.
 */
import type { UpstreamError } from '../platform/errors';
import type { UpstreamOperation } from './upstream-client';

/** Waits `ms` milliseconds (injected so tests never really wait). */
export type Sleeper = (ms: number) => Promise<void>;

/** A real timer. */
export const realSleep: Sleeper = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retry policy (full-jitter exponential backoff). */
export interface UpstreamRetryPolicy {
  /** Attempts in total, the first one included. */
  readonly maxAttempts: number;
  /** Backoff base: attempt k waits a random time in [0, min(cap, base * 2^(k-1))). */
  readonly baseDelayMs: number;
  /** Backoff cap. */
  readonly maxDelayMs: number;
  /** Longest Retry-After honoured on a 429; a longer one ends the retries with rate_limited. */
  readonly maxRetryAfterMs: number;
}

/**
 * Milliseconds to wait before attempt `attempt + 1`, or undefined to give up. `randomFloat` is in [0, 1).
 * A submit that may have reached the upstream is never re-sent: the job could run (and be paid) twice.
 */
export function retryDelay(policy: UpstreamRetryPolicy, err: UpstreamError, operation: UpstreamOperation, attempt: number, randomFloat: () => number): number | undefined {
  if (attempt >= policy.maxAttempts) return undefined;
  const retryable = operation === 'submit' ? err.neverLeft : err.isRetryable;
  if (!retryable) return undefined;
  if (err.kind === 'rate_limited' && err.retryAfterSeconds !== undefined) {
    const ms = err.retryAfterSeconds * 1000;
    return ms <= policy.maxRetryAfterMs ? ms : undefined;
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(randomFloat() * ceiling);
}

/** Parses Retry-After (delta-seconds or an HTTP date) into seconds from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: unknown, nowMs: number): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}
