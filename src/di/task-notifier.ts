/**
 * Builds the deployment's TaskNotifier (webhook delivery) for the composition root: BullMQ on the task
 * store's Redis for TASK_STORE=redis (durable, shared by every instance), in-process timers for the memory
 * store. Only built when WEBHOOK_SECRET is set (sandbox mode makes a development one); without it the HTTP
 * layer refuses callback_url, so no task ever needs one.
 */
import type { AppConfig } from '../config/config';
import type { Clock, Logger } from '../core/ports';
import type { TaskNotifier } from '../tasks/ports';
import { loadBullmqTaskNotifier } from './optional-modules';
import { InProcessTaskNotifier } from '../webhooks/in-process-task-notifier';
import { DEFAULT_WEBHOOK_RETRY_POLICY } from '../webhooks/retry-schedule';
import { WebhookDelivery, type WebhookMetrics } from '../webhooks/webhook-delivery';
import { WebhookSender } from '../webhooks/webhook-sender';
import { WebhookSigner } from '../webhooks/webhook-signer';

/** A notifier and how to stop it. */
export interface BuiltTaskNotifier {
  /** Queues the terminal task's webhook. */
  readonly notifier: TaskNotifier;
  /** Stops deliveries and closes connections and agents. */
  close(): Promise<void>;
}

/** The TaskNotifier for `config`, signing with `secret` (config.webhooks.secret, checked to be set by the caller). */
export function buildTaskNotifier(config: AppConfig, secret: string, clock: Clock, logger: Logger, metrics: WebhookMetrics): BuiltTaskNotifier {
  const { allowHosts, retryMaxMs } = config.webhooks;
  const sender = new WebhookSender({ allowHosts });
  const log = logger.child({ component: 'webhooks' });
  const delivery = new WebhookDelivery(sender, new WebhookSigner(secret), clock, log, metrics);
  const policy = { ...DEFAULT_WEBHOOK_RETRY_POLICY, maxTotalMs: retryMaxMs };
  const notifier =
    config.taskStore === 'redis'
      ? new (loadBullmqTaskNotifier().BullmqTaskNotifier)(delivery, policy, log, { redisUrl: config.redisUrl, keyPrefix: config.redisKeyPrefix, commandTimeoutMs: config.limits.redisCommandTimeoutMs })
      : new InProcessTaskNotifier(delivery, policy, log);
  return {
    notifier,
    close: async () => {
      await notifier.close();
      sender.close();
    },
  };
}
