/**
 * A consecutive-failure circuit breaker per channel. After `failureThreshold` retryable failures in a row
 * the channel's circuit opens; after `coolDownMs` it is half-open: one trial call is let through (one per
 * cool-down window), and its outcome closes the circuit (success) or opens it again (failure).
 */
import type { Clock } from '../core/ports';

/** Breaker settings; each has a default. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit (default 5). */
  readonly failureThreshold?: number;
  /** How long an open circuit stays open before a trial call, in ms (default 30 s). */
  readonly coolDownMs?: number;
}

/** Defaults of CircuitBreakerOptions. */
export const DEFAULT_CIRCUIT_BREAKER_OPTIONS = { failureThreshold: 5, coolDownMs: 30_000 } as const;

/** State of one channel's circuit. */
export type CircuitState = 'closed' | 'open' | 'half_open';

interface Circuit {
  failures: number;
  openedAt?: number;
  trialAt?: number;
}

/** What a state change was, for logs and metrics. */
export type CircuitTransition = 'opened' | 'reopened' | 'closed';

export class CircuitBreaker {
  private readonly circuits = new Map<string, Circuit>();
  private readonly threshold: number;
  private readonly coolDownMs: number;

  constructor(
    private readonly clock: Clock,
    options: CircuitBreakerOptions = {},
  ) {
    this.threshold = options.failureThreshold ?? DEFAULT_CIRCUIT_BREAKER_OPTIONS.failureThreshold;
    this.coolDownMs = options.coolDownMs ?? DEFAULT_CIRCUIT_BREAKER_OPTIONS.coolDownMs;
    if (!Number.isInteger(this.threshold) || this.threshold < 1) throw new RangeError(`failureThreshold must be an integer >= 1 (got ${this.threshold}).`);
    if (!(this.coolDownMs >= 0)) throw new RangeError(`coolDownMs must be >= 0 (got ${this.coolDownMs}).`);
  }

  /** The circuit's state now. */
  state(id: string): CircuitState {
    const c = this.circuits.get(id);
    if (c?.openedAt === undefined) return 'closed';
    return this.clock.now() - c.openedAt >= this.coolDownMs ? 'half_open' : 'open';
  }

  /**
   * True when a call may go to this channel in the normal order: the circuit is closed, or it is half-open
   * and this caller takes the trial (one per cool-down window, so a trial that is never reported — the
   * caller succeeded elsewhere first — does not block the channel forever).
   */
  allow(id: string): boolean {
    const state = this.state(id);
    if (state === 'closed') return true;
    if (state === 'open') return false;
    const c = this.circuits.get(id) as Circuit;
    const now = this.clock.now();
    if (c.trialAt !== undefined && now - c.trialAt < this.coolDownMs) return false;
    c.trialAt = now;
    return true;
  }

  /** A call succeeded: the circuit closes. Returns 'closed' when that is a change. */
  recordSuccess(id: string): CircuitTransition | undefined {
    const c = this.circuits.get(id);
    if (!c) return undefined;
    this.circuits.delete(id);
    return c.openedAt !== undefined ? 'closed' : undefined;
  }

  /** A retryable call failed. Returns 'opened' / 'reopened' when the circuit (re)opens. */
  recordFailure(id: string): CircuitTransition | undefined {
    const now = this.clock.now();
    const c = this.circuits.get(id) ?? { failures: 0 };
    this.circuits.set(id, c);
    c.failures += 1;
    if (c.openedAt !== undefined) {
      // A failure while open or half-open (the trial, or a straggler) starts a new cool-down.
      c.openedAt = now;
      delete c.trialAt;
      return 'reopened';
    }
    if (c.failures >= this.threshold) {
      c.openedAt = now;
      return 'opened';
    }
    return undefined;
  }

  /** Consecutive failures recorded for this channel. */
  failures(id: string): number {
    return this.circuits.get(id)?.failures ?? 0;
  }
}
