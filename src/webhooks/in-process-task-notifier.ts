/**
 * The TaskNotifier of the memory-store deployment: deliveries are retried in this process on timers, with a
 * bounded number of attempts in flight. Like the memory store itself, a restart forgets them (the Redis
 * deployment uses BullmqTaskNotifier, which does not; docs/reliability.md).
 */
import type { Logger } from '../core/ports';
import type { TaskNotifier } from '../tasks/ports';
import type { TaskRecord } from '../tasks/task-record';
import { retryDelays, type WebhookRetryPolicy } from './retry-schedule';
import { webhookJobFor, type WebhookDelivery, type WebhookJob } from './webhook-delivery';

/** Options of InProcessTaskNotifier. */
export interface InProcessTaskNotifierOptions {
  /** Most attempts sent at once (default 16); the rest wait their turn. */
  readonly concurrency?: number;
  /** How many finished task ids are remembered so a repeated notify() does not deliver twice (default 10,000). */
  readonly rememberFinished?: number;
}

/** Delivers webhooks from this process, retrying on timers. */
export class InProcessTaskNotifier implements TaskNotifier {
  private readonly delays: number[];
  private readonly concurrency: number;
  private readonly rememberFinished: number;
  /** Deliveries not finished yet, with the timer of their next attempt when one is waiting. */
  private readonly pending = new Map<string, NodeJS.Timeout | undefined>();
  /** Recently finished task ids, oldest first (Set keeps insertion order). */
  private readonly finished = new Set<string>();
  private readonly waiting: Array<() => void> = [];
  private readonly running = new Set<Promise<void>>();
  private active = 0;
  private closed = false;

  constructor(
    private readonly delivery: WebhookDelivery,
    policy: WebhookRetryPolicy,
    private readonly logger: Logger,
    options: InProcessTaskNotifierOptions = {},
  ) {
    this.delays = retryDelays(policy);
    this.concurrency = options.concurrency ?? 16;
    this.rememberFinished = options.rememberFinished ?? 10_000;
  }

  /** Queues the terminal task's webhook (no-op without a callback URL); idempotent per task id. */
  async notify(record: TaskRecord): Promise<void> {
    const job = webhookJobFor(record);
    if (!job || this.pending.has(job.taskId) || this.finished.has(job.taskId)) return;
    if (this.closed) throw new Error('The webhook notifier is closed.');
    this.pending.set(job.taskId, undefined);
    this.start(job, 1);
  }

  /** Stops: no new attempt starts, waiting retries are dropped (logged), attempts in flight finish. */
  async close(): Promise<void> {
    this.closed = true;
    for (const [taskId, timer] of this.pending) {
      if (timer) {
        clearTimeout(timer);
        this.logger.warn({ event: 'webhook_dropped', task_id: taskId }, 'webhook retry dropped at shutdown (the memory store keeps no queue)');
      }
    }
    for (const release of this.waiting.splice(0)) release();
    await Promise.all([...this.running]);
  }

  private start(job: WebhookJob, attempt: number): void {
    const run = this.run(job, attempt).finally(() => this.running.delete(run));
    this.running.add(run);
  }

  private async run(job: WebhookJob, attempt: number): Promise<void> {
    await this.slot();
    if (this.closed) {
      this.active -= 1;
      return;
    }
    let verdict;
    try {
      verdict = await this.delivery.attempt(job, attempt, attempt > this.delays.length);
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
    if (verdict === 'retry' && !this.closed) {
      const timer = setTimeout(() => this.start(job, attempt + 1), this.delays[attempt - 1] as number);
      timer.unref();
      this.pending.set(job.taskId, timer);
      return;
    }
    this.pending.delete(job.taskId);
    this.finished.add(job.taskId);
    if (this.finished.size > this.rememberFinished) this.finished.delete(this.finished.values().next().value as string);
  }

  /** Waits for one of the `concurrency` attempt slots. */
  private async slot(): Promise<void> {
    if (this.active < this.concurrency) {
      this.active += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
  }
}
