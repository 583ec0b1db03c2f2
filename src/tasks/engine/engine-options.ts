/** Options of the task engine and their defaults (the configuration reads its defaults from here). */
import type { PollCadence } from '../../adapter-kit/contract';

/** Options of the task engine; every field is optional, DEFAULT_ENGINE_OPTIONS apply. */
export interface EngineOptions {
  /** Run the engine (default true). Off, tasks advance only when queried (tests that drive a fake clock). */
  readonly enabled?: boolean;
  /**
   * Most tasks advanced at once by this instance (default 64). 0: this instance runs no engine worker (an
   * API-only instance): with Redis it still schedules its submits for the instances that do; with the memory
   * store there is no engine at all and tasks advance only when queried.
   */
  readonly concurrency?: number;
  /** Most engine polls in flight per channel in this instance (default 32). */
  readonly pollConcurrencyPerChannel?: number;
  /** Most engine polls started per second per channel in this instance (default 200). */
  readonly pollRatePerChannel?: number;
  /** First delay before running a task again after a failed settlement, notification or step, in ms (default 1000). */
  readonly retryFirstMs?: number;
  /** Longest such delay, in ms (default 60 000). */
  readonly retryCapMs?: number;
  /** BullMQ (Redis store): how long a running job's lock holds (default 30 000 ms); a dead instance's job is recovered after it. */
  readonly lockDurationMs?: number;
  /** BullMQ (Redis store): how often workers look for stalled jobs (default 30 000 ms). */
  readonly stalledIntervalMs?: number;
  /** Replaces every adapter's poll cadence (tests use short ones; default: each adapter's `pollCadence`). */
  readonly pollCadence?: PollCadence;
  /** BullMQ (Redis store): queue name (default `tasks`; keys `${REDIS_KEY_PREFIX}engine:${queueName}:...`). */
  readonly queueName?: string;
}

/** Defaults of EngineOptions. */
export const DEFAULT_ENGINE_OPTIONS = {
  enabled: true,
  concurrency: 64,
  pollConcurrencyPerChannel: 32,
  pollRatePerChannel: 200,
  retryFirstMs: 1000,
  retryCapMs: 60_000,
  lockDurationMs: 30_000,
  stalledIntervalMs: 30_000,
  queueName: 'tasks',
} as const;

/** EngineOptions with every default filled in. */
export type ResolvedEngineOptions = {
  readonly [K in keyof typeof DEFAULT_ENGINE_OPTIONS]: (typeof DEFAULT_ENGINE_OPTIONS)[K] extends boolean ? boolean : (typeof DEFAULT_ENGINE_OPTIONS)[K] extends string ? string : number;
} & { readonly pollCadence?: PollCadence };

/** Fills in the defaults and checks the numbers; throws RangeError naming the bad option. */
export function resolveEngineOptions(options: EngineOptions = {}): ResolvedEngineOptions {
  const resolved = { ...DEFAULT_ENGINE_OPTIONS, ...definedOnly(options) } as ResolvedEngineOptions;
  for (const [name, value] of Object.entries(resolved)) {
    const min0 = name === 'concurrency';
    if (typeof value === 'number' && !((min0 ? value >= 0 : value > 0) && Number.isFinite(value))) throw new RangeError(`Engine option ${name} must be a positive number; got ${value}.`);
  }
  return resolved;
}

function definedOnly(o: object): object {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
