/**
 * TaskEngine: owns every open task (docs/reliability.md, "The task engine"). Submit hands it each new task;
 * the scheduler (in-process timers or BullMQ) calls `advance(taskId)` when the task is due; the answer decides
 * the next run: the adapter's poll cadence while the task is open (and its deadline, so it fails on time), a
 * growing retry delay while a terminal task's settlement or notification has not gone through, and no more
 * runs once it is done. Per-channel poll concurrency and rate come from ChannelPollLimiter.
 */
import { inject, injectable } from 'tsyringe';
import { DEFAULT_POLL_CADENCE, type PollCadence } from '../../adapter-kit/contract';
import { AdapterRegistry } from '../../routing/registry';
import { CLOCK, ENGINE_OPTIONS, LOGGER, METRICS, RANDOM, TASK_SCHEDULER } from '../../di/tokens';
import { isTerminal } from '../../platform/task';
import type { Clock, Logger, Metrics, Random } from '../../core/ports';
import { TaskAdvancer, type AdvanceResult } from '../task-advancer';
import { errorFields } from '../task-errors';
import type { TaskRecord } from '../task-record';
import { ChannelPollLimiter } from './channel-poll-limiter';
import { resolveEngineOptions, type EngineOptions, type ResolvedEngineOptions } from './engine-options';
import { nextPollAt, retryDelayMs } from './poll-cadence';
import type { TaskScheduler } from './task-scheduler';

/** Shortest delay the engine asks for: a task is never run in a tight loop. */
const MIN_DELAY_MS = 25;
/** Cadence delays are stretched by up to this share at random, so tasks submitted together spread out. */
const JITTER = 0.1;

@injectable()
export class TaskEngine {
  private readonly options: ResolvedEngineOptions;
  private readonly gate: ChannelPollLimiter;
  private started = false;

  constructor(
    @inject(TaskAdvancer) private readonly advancer: TaskAdvancer,
    @inject(TASK_SCHEDULER) private readonly scheduler: TaskScheduler,
    @inject(AdapterRegistry) private readonly registry: AdapterRegistry,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(RANDOM) private readonly random: Random,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(METRICS) private readonly metrics: Metrics,
    @inject(ENGINE_OPTIONS, { isOptional: true }) options?: EngineOptions,
  ) {
    this.options = resolveEngineOptions(options);
    this.gate = new ChannelPollLimiter({ concurrency: this.options.pollConcurrencyPerChannel, ratePerSecond: this.options.pollRatePerChannel });
  }

  /** Starts running due tasks (BullMQ: connects and starts this instance's worker). Idempotent. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.metrics.trackOpenTasks?.(() => this.scheduler.size());
    if (this.options.concurrency === 0) {
      this.logger.info({ event: 'engine_started', concurrency: 0 }, 'task engine without a worker on this instance (ENGINE_CONCURRENCY=0): its tasks are scheduled for the other instances');
      return;
    }
    await this.scheduler.start((taskId, dueAt) => this.run(taskId, dueAt));
    this.logger.info({ event: 'engine_started', concurrency: this.options.concurrency }, 'task engine started');
  }

  /** Stops taking due tasks and waits for the running ones (their schedules stay in Redis with BullMQ). */
  async stop(): Promise<void> {
    await this.scheduler.stop();
  }

  /** Hands a new task to the engine: its first run comes after the adapter's first poll delay. */
  async track(record: TaskRecord): Promise<void> {
    await this.scheduler.schedule(record.id, Math.max(0, this.cadenceOf(record).firstMs - (this.clock.now() - record.createdAt)));
  }

  /** One scheduled run: advance the task, then say when to run it again (null: done). */
  private async run(taskId: string, dueAt: number): Promise<number | null> {
    this.metrics.engineDueLag?.(Math.max(0, Date.now() - dueAt) / 1000);
    let result: AdvanceResult;
    try {
      result = await this.advancer.advance(taskId, this.gate);
    } catch (err) {
      this.logger.error({ event: 'engine_step_failed', task_id: taskId, error: errorFields(err) }, 'task step failed; it will run again');
      return this.options.retryFirstMs;
    }
    const record = result.record;
    if (record && result.polled) this.metrics.enginePoll?.(record.channelId, 'polled');
    if (result.done || !record) return null;
    if (result.deferredMs !== undefined) {
      this.metrics.enginePoll?.(record.channelId, 'deferred');
      return Math.max(MIN_DELAY_MS, result.deferredMs);
    }
    const now = this.clock.now();
    if (isTerminal(record.status)) {
      // Settlement or notification did not go through: retry, backing off with the time since the task ended.
      return Math.max(MIN_DELAY_MS, retryDelayMs(now - record.updatedAt, this.options.retryFirstMs, this.options.retryCapMs));
    }
    const { pollIntervalMs, deadlineMs } = this.advancer.taskOptions;
    const at = nextPollAt(
      this.cadenceOf(record),
      { createdAt: record.createdAt, lastPollAt: Math.max(record.lastPolledAt, result.pollAttemptedAt ?? 0), deadlineAt: record.createdAt + deadlineMs },
      pollIntervalMs,
    );
    const delay = at - now;
    // Jitter never pushes a run past the deadline.
    const jittered = at >= record.createdAt + deadlineMs ? delay : delay + delay * JITTER * this.random.float();
    return Math.max(MIN_DELAY_MS, jittered);
  }

  private cadenceOf(record: TaskRecord): PollCadence {
    if (this.options.pollCadence) return this.options.pollCadence;
    return this.registry.has(record.adapterId) ? (this.registry.get(record.adapterId).pollCadence ?? DEFAULT_POLL_CADENCE) : DEFAULT_POLL_CADENCE;
  }
}
