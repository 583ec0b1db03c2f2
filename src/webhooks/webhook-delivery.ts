/**
 * One delivery attempt of a task's webhook, with its log line and metrics: signs the payload for this
 * attempt, sends it, and says whether to try again. The payload is the platform task exactly as a query
 * answers it in `data` (toPlatformTask); the callback URL itself is never logged in full (clients put
 * tokens in query strings), only its origin.
 */
import { isTerminal } from '../platform/task';
import type { Clock, Logger } from '../core/ports';
import { toPlatformTask, type TaskRecord } from '../tasks/task-record';
import { webhookIdFor, type WebhookSigner } from './webhook-signer';
import type { WebhookFailureReason, WebhookSender } from './webhook-sender';

/** What a queued delivery carries: everything needed to send it, so it survives the task record. */
export interface WebhookJob {
  /** The task the webhook reports. */
  readonly taskId: string;
  /** Standard Webhooks `webhook-id`: the same on every attempt. */
  readonly webhookId: string;
  /** The submit's callback_url. */
  readonly url: string;
  /** The JSON body: the terminal platform task. */
  readonly payload: string;
}

/** Metrics of webhook delivery (PromMetrics implements them). */
export interface WebhookMetrics {
  /** One attempt failed, by reason. */
  webhookAttemptFailed(reason: WebhookFailureReason): void;
  /** A delivery ended: delivered, or failed for good (refused, or out of attempts). */
  webhookDelivery(result: 'delivered' | 'failed'): void;
}

/** What the caller does after an attempt. */
export type AttemptVerdict = 'delivered' | 'retry' | 'abandoned';

/** The webhook job of a terminal record with a callback URL; undefined when there is nothing to deliver. */
export function webhookJobFor(record: TaskRecord): WebhookJob | undefined {
  if (record.callbackUrl === undefined || !isTerminal(record.status)) return undefined;
  return { taskId: record.id, webhookId: webhookIdFor(record.id), url: record.callbackUrl, payload: JSON.stringify(toPlatformTask(record)) };
}

/** The origin of a URL for logs (scheme, host, port): never its path or query. */
export function receiverOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(unparseable)';
  }
}

/** Makes attempts; shared by both notifiers. */
export class WebhookDelivery {
  constructor(
    private readonly sender: WebhookSender,
    private readonly signer: WebhookSigner,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly metrics: WebhookMetrics,
  ) {}

  /**
   * Attempt number `attempt` (1-based) of `job`; `last` when no further attempt will follow a failure.
   * Resolves with what to do next; never rejects.
   */
  async attempt(job: WebhookJob, attempt: number, last: boolean): Promise<AttemptVerdict> {
    const headers = this.signer.headers(job.webhookId, this.clock.now(), job.payload);
    const outcome = await this.sender.send(job.url, headers, job.payload);
    const fields = { event: '', task_id: job.taskId, webhook_id: job.webhookId, receiver: receiverOf(job.url), attempt };
    if (outcome.ok) {
      this.metrics.webhookDelivery('delivered');
      this.logger.info({ ...fields, event: 'webhook_delivered', status: outcome.status }, 'webhook delivered');
      return 'delivered';
    }
    this.metrics.webhookAttemptFailed(outcome.reason);
    const failure = { reason: outcome.reason, detail: outcome.detail, ...(outcome.status !== undefined ? { status: outcome.status } : {}) };
    if (outcome.retryable && !last) {
      this.logger.warn({ ...fields, event: 'webhook_attempt_failed', ...failure }, 'webhook attempt failed; it will be retried');
      return 'retry';
    }
    this.metrics.webhookDelivery('failed');
    this.logger.error(
      { ...fields, event: 'webhook_failed', ...failure, gave_up: outcome.retryable ? 'retry bound reached' : 'not retryable' },
      'webhook not delivered; giving up',
    );
    return 'abandoned';
  }
}
