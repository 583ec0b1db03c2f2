/** A Metrics implementation that records every call. */
import type { Metrics } from '../../src/core/ports';

export class RecordingMetrics implements Metrics {
  readonly upstreamCalls: Array<{ channel: string; operation: 'submit' | 'poll'; outcome: string }> = [];
  readonly terminals: Array<{ model: string; status: 'succeeded' | 'failed' }> = [];
  readonly settlements: Array<{ model: string; status: 'succeeded' | 'failed'; cost: number }> = [];

  upstreamCall(channel: string, operation: 'submit' | 'poll', outcome: string): void {
    this.upstreamCalls.push({ channel, operation, outcome });
  }
  taskTerminal(model: string, status: 'succeeded' | 'failed'): void {
    this.terminals.push({ model, status });
  }
  settlement(model: string, status: 'succeeded' | 'failed', cost: number): void {
    this.settlements.push({ model, status, cost });
  }
}
