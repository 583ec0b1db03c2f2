/** A Clock that only moves when a test says so. */
import type { Clock } from '../../src/core/ports';

export class FakeClock implements Clock {
  constructor(private current = Date.UTC(2025, 0, 1)) {}

  now(): number {
    return this.current;
  }

  /** Moves time forward by `ms`. */
  advance(ms: number): void {
    if (ms < 0) throw new Error('FakeClock only moves forward');
    this.current += ms;
  }

  /** Jumps to an absolute time (must not go back). */
  set(ms: number): void {
    if (ms < this.current) throw new Error('FakeClock only moves forward');
    this.current = ms;
  }
}
