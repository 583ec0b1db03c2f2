/**
 * The one table of task defaults: the poll interval, the deadline, the query wait, idempotency and
 * settlement timings. The configuration (`src/config/config.ts` DEFAULT_LIMITS) and every task unit read
 * their defaults from here, so a default has one value wherever the task layer is built.
 */
import { DEFAULT_IDEMPOTENCY_TTL_MS } from '../security/idempotency';
import { withDefaults } from '../util/with-defaults';

/** Options of the task layer (submit, advance, settlement); every field is optional, DEFAULT_TASK_OPTIONS apply. */
export interface TaskOptions {
  /** Least time between two upstream polls of one task, across all callers, instances and the engine (default 1000 ms). */
  readonly pollIntervalMs?: number;
  /** A task not terminal this long after submit fails with upstream_timeout (default 30 min). */
  readonly deadlineMs?: number;
  /**
   * Longest a query waits for the upstream poll it started or joined (default 3000 ms). Past it the stored
   * task is answered and the poll goes on in the background: a hung upstream (timeouts x retries) must not
   * hang the client's query.
   */
  readonly queryWaitMs?: number;
  /** How long an Idempotency-Key is remembered after its task was created (default 24 h). */
  readonly idempotencyTtlMs?: number;
  /** How long a key stays reserved by a submit that never finishes (a crashed instance; default 5 min). */
  readonly idempotencyPendingTtlMs?: number;
  /** How long a submit waits for a concurrent submit holding the same key before answering 409 (default 10 s). */
  readonly idempotencyWaitMs?: number;
  /** Interval of that wait's checks (default 100 ms). */
  readonly idempotencyPollMs?: number;
  /**
   * How long a usage settlement claim holds before another caller may settle the task again (default 30 s):
   * a process that dies between claiming and confirming leaves the claim to lapse, then the task is settled
   * again (at least once; the sink dedupes by task_id).
   */
  readonly settlementLeaseMs?: number;
  /** Waits `ms` (tests replace it; default setTimeout). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Defaults of TaskOptions. */
export const DEFAULT_TASK_OPTIONS = {
  pollIntervalMs: 1000,
  deadlineMs: 30 * 60 * 1000,
  queryWaitMs: 3000,
  idempotencyTtlMs: DEFAULT_IDEMPOTENCY_TTL_MS,
  idempotencyPendingTtlMs: 5 * 60 * 1000,
  idempotencyWaitMs: 10_000,
  idempotencyPollMs: 100,
  settlementLeaseMs: 30_000,
} as const;

/** TaskOptions with every default filled in and checked. */
export type ResolvedTaskOptions = { -readonly [K in keyof typeof DEFAULT_TASK_OPTIONS]: number } & { readonly sleep: (ms: number) => Promise<void> };

/** Fills in the defaults and checks the values; throws RangeError naming the bad option. */
export function resolveTaskOptions(options: TaskOptions = {}): ResolvedTaskOptions {
  const resolved: ResolvedTaskOptions = {
    ...withDefaults<Omit<ResolvedTaskOptions, 'sleep'>>(DEFAULT_TASK_OPTIONS, options),
    sleep: options.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (typeof value !== 'number') continue;
    const ok = name === 'idempotencyWaitMs' ? value >= 0 : value > 0;
    if (!ok || !Number.isFinite(value)) throw new RangeError(`Task option ${name} must be a positive number of milliseconds; got ${value}.`);
  }
  return resolved;
}
