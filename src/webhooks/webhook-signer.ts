/**
 * Standard Webhooks signing (https://www.standardwebhooks.com/, the `standardwebhooks` package): the
 * `webhook-id`, `webhook-timestamp` and `webhook-signature` headers of one attempt. The id is the same on
 * every attempt of one delivery (receivers dedupe by it); the timestamp and signature are made per attempt,
 * so a late retry is not refused by the receiver's timestamp tolerance (5 minutes in the reference verifier).
 */
import { Webhook } from 'standardwebhooks';

/** A WEBHOOK_SECRET: `whsec_` + base64 of 24 to 64 random bytes, as Standard Webhooks defines it. */
export const WEBHOOK_SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

/** Why `secret` is not a usable WEBHOOK_SECRET, or undefined when it is one. The secret is never quoted. */
export function webhookSecretProblem(secret: string): string | undefined {
  if (!WEBHOOK_SECRET_PATTERN.test(secret)) return 'must be "whsec_" followed by base64 (e.g. from `openssl rand -base64 32`)';
  const body = secret.slice('whsec_'.length);
  if (body.length % 4 !== 0) return 'must be "whsec_" followed by padded base64 (its length after whsec_ must be a multiple of 4)';
  const bytes = Buffer.from(body, 'base64').length;
  if (bytes < 24 || bytes > 64) return `must carry 24 to 64 bytes of key after whsec_ (base64 of 32 random bytes is usual); it carries ${bytes}`;
  return undefined;
}

/** The delivery id of a task's webhook: stable across retries, derived from the task id (one webhook per task). */
export function webhookIdFor(taskId: string): string {
  return `msg_${taskId.replace(/^task_/, '')}`;
}

/** Signs webhook payloads with one secret. */
export class WebhookSigner {
  private readonly webhook: Webhook;

  constructor(secret: string) {
    const problem = webhookSecretProblem(secret);
    if (problem) throw new RangeError(`WEBHOOK_SECRET ${problem}`);
    this.webhook = new Webhook(secret);
  }

  /** The three Standard Webhooks headers for `payload` sent now (`nowMs`) as delivery `webhookId`. */
  headers(webhookId: string, nowMs: number, payload: string): Record<string, string> {
    const timestamp = new Date(nowMs);
    return {
      'webhook-id': webhookId,
      'webhook-timestamp': String(Math.floor(nowMs / 1000)),
      'webhook-signature': this.webhook.sign(webhookId, timestamp, payload),
    };
  }
}
