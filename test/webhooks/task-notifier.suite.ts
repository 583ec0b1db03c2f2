/**
 * The shared suite every TaskNotifier implementation runs (in-process timers, BullMQ on Redis): real
 * receivers on loopback sockets, real signing, the real connect-time address guard. The allow list lets
 * the loopback receivers through where a test means to deliver; names under example.test resolve to
 * 127.0.0.1 through an injected resolver (a stand-in for a public name whose DNS answer is loopback).
 */
import { randomBytes } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns';
import nock from 'nock';
import { Webhook } from 'standardwebhooks';
import type { TaskRecord } from '../../src/tasks/task-record';
import { toPlatformTask } from '../../src/tasks/task-record';
import { sampleRecord } from '../support/task-records';
import type { ResolveAll } from '../../src/security/address-guard';
import type { WebhookRetryPolicy } from '../../src/webhooks/retry-schedule';
import { WebhookDelivery, type WebhookMetrics } from '../../src/webhooks/webhook-delivery';
import { WebhookSender, type WebhookFailureReason } from '../../src/webhooks/webhook-sender';
import { WebhookSigner } from '../../src/webhooks/webhook-signer';
import { CapturingLogger } from '../support/capturing-logger';
import { freePort, WebhookReceiver } from '../support/webhook-receiver';

/** What a notifier under test is. */
export interface NotifierUnderTest {
  notify(record: TaskRecord): Promise<void>;
  close(): Promise<void>;
}

/** What the suite hands an implementation's factory. */
export interface NotifierDeps {
  readonly delivery: WebhookDelivery;
  readonly policy: WebhookRetryPolicy;
  readonly logger: CapturingLogger;
}

/** Records the webhook metrics. */
export class RecordingWebhookMetrics implements WebhookMetrics {
  readonly failures: WebhookFailureReason[] = [];
  readonly deliveries: Array<'delivered' | 'failed'> = [];
  webhookAttemptFailed(reason: WebhookFailureReason): void {
    this.failures.push(reason);
  }
  webhookDelivery(result: 'delivered' | 'failed'): void {
    this.deliveries.push(result);
  }
}

export const TEST_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

/** Names under example.test resolve to loopback (a stand-in for DNS answering a private address); others go to the system resolver. */
export const resolveToLoopback: ResolveAll = (hostname, options, callback) => {
  if (hostname.endsWith('.example.test')) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else dnsLookup(hostname, options, callback);
};

// Loopback is allowed by test/setup/network.ts; example.test names reach the sender's own guarded lookup.
nock.enableNetConnect((host) => /^(127\.0\.0\.1|localhost|\[::1\]|::1|[a-z0-9.-]+\.example\.test)(:\d+)?$/.test(host));

let sequence = 0;

/** A terminal task record with a callback URL. */
export function terminalRecord(callbackUrl: string | undefined, overrides: Partial<TaskRecord> = {}): TaskRecord {
  sequence += 1;
  const id = `task_${randomBytes(16).toString('base64url')}`;
  return sampleRecord({
    id,
    channelId: 'hub',
    upstreamRef: { id: `up-${sequence}` },
    billing: { requestedImages: 1 },
    status: 'succeeded',
    progress: 100,
    resultUrls: ['https://cdn.example.com/a.png'],
    warnings: [],
    metadata: {},
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_005_000,
    lastPolledAt: 1_700_000_005_000,
    usageSettled: true,
    ...(callbackUrl !== undefined ? { callbackUrl, notified: false } : {}),
    ...overrides,
  });
}

