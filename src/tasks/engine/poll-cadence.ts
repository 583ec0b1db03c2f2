/**
 * When the engine runs a task next: the adapter's poll cadence (PollCadence, src/adapter/contract.ts) for an
 * open task, a growing retry delay for a terminal task whose settlement or notification did not go through.
 * Pure functions of the record's times.
 */
import type { PollCadence } from '../../adapter-kit/contract';

/** The delay after a poll made when the task was `ageMs` old: (factor - 1) x age, within [firstMs, capMs]. */
export function cadenceDelayMs(cadence: PollCadence, ageMs: number): number {
  return Math.min(cadence.capMs, Math.max(cadence.firstMs, ageMs * (cadence.factor - 1)));
}

/** Times of an open task that decide its next poll (ms since epoch). */
export interface PollTimes {
  /** When the task was created. */
  readonly createdAt: number;
  /** Last poll attempt (a successful poll, or one that failed or lost the lease); 0: never. */
  readonly lastPollAt: number;
  /** When the task fails with upstream_timeout. */
  readonly deadlineAt: number;
}

/**
 * When an open task should be polled next: by the cadence, never sooner than `minIntervalMs` after the last
 * poll (the store's poll lease would refuse it), and never later than the deadline (so it fails on time).
 */
export function nextPollAt(cadence: PollCadence, times: PollTimes, minIntervalMs: number): number {
  const { createdAt, lastPollAt, deadlineAt } = times;
  const byCadence = lastPollAt === 0 ? createdAt + cadence.firstMs : lastPollAt + Math.max(minIntervalMs, cadenceDelayMs(cadence, lastPollAt - createdAt));
  return Math.min(byCadence, deadlineAt);
}

/** Delay before retrying something that has been failing for `failingForMs`: doubling from firstMs, at most capMs. */
export function retryDelayMs(failingForMs: number, firstMs: number, capMs: number): number {
  return Math.min(capMs, Math.max(firstMs, failingForMs));
}
