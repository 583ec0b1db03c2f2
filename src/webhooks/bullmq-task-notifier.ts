/**
 * The TaskNotifier of the Redis deployment: one BullMQ job per task's webhook on the deployment's Redis.
 * `jobId` is the task id, so a task is queued once however often notify() is called (a finished job is kept
 * for a day for that reason); the attempts and the custom backoff are the bounded retry schedule
 * (retry-schedule.ts). A process that dies mid-attempt leaves a stalled job that another instance (or the
 * restarted one) takes over: a delivery is not lost, and a repeat carries the same `webhook-id`.
 */
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../core/ports';
import { boundedRedisOptions } from '../security/redis-unavailable';
import type { TaskNotifier } from '../tasks/ports';
import type { TaskRecord } from '../tasks/task-record';
import { retryDelays, type WebhookRetryPolicy } from './retry-schedule';
import { webhookJobFor, type WebhookDelivery, type WebhookJob } from './webhook-delivery';

/** Options of BullmqTaskNotifier. */
export interface BullmqTaskNotifierOptions {
  /** Redis URL (REDIS_URL). */
  readonly redisUrl: string;
  /** Key prefix (REDIS_KEY_PREFIX); the queue's keys live under it. */
  readonly keyPrefix: string;
  /** Longest a Redis command of notify() may take before it fails (REDIS_COMMAND_TIMEOUT_MS; default 2 s). */
  readonly commandTimeoutMs?: number;
  /** Attempts one instance sends at once (default 16). */
  readonly concurrency?: number;
  /** Whether this instance works the queue (default true; false: it only enqueues). */
  readonly work?: boolean;
  /**
   * How long a worker's claim on a job lasts without renewal (default 30 s, BullMQ's): a dead instance's
   * attempt is taken over by another instance about this long after it died. Must exceed one attempt's timeout.
   */
  readonly lockDurationMs?: number;
}

/** The queue name under the prefix. */
export const WEBHOOK_QUEUE = 'webhooks';
/** The custom backoff type the jobs name. */
const BACKOFF_TYPE = 'webhook-schedule';
/** How long a finished job (and so its jobId) is kept: a repeated notify() within it is not delivered again. */
const KEEP_FINISHED_SECONDS = 24 * 60 * 60;

/** Delivers webhooks through a BullMQ queue shared by every instance on one Redis. */
export class BullmqTaskNotifier implements TaskNotifier {
  private readonly delays: number[];
  private readonly queueConnection: Redis;
  private readonly workerConnection: Redis | undefined;
  private readonly queue: Queue<WebhookJob>;
  private readonly worker: Worker<WebhookJob> | undefined;

  constructor(
    private readonly delivery: WebhookDelivery,
    policy: WebhookRetryPolicy,
    private readonly logger: Logger,
    options: BullmqTaskNotifierOptions,
  ) {
    this.delays = retryDelays(policy);
    const prefix = options.keyPrefix.replace(/:+$/, '') || 'itb';
    // Enqueueing fails fast on a hung Redis (the engine retries notify()); the worker's connection blocks on
    // purpose, so BullMQ needs it without command timeouts and with maxRetriesPerRequest: null.
    this.queueConnection = new Redis(options.redisUrl, { ...boundedRedisOptions(options.commandTimeoutMs), lazyConnect: true });
    this.queue = new Queue<WebhookJob>(WEBHOOK_QUEUE, { connection: this.queueConnection, prefix });
    this.queue.on('error', (err) => this.logger.error({ event: 'webhook_queue_error', error: { message: err.message } }, 'webhook queue error'));
    if (options.work !== false) {
      this.workerConnection = new Redis(options.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
      this.worker = new Worker<WebhookJob>(WEBHOOK_QUEUE, (job) => this.process(job), {
        connection: this.workerConnection,
        prefix,
        concurrency: options.concurrency ?? 16,
        ...(options.lockDurationMs !== undefined ? { lockDuration: options.lockDurationMs, stalledInterval: options.lockDurationMs } : {}),
        // BullMQ fails a job that stalled more than once by default; a delivery outlives several dead instances.
        maxStalledCount: 10,
        settings: { backoffStrategy: (attemptsMade: number) => this.delays[attemptsMade - 1] ?? this.delays[this.delays.length - 1] ?? 0 },
      });
      this.worker.on('error', (err) => this.logger.error({ event: 'webhook_worker_error', error: { message: err.message } }, 'webhook worker error'));
    }
  }

  /** Queues the terminal task's webhook (no-op without a callback URL); idempotent per task id. */
  async notify(record: TaskRecord): Promise<void> {
    const job = webhookJobFor(record);
    if (!job) return;
    await this.queue.add('deliver', job, {
      jobId: job.taskId,
      attempts: this.delays.length + 1,
      backoff: { type: BACKOFF_TYPE },
      removeOnComplete: { age: KEEP_FINISHED_SECONDS },
      removeOnFail: { age: KEEP_FINISHED_SECONDS * 7 },
    });
  }

  /**
   * Stops working the queue (an attempt in flight finishes, unless `force`: then its job is left to stall and
   * be taken over) and closes the connections; queued jobs stay in Redis.
   */
  async close(options: { force?: boolean } = {}): Promise<void> {
    await this.worker?.close(options.force === true);
    await this.queue.close();
    await Promise.all([this.queueConnection, this.workerConnection].map((c) => c?.quit().catch(() => undefined)));
  }

  private async process(job: Job<WebhookJob>): Promise<void> {
    const attempt = job.attemptsMade + 1;
    const verdict = await this.delivery.attempt(job.data, attempt, attempt >= (job.opts.attempts ?? 1));
    if (verdict === 'delivered') return;
    // BullMQ schedules the next attempt on an ordinary error; an unrecoverable one ends the job now.
    if (verdict === 'abandoned') throw new UnrecoverableError('webhook not delivered');
    throw new Error('webhook attempt failed; retrying');
  }
}
