/**
 * Per-owner abuse limits on submits: a token bucket (RATE_LIMIT_PER_MINUTE refill, RATE_LIMIT_BURST capacity) and
 * a cap on open (non-terminal) tasks (MAX_OPEN_TASKS_PER_OWNER). MemorySubmitLimiter serves one process; the
 * Redis limiter (redis-submit-limiter.ts) shares the same rules across instances.
 *
 * An open-task slot is freed when its task becomes terminal, and expires on its own after `openTaskTtlMs` (the
 * task deadline plus a margin): tasks only end when someone polls them, so a client that never polls must not
 * hold its slots for ever, and a crash between admit and release must not leak one.
 */
import type { Clock } from '../core/ports';
import type { Admission, SubmitLimiter } from './ports';

/** Configuration of the submit limits. */
export interface SubmitLimits {
  /** Tokens added to an owner's bucket per minute. */
  readonly ratePerMinute: number;
  /** Bucket capacity: submits an idle owner may send at once. */
  readonly burst: number;
  /** Most open (non-terminal) tasks per owner. */
  readonly maxOpenTasks: number;
  /** How long an open-task slot lives at most, in ms (the task deadline plus a margin). */
  readonly openTaskTtlMs: number;
}

/** Defaults (docs/configuration.md table). */
export const DEFAULT_SUBMIT_LIMITS: Omit<SubmitLimits, 'openTaskTtlMs'> = { ratePerMinute: 120, burst: 30, maxOpenTasks: 100 };

/**
 * Retry-After for a refusal because of open tasks. When a slot frees depends on the client polling its tasks,
 * so this is a hint, not a promise.
 */
export const OPEN_TASKS_RETRY_AFTER_MS = 5000;

/** Checks limits; throws RangeError on values that cannot work. */
export function checkSubmitLimits(limits: SubmitLimits): SubmitLimits {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value < 1) throw new RangeError(`submit limit ${name} must be at least 1; got ${value}`);
  }
  return limits;
}

interface OwnerState {
  tokens: number;
  refilledAt: number;
  /** Open task ids -> slot expiry. */
  open: Map<string, number>;
}

/**
 * Drops expired open-task slots. Slots are inserted with the same TTL, so the Map is in expiry order and
 * the walk stops at the first live one (a full scan was O(open tasks) per submit and showed in the profile).
 */
function dropExpiredSlots(state: OwnerState, now: number): void {
  for (const [id, expiresAt] of state.open) {
    if (expiresAt > now) break;
    state.open.delete(id);
  }
}

/** Owners between two sweeps of idle state. */
const SWEEP_EVERY = 1024;

export class MemorySubmitLimiter implements SubmitLimiter {
  private readonly owners = new Map<string, OwnerState>();
  private readonly perMs: number;
  private admitsSinceSweep = 0;

  constructor(
    private readonly clock: Clock,
    private readonly limits: SubmitLimits,
  ) {
    checkSubmitLimits(limits);
    this.perMs = limits.ratePerMinute / 60_000;
  }

  async admit(owner: string, taskId: string): Promise<Admission> {
    const now = this.clock.now();
    if ((this.admitsSinceSweep += 1) >= SWEEP_EVERY) this.sweep(now);
    let state = this.owners.get(owner);
    if (!state) {
      state = { tokens: this.limits.burst, refilledAt: now, open: new Map() };
      this.owners.set(owner, state);
    }
    dropExpiredSlots(state, now);
    if (state.open.size >= this.limits.maxOpenTasks) {
      return { admitted: false, reason: 'open_tasks', limit: this.limits.maxOpenTasks, retryAfterMs: OPEN_TASKS_RETRY_AFTER_MS };
    }
    const tokens = Math.min(this.limits.burst, state.tokens + (now - state.refilledAt) * this.perMs);
    if (tokens < 1) {
      return { admitted: false, reason: 'rate', limit: this.limits.ratePerMinute, retryAfterMs: Math.ceil((1 - tokens) / this.perMs) };
    }
    state.tokens = tokens - 1;
    state.refilledAt = now;
    state.open.set(taskId, now + this.limits.openTaskTtlMs);
    return { admitted: true };
  }

  async release(owner: string, taskId: string): Promise<void> {
    this.owners.get(owner)?.open.delete(taskId);
  }

  async close(): Promise<void> {
    this.owners.clear();
  }

  /** Owners tracked (for tests). */
  get size(): number {
    return this.owners.size;
  }

  /** Forgets owners whose bucket is full again and who hold no open slot: their state equals a fresh one. */
  private sweep(now: number): void {
    this.admitsSinceSweep = 0;
    for (const [owner, state] of this.owners) {
      dropExpiredSlots(state, now);
      const full = state.tokens + (now - state.refilledAt) * this.perMs >= this.limits.burst;
      if (full && state.open.size === 0) this.owners.delete(owner);
    }
  }
}
