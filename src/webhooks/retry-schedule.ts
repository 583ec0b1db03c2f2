/**
 * The bounded retry schedule of webhook delivery: exponential backoff from a first delay, each delay capped,
 * attempts stop once the next wait would pass the total bound (WEBHOOK_RETRY_MAX_MS). Both notifiers use the
 * same schedule: the in-process one with timers, the BullMQ one as its attempts and custom backoff.
 */

/** How webhook deliveries are retried. */
export interface WebhookRetryPolicy {
  /** Wait before the second attempt, in ms (default 2 s). */
  readonly firstDelayMs: number;
  /** Longest single wait between attempts, in ms (default 1 h). */
  readonly maxDelayMs: number;
  /** Total time from the first attempt after which no attempt is started, in ms (WEBHOOK_RETRY_MAX_MS, default 24 h). */
  readonly maxTotalMs: number;
}

/** Defaults of WebhookRetryPolicy. */
export const DEFAULT_WEBHOOK_RETRY_POLICY: WebhookRetryPolicy = { firstDelayMs: 2000, maxDelayMs: 60 * 60 * 1000, maxTotalMs: 24 * 60 * 60 * 1000 };

/** Hard ceiling on attempts, whatever the policy (a tiny first delay with a huge total would be millions). */
const MAX_ATTEMPTS = 200;

/**
 * The waits between attempts: element i is the wait after attempt i+1 failed. Empty when only one attempt
 * fits (the delivery is still tried once: at least once). Throws RangeError on a policy that makes no sense.
 */
export function retryDelays(policy: WebhookRetryPolicy): number[] {
  const { firstDelayMs, maxDelayMs, maxTotalMs } = policy;
  if (!(firstDelayMs > 0) || !(maxDelayMs >= firstDelayMs) || !(maxTotalMs >= 0)) {
    throw new RangeError('Webhook retry policy: firstDelayMs must be positive, maxDelayMs at least firstDelayMs, maxTotalMs not negative');
  }
  const delays: number[] = [];
  let total = 0;
  let next = firstDelayMs;
  while (delays.length + 1 < MAX_ATTEMPTS && total + next <= maxTotalMs) {
    delays.push(next);
    total += next;
    next = Math.min(maxDelayMs, next * 2);
  }
  return delays;
}
