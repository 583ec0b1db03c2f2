import { addressRefusal, guardedLookup, literalRefusal } from '../../src/security/address-guard';
import { DEFAULT_WEBHOOK_RETRY_POLICY, retryDelays } from '../../src/webhooks/retry-schedule';
import { WebhookSender } from '../../src/webhooks/webhook-sender';
import { webhookIdFor, webhookSecretProblem, WebhookSigner } from '../../src/webhooks/webhook-signer';
import { WebhookReceiver } from '../support/webhook-receiver';
import { TEST_SECRET } from './task-notifier.suite';

describe('WebhookSender: one attempt', () => {
  const closers: Array<() => unknown> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  async function serve(responder: ConstructorParameters<typeof WebhookReceiver>[0]): Promise<WebhookReceiver> {
    const r = new WebhookReceiver(responder);
    closers.push(() => r.close());
    await r.listen();
    return r;
  }

  function sender(options: Partial<ConstructorParameters<typeof WebhookSender>[0]> = {}): WebhookSender {
    const s = new WebhookSender({ allowHosts: ['127.0.0.1'], ...options });
    closers.push(() => s.close());
    return s;
  }

  test('a receiver that never answers is a timeout', async () => {
    const r = await serve(() => undefined);
    const outcome = await sender({ timeoutMs: 150 }).send(`http://127.0.0.1:${r.port}/`, {}, '{}');
    expect(outcome).toStrictEqual({ ok: false, reason: 'timeout', retryable: true, detail: 'no complete answer within 150 ms' });
  });

  test('an endless answer is cut at the read bound: a 2xx still counts as delivered, anything else fails', async () => {
    const endless = (status: number) => (_i: number, _q: unknown, s: import('node:http').ServerResponse) => {
      s.writeHead(status);
      const chunk = Buffer.alloc(16 * 1024, 120);
      const timer = setInterval(() => s.write(chunk), 1);
      s.on('close', () => clearInterval(timer));
    };
    const ok = await serve(endless(200));
    expect(await sender({ maxResponseBytes: 64 * 1024, timeoutMs: 5000 }).send(`http://127.0.0.1:${ok.port}/`, {}, '{}')).toStrictEqual({ ok: true, status: 200 });
    const bad = await serve(endless(500));
    expect(await sender({ maxResponseBytes: 64 * 1024, timeoutMs: 5000 }).send(`http://127.0.0.1:${bad.port}/`, {}, '{}')).toMatchObject({ ok: false, reason: 'response_too_large', status: 500 });
  });

  test('sends the body and the given headers as a JSON POST', async () => {
    const r = await serve((_i, _q, s) => s.writeHead(200).end());
    const outcome = await sender().send(`http://127.0.0.1:${r.port}/p?q=1`, { 'webhook-id': 'msg_x' }, '{"a":1}');
    expect(outcome).toStrictEqual({ ok: true, status: 200 });
    expect(r.received[0]).toMatchObject({ path: '/p?q=1', body: '{"a":1}', headers: { 'webhook-id': 'msg_x', 'content-type': 'application/json', 'content-length': '7' } });
  });

  test('a URL that is not http(s) is refused without a connection', async () => {
    expect(await sender().send('ftp://127.0.0.1/x', {}, '{}')).toMatchObject({ ok: false, reason: 'invalid_url', retryable: false });
  });
});

describe('address guard', () => {
  test.each([
    ['127.0.0.1', 'a loopback address'],
    ['10.1.2.3', 'a private address'],
    ['169.254.169.254', 'a link-local address (cloud metadata services live here)'],
    ['::1', 'a loopback address'],
    ['fe80::1', 'a link-local address'],
    ['fd00::1', 'a private (unique local) address'],
    ['::ffff:10.0.0.1', 'an IPv4-mapped IPv6 form of a private address'],
  ])('%s is refused: %s', (address, reason) => {
    expect(addressRefusal(address)).toBe(reason);
  });

  test('public addresses pass', () => {
    expect(addressRefusal('93.184.216.34')).toBeUndefined();
    expect(addressRefusal('2606:4700::1111')).toBeUndefined();
  });

  test('IP literals are judged by literalRefusal; allow-listed ones pass', () => {
    expect(literalRefusal('127.0.0.1', [])).toBe('127.0.0.1 is a loopback address');
    expect(literalRefusal('[::1]', [])).toBe('::1 is a loopback address');
    expect(literalRefusal('127.0.0.1', ['127.0.0.1'])).toBeUndefined();
    expect(literalRefusal('[::1]', ['[::1]'])).toBeUndefined();
    expect(literalRefusal('hooks.example.com', [])).toBeUndefined();
  });

  test('a name with one private answer among public ones is refused; the lookup answers in the form asked', async () => {
    const lookup = guardedLookup([], (_h, _o, cb) => cb(null, [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.7', family: 4 }]));
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => lookup('mixed.example.com', { all: true }, (e) => resolve(e)));
    expect(err?.code).toBe('EWEBHOOKADDRESS');
    expect(err?.message).toBe('mixed.example.com resolves to 10.0.0.7, a private address; webhooks are only delivered to public addresses');
    const ok = guardedLookup([], (_h, _o, cb) => cb(null, [{ address: '93.184.216.34', family: 4 }]));
    const single = await new Promise<unknown[]>((resolve) => ok('public.example.com', {}, (...args: unknown[]) => resolve(args)));
    expect(single).toStrictEqual([null, '93.184.216.34', 4]);
    const all = await new Promise<unknown[]>((resolve) => ok('public.example.com', { all: true }, (...args: unknown[]) => resolve(args)));
    expect(all).toStrictEqual([null, [{ address: '93.184.216.34', family: 4 }]]);
  });
});

describe('retry schedule and signing', () => {
  test('exponential from the first delay, capped, within the total bound', () => {
    expect(retryDelays({ firstDelayMs: 1000, maxDelayMs: 4000, maxTotalMs: 20_000 })).toStrictEqual([1000, 2000, 4000, 4000, 4000, 4000]);
    expect(retryDelays({ firstDelayMs: 1000, maxDelayMs: 4000, maxTotalMs: 999 })).toStrictEqual([]);
    const defaults = retryDelays(DEFAULT_WEBHOOK_RETRY_POLICY);
    expect(defaults.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(DEFAULT_WEBHOOK_RETRY_POLICY.maxTotalMs);
    // 2 s doubling to 2,048 s (11 waits), then 1 h waits until 24 h: 33 waits, 34 attempts.
    expect(defaults.length + 1).toBe(34);
    expect(() => retryDelays({ firstDelayMs: 0, maxDelayMs: 1, maxTotalMs: 1 })).toThrow(RangeError);
  });

  test('the webhook id is stable per task and the secret format is checked without quoting it', () => {
    expect(webhookIdFor('task_abcDEF123')).toBe('msg_abcDEF123');
    expect(webhookSecretProblem(TEST_SECRET)).toBeUndefined();
    expect(webhookSecretProblem('supersecretvalue')).toBe('must be "whsec_" followed by base64 (e.g. from `openssl rand -base64 32`)');
    expect(webhookSecretProblem('whsec_c2hvcnQ=')).toBe('must carry 24 to 64 bytes of key after whsec_ (base64 of 32 random bytes is usual); it carries 5');
    expect(() => new WebhookSigner('whsec_c2hvcnQ=')).toThrow('WEBHOOK_SECRET must carry 24 to 64 bytes');
    const headers = new WebhookSigner(TEST_SECRET).headers('msg_1', 1_700_000_000_123, '{}');
    expect(headers['webhook-timestamp']).toBe('1700000000');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });
});
