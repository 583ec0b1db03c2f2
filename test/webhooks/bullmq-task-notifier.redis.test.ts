import { Webhook } from 'standardwebhooks';
import { toPlatformTask } from '../../src/tasks/task-record';
import { BullmqTaskNotifier } from '../../src/webhooks/bullmq-task-notifier';
import { WebhookDelivery } from '../../src/webhooks/webhook-delivery';
import { WebhookSender } from '../../src/webhooks/webhook-sender';
import { WebhookSigner } from '../../src/webhooks/webhook-signer';
import { CapturingLogger } from '../support/capturing-logger';
import { deleteKeys, newRedis, REDIS_URL, redisOrSkip, uniquePrefix } from '../support/redis';
import { WebhookReceiver } from '../support/webhook-receiver';
import { describeTaskNotifier, RecordingWebhookMetrics, terminalRecord, TEST_SECRET } from './task-notifier.suite';

const describeRedis = redisOrSkip();
const redis = newRedis();
const prefixes: string[] = [];

afterAll(async () => {
  for (const p of prefixes) await deleteKeys(redis, p.replace(/:$/, ''));
  await redis.quit();
});

function freshPrefix(): string {
  const prefix = uniquePrefix('webhooks');
  prefixes.push(prefix);
  return prefix;
}

describeTaskNotifier('BullMQ (Redis store)', ({ delivery, policy, logger }) => new BullmqTaskNotifier(delivery, policy, logger, { redisUrl: REDIS_URL, keyPrefix: freshPrefix() }), describeRedis);

describeRedis('BullmqTaskNotifier across instances', () => {
  const closers: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  function instance(keyPrefix: string, work: boolean): { notifier: BullmqTaskNotifier; metrics: RecordingWebhookMetrics } {
    const sender = new WebhookSender({ allowHosts: ['127.0.0.1'] });
    const metrics = new RecordingWebhookMetrics();
    const delivery = new WebhookDelivery(sender, new WebhookSigner(TEST_SECRET), { now: () => Date.now() }, new CapturingLogger(), metrics);
    const notifier = new BullmqTaskNotifier(delivery, { firstDelayMs: 40, maxDelayMs: 200, maxTotalMs: 2000 }, new CapturingLogger(), { redisUrl: REDIS_URL, keyPrefix, work });
    closers.push(() => sender.close(), () => notifier.close());
    return { notifier, metrics };
  }

  test('a delivery queued by an instance that then stops is delivered by another one, once', async () => {
    const receiver = new WebhookReceiver();
    closers.push(() => receiver.close());
    await receiver.listen();
    const prefix = freshPrefix();
    const record = terminalRecord(`http://127.0.0.1:${receiver.port}/cb`);

    // The instance that saw the task end only enqueues, then goes away before any attempt.
    const dying = instance(prefix, false);
    await dying.notifier.notify(record);
    await dying.notifier.notify(record);
    await dying.notifier.close();

    const survivor = instance(prefix, true);
    await receiver.waitFor(1);
    // Notified again after delivery (a crash before `notified` was stored): the kept jobId ignores it.
    await survivor.notifier.notify(record);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.received).toHaveLength(1);
    expect(new Webhook(TEST_SECRET).verify(receiver.received[0]?.body ?? '', receiver.received[0]?.headers ?? {})).toStrictEqual(toPlatformTask(record));
    expect(survivor.metrics.deliveries).toStrictEqual(['delivered']);
  });
});

describeRedis('BullmqTaskNotifier: an instance that dies mid-attempt', () => {
  test('another instance takes the stalled job over and delivers it, with the same webhook-id', async () => {
    // The first request hangs (the dying instance's attempt); the second is answered.
    const receiver = new WebhookReceiver((i, _q, s) => {
      if (i > 0) s.writeHead(204).end();
    });
    await receiver.listen();
    const prefix = freshPrefix();
    const record = terminalRecord(`http://127.0.0.1:${receiver.port}/cb`);
    const make = (lockDurationMs: number) => {
      const sender = new WebhookSender({ allowHosts: ['127.0.0.1'], timeoutMs: 30_000 });
      const metrics = new RecordingWebhookMetrics();
      const delivery = new WebhookDelivery(sender, new WebhookSigner(TEST_SECRET), { now: () => Date.now() }, new CapturingLogger(), metrics);
      const notifier = new BullmqTaskNotifier(delivery, { firstDelayMs: 40, maxDelayMs: 200, maxTotalMs: 2000 }, new CapturingLogger(), { redisUrl: REDIS_URL, keyPrefix: prefix, lockDurationMs });
      return { sender, notifier, metrics };
    };
    const dying = make(600);
    await dying.notifier.notify(record);
    await receiver.waitFor(1);
    // "Dies": stops renewing its lock at once (force close) without finishing the attempt.
    await dying.notifier.close({ force: true });
    const survivor = make(600);
    try {
      await receiver.waitFor(2);
      for (let i = 0; i < 100 && survivor.metrics.deliveries.length === 0; i += 1) await new Promise((r) => setTimeout(r, 20));
      expect(survivor.metrics.deliveries).toStrictEqual(['delivered']);
      expect(receiver.received[1]?.headers['webhook-id']).toBe(receiver.received[0]?.headers['webhook-id']);
      expect(new Webhook(TEST_SECRET).verify(receiver.received[1]?.body ?? '', receiver.received[1]?.headers ?? {})).toStrictEqual(toPlatformTask(record));
    } finally {
      await survivor.notifier.close();
      survivor.sender.close();
      dying.sender.close();
      await receiver.close();
    }
  });
});
