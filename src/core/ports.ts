/**
 * The cross-cutting ports every layer may use: time, randomness, logging, metrics. They sit on the bottom floor
 * (docs/architecture.md) so nothing imports a task module to get a clock. Each has a DI token in
 * src/di/tokens.ts; embedders register their own implementation for the token before the app resolves.
 */

/** Time source (injected so tests control it). */
export interface Clock {
  /** Milliseconds since epoch. */
  now(): number;
}

/** Randomness source (injected so tests control it). */
export interface Random {
  /** n cryptographically strong random bytes. */
  bytes(n: number): Buffer;
  /** A float in [0, 1) (jitter, weighted picks). */
  float(): number;
}

/** The levels of the Logger port. */
export type LogLevelName = 'debug' | 'info' | 'warn' | 'error';

/** Minimal structured logger (pino-compatible subset). */
export interface Logger {
  /** Writes a debug line. */
  debug(obj: object, msg?: string): void;
  /** Writes an info line. */
  info(obj: object, msg?: string): void;
  /** Writes a warn line. */
  warn(obj: object, msg?: string): void;
  /** Writes an error line. */
  error(obj: object, msg?: string): void;
  /** A logger adding `bindings` to every line. */
  child(bindings: object): Logger;
  /** Whether a line at `level` would be written (pino has it); callers skip building fields when not. */
  isLevelEnabled?(level: LogLevelName): boolean;
}

/** Metrics the core records; the HTTP layer provides a prom-client implementation. */
export interface Metrics {
  /** One upstream HTTP call finished. outcome: 'ok' or the UpstreamError kind. */
  upstreamCall(channel: string, operation: 'submit' | 'poll', outcome: string, seconds: number): void;
  /** A task reached a terminal status. */
  taskTerminal(model: string, status: 'succeeded' | 'failed'): void;
  /** Usage was settled for a task. */
  settlement(model: string, status: 'succeeded' | 'failed', cost: number): void;
  /** A settlement attempt did not confirm (the sink threw); the engine retries it. */
  settlementRetry?(model: string): void;
  /** The engine ran a task `seconds` after it was due (scheduler lag). */
  engineDueLag?(seconds: number): void;
  /** The engine made (`polled`) or put off (`deferred`: the channel's poll concurrency or rate was spent) a poll on `channel`. */
  enginePoll?(channel: string, outcome: 'polled' | 'deferred'): void;
  /** Reads the number of open (scheduled) tasks when metrics are collected. */
  trackOpenTasks?(read: () => Promise<number>): void;
  /** Reads each channel's circuit state (`closed`, `open` or `half_open`; this instance's breaker) when metrics are collected. */
  trackCircuits?(read: () => ReadonlyArray<{ readonly channel: string; readonly state: 'closed' | 'open' | 'half_open' }>): void;
}
