/**
 * BullMqTaskScheduler: the TaskScheduler of the Redis store, on BullMQ (https://docs.bullmq.io) on the same
 * Redis. One job per open task, `jobId` = task id (task ids are `task_` + base64url: no `:`, which BullMQ
 * reserves in custom ids), so a task is never scheduled twice. After each run the job is moved back to the
 * delayed set for the runner's next delay ("process step jobs": `moveToDelayed` + `DelayedError`) until the
 * task needs no more runs. Every instance runs a Worker on the queue; when an instance dies with a job
 * active, the job's lock lapses and BullMQ's stalled-job check gives it to another worker. Delayed jobs are
 * held by Redis, so a restart loses no schedule.
 */
import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { TaskRunner, TaskScheduler } from './task-scheduler';

/** Options of the BullMQ scheduler. */
export interface BullMqTaskSchedulerOptions {
  /** Redis URL (default redis://127.0.0.1:6379); the scheduler opens and closes its own connections. */
  readonly url?: string;
  /** Extra ioredis options (BullMQ's `maxRetriesPerRequest: null` is always set). */
  readonly redisOptions?: RedisOptions;
  /** BullMQ key prefix (its keys are `${prefix}:${queueName}:...`); default `itb:engine`. */
  readonly prefix?: string;
  /** Queue name (default `tasks`). */
  readonly queueName?: string;
  /** Most jobs this instance's worker runs at once (default 64). */
  readonly concurrency?: number;
  /** How long a running job's lock holds without renewal (the worker renews it at half); default 30 000 ms. */
  readonly lockDurationMs?: number;
  /** How often workers look for stalled jobs (their instance died); default 30 000 ms. */
  readonly stalledIntervalMs?: number;
  /** Delay before a run that threw is tried again, in ms (default 1000). */
  readonly retryMs?: number;
  /** Reports connection and worker errors (they never throw into the process). */
  readonly onError?: (err: Error) => void;
}

/** Job data: when the run is due (ms since epoch), for the lag metric. */
interface RunData {
  due: number;
}

/** A stalled job is recovered however often that happens: a run is safe to repeat (poll lease, settlement claim). */
const UNLIMITED = 1_000_000;

export class BullMqTaskScheduler implements TaskScheduler {
  private readonly queueConnection: Redis;
  private readonly queue: Queue<RunData>;
  private worker: Worker<RunData> | undefined;
  private workerConnection: Redis | undefined;
  private readonly prefix: string;
  private readonly queueName: string;
  private readonly concurrency: number;
  private readonly retryMs: number;
  private stopped = false;

  constructor(private readonly options: BullMqTaskSchedulerOptions = {}) {
    this.prefix = options.prefix ?? 'itb:engine';
    this.queueName = options.queueName ?? 'tasks';
    this.concurrency = options.concurrency ?? 64;
    this.retryMs = options.retryMs ?? 1000;
    if (!(this.concurrency >= 1) || !(this.retryMs > 0)) throw new RangeError('BullMqTaskScheduler concurrency must be >= 1 and retryMs > 0');
    this.queueConnection = this.connect();
    this.queue = new Queue<RunData>(this.queueName, { connection: this.queueConnection, prefix: this.prefix });
    this.queue.on('error', (err) => this.options.onError?.(err));
  }

  async schedule(taskId: string, delayMs: number): Promise<void> {
    const delay = Math.max(0, Math.round(delayMs));
    // An existing job with this id (delayed, waiting or active) makes add() a no-op: one schedule per task.
    await this.queue.add('advance', { due: Date.now() + delay }, {
      jobId: taskId,
      delay,
      removeOnComplete: true,
      removeOnFail: true,
      attempts: UNLIMITED,
      backoff: { type: 'fixed', delay: this.retryMs },
    });
  }

  async start(run: TaskRunner): Promise<void> {
    if (this.stopped) throw new Error('BullMqTaskScheduler was stopped');
    if (this.worker) return;
    this.workerConnection = this.connect();
    const worker = new Worker<RunData>(
      this.queueName,
      async (job: Job<RunData>, token?: string) => {
        const taskId = job.id as string;
        const next = await run(taskId, job.data.due ?? job.timestamp + job.delay);
        if (next === null) return;
        const due = Date.now() + Math.max(0, Math.round(next));
        // Both writes leave at once on the worker's connection, in this order (Redis runs them in order): one
        // round trip's wait per run instead of two (docs/benchmarks.md "Engine scale").
        await Promise.all([job.updateData({ due }), job.moveToDelayed(due, token)]);
        throw new DelayedError();
      },
      {
        connection: this.workerConnection,
        prefix: this.prefix,
        concurrency: this.concurrency,
        autorun: false,
        lockDuration: this.options.lockDurationMs ?? 30_000,
        stalledInterval: this.options.stalledIntervalMs ?? 30_000,
        maxStalledCount: UNLIMITED,
      },
    );
    worker.on('error', (err) => this.options.onError?.(err));
    this.worker = worker;
    void worker.run().catch((err: unknown) => this.options.onError?.(err instanceof Error ? err : new Error(String(err))));
    await worker.waitUntilReady();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.worker?.close();
    await this.queue.close();
    for (const connection of [this.workerConnection, this.queueConnection]) {
      if (!connection || connection.status === 'end') continue;
      await connection.quit().catch(() => connection.disconnect());
    }
  }

  async size(): Promise<number> {
    return this.queue.getJobCountByTypes('delayed', 'waiting', 'active', 'prioritized');
  }

  private connect(): Redis {
    // BullMQ's blocking worker commands need maxRetriesPerRequest: null (https://docs.bullmq.io/guide/going-to-production).
    return new Redis(this.options.url ?? 'redis://127.0.0.1:6379', { ...this.options.redisOptions, maxRetriesPerRequest: null });
  }
}
