/**
 * End to end over real sockets: a gateway in sandbox mode (the built-in sandbox hub, short timings) and a
 * receiver on loopback (allowed by WEBHOOK_ALLOW_HOSTS). The client submits with callback_url and never
 * queries: the engine finishes the task and the webhook arrives with the terminal task, signed. On the memory
 * store (in-process delivery) and on Redis (BullMQ delivery).
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Webhook } from 'standardwebhooks';
import { startBanner } from '../../src/cli/main';
import { loadConfig } from '../../src/config/config';
import { startGateway, type Gateway } from '../../src/http/gateway';
import { platformTaskSchema, queryEnvelopeSchema } from '../../src/platform/task';
import { deleteKeys, newRedis, redisOrSkip, REDIS_URL, uniquePrefix } from '../support/redis';
import { WebhookReceiver } from '../support/webhook-receiver';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

/** Collects pino's lines. */
function logSink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString('utf8'));
        done();
      },
    }),
    text: () => chunks.join(''),
  };
}

async function startSandbox(env: Record<string, string>, logs: Writable): Promise<Gateway> {
  return startGateway(loadConfig({ PORT: '0', LOG_LEVEL: 'info', POLL_INTERVAL_MS: '20', ...env }), {
    processMetrics: false,
    sandboxTiming: { queuedMs: 20, runningMs: 60 },
    logDestination: logs,
  });
}

function e2e(name: string, env: () => Record<string, string>, describeFn: jest.Describe = describe): void {
  describeFn(`webhooks end to end: ${name}`, () => {
    let gw: Gateway;
    let receiver: WebhookReceiver;
    let logs: ReturnType<typeof logSink>;

    beforeAll(async () => {
      receiver = new WebhookReceiver();
      await receiver.listen();
      logs = logSink();
      gw = await startSandbox({ WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOW_HOSTS: '127.0.0.1', ...env() }, logs.stream);
    });

    afterAll(async () => {
      await gw.close();
      await receiver.close();
    });

    test('submit with callback_url, never query: the signed webhook brings the terminal task', async () => {
      const key = gw.developmentKey as string;
      const callbackUrl = `http://127.0.0.1:${receiver.port}/hooks/tasks?token=tok-${randomBytes(4).toString('hex')}`;
      const submit = await fetch(`${gw.url}/v1/images/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'NanoBanana2-0.5K', prompt: 'A small red cube', aspect_ratio: '1:1', callback_url: callbackUrl }),
      });
      expect(submit.status).toBe(201);
      const created = platformTaskSchema.parse(await submit.json());

      await receiver.waitFor(1);
      const hook = receiver.received[0];
      const task = platformTaskSchema.parse(new Webhook(SECRET).verify(hook?.body ?? '', hook?.headers ?? {}));
      expect(task.task_id).toBe(created.task_id);
      expect(task.status).toBe('succeeded');
      expect(task.progress).toBe('100%');
      expect(task.result_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
      expect(hook?.headers['webhook-id']).toBe(`msg_${created.task_id.slice('task_'.length)}`);
      expect(hook?.path).toBe(new URL(callbackUrl).pathname + new URL(callbackUrl).search);

      // The webhook body is exactly what a query answers in `data`.
      const query = await fetch(`${gw.url}/v1/images/tasks/${created.task_id}`, { headers: { authorization: `Bearer ${key}` } });
      expect(queryEnvelopeSchema.parse(await query.json()).data).toStrictEqual(task);

      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      expect(metrics).toContain('bridge_webhook_deliveries_total{result="delivered"} 1');
      expect(logs.text()).toContain('"event":"webhook_delivered"');
      expect(logs.text()).not.toContain(SECRET.slice('whsec_'.length));
      expect(logs.text()).not.toContain(new URL(callbackUrl).searchParams.get('token') as string);
      expect(receiver.received).toHaveLength(1);
    });
  });
}

e2e('memory store', () => ({}));

const describeRedis = redisOrSkip();
const prefix = uniquePrefix('webhooks-e2e');
e2e('Redis store (BullMQ)', () => ({ TASK_STORE: 'redis', REDIS_URL, REDIS_KEY_PREFIX: prefix }), describeRedis);

describeRedis('Redis cleanup', () => {
  test('keys of the run are removed', async () => {
    const redis = newRedis();
    await deleteKeys(redis, prefix.replace(/:$/, ''));
    await redis.quit();
  });
});

describe('sandbox mode without WEBHOOK_SECRET', () => {
  test('a development secret is generated, printed in the banner and never logged', async () => {
    const logs = logSink();
    const gw = await startSandbox({}, logs.stream);
    try {
      const secret = gw.developmentWebhookSecret as string;
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(gw.config.webhooks.secret).toBe(secret);
      expect(startBanner(gw)).toContain(secret);
      expect(logs.text()).toContain('"webhooks":true');
      expect(logs.text()).not.toContain(secret.slice('whsec_'.length));
    } finally {
      await gw.close();
    }
  });
});
