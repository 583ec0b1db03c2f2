/** A UsageSink that keeps every event. */
import type { UsageEvent, UsageSink } from '../../src/tasks/ports';

export class RecordingSink implements UsageSink {
  readonly events: UsageEvent[] = [];
  async record(event: UsageEvent): Promise<void> {
    this.events.push(event);
  }
}