/** Runs the shared notifier suite for one implementation. */
export function describeTaskNotifier(name: string, make: (deps: NotifierDeps) => NotifierUnderTest | Promise<NotifierUnderTest>, describeFn: jest.Describe = describe): void {
  describeFn(`TaskNotifier: ${name}`, () => {
    const receivers: WebhookReceiver[] = [];
    const notifiers: NotifierUnderTest[] = [];
    const senders: WebhookSender[] = [];
    let logger: CapturingLogger;
    let metrics: RecordingWebhookMetrics;

    const policy: WebhookRetryPolicy = { firstDelayMs: 40, maxDelayMs: 200, maxTotalMs: 5000 };

    async function setup(options: { allowHosts?: string[]; policy?: WebhookRetryPolicy } = {}): Promise<NotifierUnderTest> {
      logger = new CapturingLogger();
      metrics = new RecordingWebhookMetrics();
      const sender = new WebhookSender({ allowHosts: options.allowHosts ?? ['127.0.0.1', 'allowed.example.test'], resolveAll: resolveToLoopback, timeoutMs: 2000 });
      senders.push(sender);
      const delivery = new WebhookDelivery(sender, new WebhookSigner(TEST_SECRET), { now: () => Date.now() }, logger, metrics);
      const notifier = await make({ delivery, policy: options.policy ?? policy, logger });
      notifiers.push(notifier);
      return notifier;
    }

    async function receiver(responder?: ConstructorParameters<typeof WebhookReceiver>[0]): Promise<WebhookReceiver> {
      const r = new WebhookReceiver(responder);
      receivers.push(r);
      await r.listen();
      return r;
    }

    /** Waits until `predicate` holds (polling every 20 ms, up to 8 s). */
    async function until(predicate: () => boolean, what: string): Promise<void> {
      for (let i = 0; i < 400; i += 1) {
        if (predicate()) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`timed out waiting for ${what}`);
    }

    afterEach(async () => {
      for (const n of notifiers.splice(0)) await n.close();
      for (const s of senders.splice(0)) s.close();
      for (const r of receivers.splice(0)) await r.close();
    });

    test('a receiver that is down, then up: the webhook arrives once, is the platform task, and its signature verifies', async () => {
      const port = await freePort();
      const notifier = await setup();
      const record = terminalRecord(`http://127.0.0.1:${port}/hooks/tasks?token=s3cr3t-query-token`);
      await notifier.notify(record);
      await until(() => metrics.failures.length >= 1, 'a refused first attempt');
      expect(metrics.failures[0]).toBe('connection_error');
      const up = new WebhookReceiver();
      receivers.push(up);
      await up.listen(port);
      await up.waitFor(1);
      await until(() => metrics.deliveries.length === 1, 'the delivery to end');

      const [hook] = up.received;
      expect(hook?.path).toBe('/hooks/tasks?token=s3cr3t-query-token');
      expect(hook?.headers['content-type']).toBe('application/json');
      const verified = new Webhook(TEST_SECRET).verify(hook?.body ?? '', hook?.headers ?? {});
      expect(verified).toStrictEqual(toPlatformTask(record));
      expect(JSON.parse(hook?.body ?? '')).toStrictEqual(toPlatformTask(record));
      expect(hook?.headers['webhook-id']).toBe(`msg_${record.id.slice('task_'.length)}`);
      expect(metrics.deliveries).toStrictEqual(['delivered']);
      // Logs carry the receiver's origin, never the path's token or the secret.
      expect(logger.at('info').find((l) => l.fields.event === 'webhook_delivered')?.fields).toMatchObject({ task_id: record.id, receiver: `http://127.0.0.1:${port}` });
      expect(logger.text()).not.toContain('s3cr3t-query-token');
      expect(logger.text()).not.toContain(TEST_SECRET.slice('whsec_'.length, 20));
      // A wrong secret does not verify.
      expect(() => new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(hook?.body ?? '', hook?.headers ?? {})).toThrow();
    });

    test('every attempt of one task carries the same webhook-id and a fresh valid signature', async () => {
      const r = await receiver((i, _q, s) => s.writeHead(i < 2 ? 500 : 200).end('x'));
      const notifier = await setup();
      const record = terminalRecord(`http://127.0.0.1:${r.port}/cb`, { status: 'failed', resultUrls: [], error: { code: 'generation_failed', message: 'nope' } });
      await notifier.notify(record);
      await r.waitFor(3);
      await until(() => metrics.deliveries.length === 1, 'the delivery to end');
      expect(new Set(r.received.map((h) => h.headers['webhook-id'])).size).toBe(1);
      for (const h of r.received) expect(new Webhook(TEST_SECRET).verify(h.body, h.headers)).toStrictEqual(toPlatformTask(record));
      expect(metrics.failures).toStrictEqual(['http_status', 'http_status']);
      expect(metrics.deliveries).toStrictEqual(['delivered']);
    });

    test('notify is idempotent per task id, and a record without a callback URL is not delivered', async () => {
      const r = await receiver();
      const notifier = await setup();
      const record = terminalRecord(`http://127.0.0.1:${r.port}/cb`);
      await Promise.all([notifier.notify(record), notifier.notify(record)]);
      await notifier.notify(terminalRecord(undefined));
      await r.waitFor(1);
      await notifier.notify(record);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(r.received).toHaveLength(1);
      expect(metrics.deliveries).toStrictEqual(['delivered']);
    });

    test.each([
      ['a loopback IP literal', (port: number) => `http://127.0.0.1:${port}/cb`],
      ['an IPv4-mapped IPv6 loopback literal', (port: number) => `http://[::ffff:127.0.0.1]:${port}/cb`],
      ['a public-looking name whose DNS answer is loopback', (port: number) => `http://rebind.example.test:${port}/cb`],
      ['localhost (the system resolver)', (port: number) => `http://localhost:${port}/cb`],
    ])('%s without an allow-list entry is never connected to', async (_what, url) => {
      const r = await receiver();
      const notifier = await setup({ allowHosts: [] });
      await notifier.notify(terminalRecord(url(r.port)));
      await until(() => metrics.deliveries.length === 1, 'the delivery to end');
      expect(metrics.failures).toStrictEqual(['refused_address']);
      expect(metrics.deliveries).toStrictEqual(['failed']);
      expect(r.connections).toBe(0);
      expect(logger.at('error').find((l) => l.fields.event === 'webhook_failed')?.fields).toMatchObject({ reason: 'refused_address', gave_up: 'not retryable' });
    });

    test('a redirect to loopback is not followed: the redirect target sees no connection', async () => {
      const target = await receiver();
      const redirector = await receiver((_i, _q, s) => s.writeHead(302, { location: `http://127.0.0.1:${target.port}/stolen` }).end());
      const notifier = await setup({ allowHosts: ['redirector.example.test'], policy: { firstDelayMs: 40, maxDelayMs: 40, maxTotalMs: 80 } });
      await notifier.notify(terminalRecord(`http://redirector.example.test:${redirector.port}/cb`));
      await until(() => metrics.deliveries.length === 1, 'the delivery to end');
      expect(redirector.received).toHaveLength(3);
      expect(metrics.failures).toStrictEqual(['redirect', 'redirect', 'redirect']);
      expect(target.connections).toBe(0);
    });

    test('an allow-listed host delivers even though it resolves to loopback', async () => {
      const r = await receiver();
      const notifier = await setup({ allowHosts: ['*.example.test'] });
      const record = terminalRecord(`http://hooks.allowed.example.test:${r.port}/cb`);
      await notifier.notify(record);
      await r.waitFor(1);
      expect(new Webhook(TEST_SECRET).verify(r.received[0]?.body ?? '', r.received[0]?.headers ?? {})).toStrictEqual(toPlatformTask(record));
      expect(r.received[0]?.headers.host).toBe(`hooks.allowed.example.test:${r.port}`);
    });

    test('retries stop at the bound: attempts = 1 + the schedule, then one failed delivery', async () => {
      const r = await receiver((_i, _q, s) => s.writeHead(503).end());
      // Waits 40, 80, 160: 280 ms <= 300; the next (200) would pass the bound.
      const notifier = await setup({ policy: { firstDelayMs: 40, maxDelayMs: 200, maxTotalMs: 300 } });
      await notifier.notify(terminalRecord(`http://127.0.0.1:${r.port}/cb`));
      await until(() => metrics.deliveries.length === 1, 'the delivery to end');
      expect(r.received).toHaveLength(4);
      expect(metrics.failures).toStrictEqual(['http_status', 'http_status', 'http_status', 'http_status']);
      expect(metrics.deliveries).toStrictEqual(['failed']);
      expect(logger.at('error').find((l) => l.fields.event === 'webhook_failed')?.fields).toMatchObject({ attempt: 4, status: 503, gave_up: 'retry bound reached' });
    });

    test('a bound of zero still makes one attempt (at least once)', async () => {
      const r = await receiver((_i, _q, s) => s.writeHead(500).end());
      const notifier = await setup({ policy: { firstDelayMs: 40, maxDelayMs: 40, maxTotalMs: 0 } });
      await notifier.notify(terminalRecord(`http://127.0.0.1:${r.port}/cb`));
      await until(() => metrics.deliveries.length === 1, 'the delivery to end');
      expect(r.received).toHaveLength(1);
    });
  });
}
