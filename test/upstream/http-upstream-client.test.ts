import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { container } from 'tsyringe';
import type { Channel } from '../../src/routing/channels';
import type { ImageAdapter, UpstreamRequest } from '../../src/adapter-kit/contract';
import { CLOCK, LOGGER, METRICS, RANDOM, UPSTREAM_CLIENT_OPTIONS } from '../../src/di/tokens';
import { UpstreamError } from '../../src/platform/errors';
import type { Logger, Metrics } from '../../src/core/ports';
import { cryptoRandom } from '../../src/core/system';
import { HttpUpstreamClient, parseRetryAfter, type UpstreamClientOptions } from '../../src/upstream/http-upstream-client';
import { bearerAdapter } from '../support/mini-adapter';

const KEY = 'sk-hubkey-0123456789abcdefSECRET';
const BASE = 'https://hub.test';
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);

const channel: Channel = { id: 'hub', adapterId: 'hub', baseUrl: BASE, apiKey: KEY, priority: 0, weight: 1 };

const adapter: ImageAdapter = bearerAdapter;

const SUBMIT: UpstreamRequest = { method: 'POST', path: '/hub/v1/tasks', body: { model: 'nano-banana', input: { prompt: 'a cat', num_images: 1 } } };
const POLL: UpstreamRequest = { method: 'GET', path: '/hub/v1/tasks/t-1' };

interface Harness {
  client: HttpUpstreamClient;
  sleeps: number[];
  logs: string[];
  calls: Array<[string, string, string]>;
}

function harness(options: UpstreamClientOptions = {}, onSleep?: (ms: number) => Promise<void>): Harness {
  const sleeps: number[] = [];
  const logs: string[] = [];
  const calls: Array<[string, string, string]> = [];
  const logger: Logger = {
    debug: (obj, msg) => logs.push(`debug ${JSON.stringify(obj)} ${msg ?? ''}`),
    info: (obj, msg) => logs.push(`info ${JSON.stringify(obj)} ${msg ?? ''}`),
    warn: (obj, msg) => logs.push(`warn ${JSON.stringify(obj)} ${msg ?? ''}`),
    error: (obj, msg) => logs.push(`error ${JSON.stringify(obj)} ${msg ?? ''}`),
    child: () => logger,
  };
  const metrics: Metrics = {
    upstreamCall: (ch, op, outcome, seconds) => {
      expect(seconds).toBeGreaterThanOrEqual(0);
      calls.push([ch, op, outcome]);
    },
    taskTerminal: () => undefined,
    settlement: () => undefined,
  };
  const client = new HttpUpstreamClient(
    { now: () => NOW },
    { bytes: (n) => Buffer.alloc(n), float: () => 0.5 },
    logger,
    metrics,
    {
      ...options,
      sleep: async (ms) => {
        sleeps.push(ms);
        await onSleep?.(ms);
      },
    },
  );
  return { client, sleeps, logs, calls };
}

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (err) {
    return err as UpstreamError;
  }
  throw new Error('expected the call to fail');
}

/** The observable shape of an UpstreamError. */
function shape(err: UpstreamError): Record<string, unknown> {
  return { name: err.name, kind: err.kind, code: err.code, httpStatus: err.httpStatus, upstreamStatus: err.upstreamStatus, retryAfterSeconds: err.retryAfterSeconds, message: err.message };
}

/** Asserts the whole shape of an UpstreamError the upstream never answered (no status, no Retry-After). */
function expectUpstreamError(err: UpstreamError, kind: string, code: string, httpStatus: number, message: string): void {
  expect(shape(err)).toStrictEqual({ name: 'UpstreamError', kind, code, httpStatus, upstreamStatus: undefined, retryAfterSeconds: undefined, message });
}

let unmatched = 0;
const countUnmatched = (): void => {
  unmatched += 1;
};
let h: Harness;

beforeEach(() => {
  unmatched = 0;
  nock.emitter.on('no match', countUnmatched);
  h = harness();
});

afterEach(async () => {
  nock.emitter.removeListener('no match', countUnmatched);
  nock.cleanAll();
  await h.client.close();
});

describe('HttpUpstreamClient: success', () => {
  it('sends the exact JSON body with auth, JSON and User-Agent headers and returns the parsed response', async () => {
    let sent: unknown;
    const scope = nock(BASE)
      .matchHeader('authorization', `Bearer ${KEY}`)
      .matchHeader('content-type', 'application/json')
      .matchHeader('accept', 'application/json')
      .matchHeader('user-agent', 'image-task-bridge/0.1')
      .post('/hub/v1/tasks', (body: unknown) => {
        sent = body;
        return true;
      })
      .reply(201, { task_id: 't-1', status: 'queued', ready: false });

    const res = await h.client.send(channel, adapter, SUBMIT, 'submit');

    expect(res).toStrictEqual({ status: 201, body: { task_id: 't-1', status: 'queued', ready: false } });
    expect(sent).toStrictEqual({ model: 'nano-banana', input: { prompt: 'a cat', num_images: 1 } });
    expect(h.calls).toStrictEqual([['hub', 'submit', 'ok']]);
    expect(h.sleeps).toStrictEqual([]);
    scope.done();
  });

  it('joins relative paths below a base URL with a path prefix, and sends no Content-Type without a body', async () => {
    const prefixed: Channel = { ...channel, id: 'hub-eu', baseUrl: 'https://hub.test/api/' };
    const scope = nock(BASE, { badheaders: ['content-type'] }).get('/api/hub/v1/tasks/t-1').reply(200, { status: 'running', ready: false });

    const res = await h.client.send(prefixed, adapter, POLL, 'poll');

    expect(res).toStrictEqual({ status: 200, body: { status: 'running', ready: false } });
    scope.done();
  });

  it('allows an absolute URL on the channel origin', async () => {
    const scope = nock(BASE).get('/results/r-9').reply(200, { ok: true });
    const res = await h.client.send(channel, adapter, { method: 'GET', path: 'https://hub.test/results/r-9' }, 'poll');
    expect(res).toStrictEqual({ status: 200, body: { ok: true } });
    scope.done();
  });

  it('returns a non-2xx response whose status the request accepts', async () => {
    const scope = nock(BASE).get('/hub/v1/tasks/t-1').reply(400, { detail: 'the job failed' });
    const res = await h.client.send(channel, adapter, { ...POLL, acceptStatuses: [400] }, 'poll');
    expect(res).toStrictEqual({ status: 400, body: { detail: 'the job failed' } });
    scope.done();
  });

  it('returns an undefined body for 204', async () => {
    const scope = nock(BASE).delete('/hub/v1/tasks/t-1').reply(204);
    const res = await h.client.send(channel, adapter, { method: 'DELETE', path: '/hub/v1/tasks/t-1' }, 'poll');
    expect(res).toStrictEqual({ status: 204, body: undefined });
    scope.done();
  });

  it('creates one keep-alive pool per channel, once, and reuses it', async () => {
    // Each pool has one http.Agent (and one https.Agent, whose constructor this spy does not see).
    const create = jest.spyOn(http, 'Agent');
    try {
      const scope = nock(BASE).get('/hub/v1/tasks/t-1').times(3).reply(200, {});
      await h.client.send(channel, adapter, POLL, 'poll');
      await h.client.send(channel, adapter, POLL, 'poll');
      await h.client.send({ ...channel, id: 'hub-2' }, adapter, POLL, 'poll');
      expect(create).toHaveBeenCalledTimes(2);
      scope.done();
    } finally {
      create.mockRestore();
    }
  });
});

describe('HttpUpstreamClient: failure classification', () => {
  const cases: Array<{ name: string; reply: (s: nock.Interceptor) => nock.Scope; expected: Record<string, unknown> }> = [
    {
      name: '500 -> server_error',
      reply: (i) => i.reply(500, { error: { message: 'model backend crashed' } }),
      expected: { kind: 'server_error', code: 'upstream_error', httpStatus: 502, upstreamStatus: 500, retryAfterSeconds: undefined, message: 'upstream hub failed with HTTP 500: model backend crashed.' },
    },
    {
      name: '401 -> auth',
      reply: (i) => i.reply(401, { error: { message: 'invalid api key' } }),
      expected: {
        kind: 'auth',
        code: 'upstream_error',
        httpStatus: 502,
        upstreamStatus: 401,
        retryAfterSeconds: undefined,
        message: "upstream hub refused the channel's credentials (HTTP 401): invalid api key. Check the API key configured for channel hub.",
      },
    },
    {
      name: '403 -> auth (no body)',
      reply: (i) => i.reply(403),
      expected: {
        kind: 'auth',
        code: 'upstream_error',
        httpStatus: 502,
        upstreamStatus: 403,
        retryAfterSeconds: undefined,
        message: "upstream hub refused the channel's credentials (HTTP 403). Check the API key configured for channel hub.",
      },
    },
    {
      name: '404 -> not_found',
      reply: (i) => i.reply(404, { error: { message: 'no such task' } }),
      expected: { kind: 'not_found', code: 'upstream_error', httpStatus: 502, upstreamStatus: 404, retryAfterSeconds: undefined, message: 'upstream hub answered HTTP 404 for POST /hub/v1/tasks: no such task.' },
    },
    {
      name: '422 -> rejected, with the text the adapter reads from the body',
      reply: (i) => i.reply(422, { error: { message: 'num_images must be at most 4' } }),
      expected: { kind: 'rejected', code: 'upstream_rejected', httpStatus: 400, upstreamStatus: 422, retryAfterSeconds: undefined, message: 'upstream hub rejected the request (HTTP 422): num_images must be at most 4.' },
    },
    {
      name: '400 with a plain-text body -> rejected, quoting the text',
      reply: (i) => i.reply(400, 'prompt\n  violates policy', { 'Content-Type': 'text/plain' }),
      expected: { kind: 'rejected', code: 'upstream_rejected', httpStatus: 400, upstreamStatus: 400, retryAfterSeconds: undefined, message: 'upstream hub rejected the request (HTTP 400): prompt violates policy.' },
    },
    {
      name: '429 with Retry-After seconds -> rate_limited',
      reply: (i) => i.reply(429, { error: { message: 'slow down' } }, { 'Retry-After': '7' }),
      expected: { kind: 'rate_limited', code: 'upstream_unavailable', httpStatus: 503, upstreamStatus: 429, retryAfterSeconds: 7, message: 'upstream hub is rate limiting requests (HTTP 429): slow down. It asked to wait 7 s.' },
    },
    {
      name: '429 with an HTTP-date Retry-After -> rate_limited, seconds from the injected clock',
      reply: (i) => i.reply(429, '', { 'Retry-After': new Date(NOW + 3000).toUTCString() }),
      expected: { kind: 'rate_limited', code: 'upstream_unavailable', httpStatus: 503, upstreamStatus: 429, retryAfterSeconds: 3, message: 'upstream hub is rate limiting requests (HTTP 429). It asked to wait 3 s.' },
    },
    {
      name: '200 with a body that is not JSON -> malformed',
      reply: (i) => i.reply(200, '<html>gateway</html>'),
      expected: { kind: 'malformed', code: 'upstream_error', httpStatus: 502, upstreamStatus: 200, retryAfterSeconds: undefined, message: 'upstream hub answered HTTP 200 with a body that is not JSON: "<html>gateway</html>".' },
    },
    {
      name: '200 with an empty body -> malformed',
      reply: (i) => i.reply(200, ''),
      expected: { kind: 'malformed', code: 'upstream_error', httpStatus: 502, upstreamStatus: 200, retryAfterSeconds: undefined, message: 'upstream hub answered HTTP 200 with an empty body; a JSON body was expected.' },
    },
    {
      name: '302 -> redirect, location without its query',
      reply: (i) => i.reply(302, '', { Location: 'https://cdn.test/login?token=abc' }),
      expected: {
        kind: 'redirect',
        code: 'upstream_error',
        httpStatus: 502,
        upstreamStatus: 302,
        retryAfterSeconds: undefined,
        message: 'upstream hub answered HTTP 302 (a redirect to https://cdn.test/login); redirects are not followed.',
      },
    },
    {
      name: 'connection reset -> network',
      reply: (i) => i.replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })),
      expected: { kind: 'network', code: 'upstream_unavailable', httpStatus: 503, upstreamStatus: undefined, retryAfterSeconds: undefined, message: 'upstream hub: the connection failed (ECONNRESET).' },
    },
    {
      name: 'DNS failure -> network',
      reply: (i) => i.replyWithError(Object.assign(new Error('getaddrinfo ENOTFOUND hub.test'), { code: 'ENOTFOUND' })),
      expected: { kind: 'network', code: 'upstream_unavailable', httpStatus: 503, upstreamStatus: undefined, retryAfterSeconds: undefined, message: 'upstream hub: the connection failed (ENOTFOUND).' },
    },
    {
      name: 'ETIMEDOUT -> timeout',
      reply: (i) => i.replyWithError(Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' })),
      expected: { kind: 'timeout', code: 'upstream_timeout', httpStatus: 504, upstreamStatus: undefined, retryAfterSeconds: undefined, message: 'upstream hub did not answer within 30000 ms.' },
    },
  ];

  it.each(cases)('submit: $name (one call, no retry)', async ({ reply, expected }) => {
    const scope = reply(nock(BASE).post('/hub/v1/tasks'));
    const err = await failure(h.client.send(channel, adapter, SUBMIT, 'submit'));
    expect(shape(err)).toStrictEqual({ name: 'UpstreamError', ...expected });
    expect(h.calls).toStrictEqual([['hub', 'submit', expected.kind]]);
    expect(h.sleeps).toStrictEqual([]);
    expect(unmatched).toBe(0);
    scope.done();
  });

  it('a whole-attempt timeout -> timeout, and a submit is not retried', async () => {
    const t = harness({ submitTimeoutMs: 50 });
    try {
      const scope = nock(BASE).post('/hub/v1/tasks').delay(1_000).reply(201, { task_id: 't-1' });
      const err = await failure(t.client.send(channel, adapter, SUBMIT, 'submit'));
      expectUpstreamError(err, 'timeout', 'upstream_timeout', 504, 'upstream hub did not answer within 50 ms.');
      expect(t.calls).toStrictEqual([['hub', 'submit', 'timeout']]);
      expect(t.sleeps).toStrictEqual([]);
      expect(unmatched).toBe(0);
      scope.done();
    } finally {
      await t.client.close();
    }
  });

  it('a response larger than the limit -> too_large', async () => {
    const t = harness({ maxResponseBytes: 1024 });
    try {
      const scope = nock(BASE).get('/hub/v1/tasks/t-1').reply(200, JSON.stringify({ pad: 'x'.repeat(4096) }));
      const err = await failure(t.client.send(channel, adapter, POLL, 'poll'));
      expectUpstreamError(err, 'too_large', 'upstream_error', 502, 'upstream hub sent a response larger than 1024 bytes; it was not read.');
      scope.done();
    } finally {
      await t.client.close();
    }
  });

  it('does not follow a redirect', async () => {
    const scope = nock(BASE).post('/hub/v1/tasks').reply(307, '', { Location: 'https://hub.test/v2/tasks' });
    const target = nock(BASE).post('/v2/tasks').reply(201, { task_id: 't-1' });
    const err = await failure(h.client.send(channel, adapter, SUBMIT, 'submit'));
    expect(err.kind).toBe('redirect');
    expect(target.pendingMocks()).toStrictEqual(['POST https://hub.test:443/v2/tasks']);
    scope.done();
  });

  it('refuses an absolute URL on another origin before sending anything', async () => {
    const foreign = nock('https://evil.test').get('/steal').reply(200, {});
    const err = await failure(h.client.send(channel, adapter, { method: 'GET', path: 'https://evil.test/steal?x=1' }, 'poll'));
    expectUpstreamError(err, 'malformed', 'upstream_error', 502, "upstream hub: refused to send a request to https://evil.test, which is not the channel's origin https://hub.test; the channel key is only sent to its own origin.");
    expect(foreign.pendingMocks()).toStrictEqual(['GET https://evil.test:443/steal']);
    expect(h.calls).toStrictEqual([]);
  });

  it('refuses a protocol-relative URL to another host and an http downgrade of the same host', async () => {
    const a = await failure(h.client.send(channel, adapter, { method: 'GET', path: '//evil.test/x' }, 'poll'));
    const b = await failure(h.client.send(channel, adapter, { method: 'GET', path: 'http://hub.test/x' }, 'poll'));
    expect([a.kind, b.kind]).toStrictEqual(['malformed', 'malformed']);
    expect(b.message).toContain('refused to send a request to http://hub.test,');
  });

  it('refuses a request body above the request limit with payload_too_large and sends nothing', async () => {
    const t = harness({ maxRequestBytes: 100 });
    try {
      const err = await failure(t.client.send(channel, adapter, { method: 'POST', path: '/hub/v1/tasks', body: { prompt: 'x'.repeat(200) } }, 'submit'));
      expect({ code: err.code, httpStatus: err.httpStatus, message: err.message }).toStrictEqual({
        code: 'payload_too_large',
        httpStatus: 413,
        message: 'The request to upstream hub would be 213 bytes; at most 100 bytes are sent. Send fewer or smaller reference images.',
      });
      expect(t.calls).toStrictEqual([]);
    } finally {
      await t.client.close();
    }
  });
});

describe('HttpUpstreamClient: retries', () => {
  it('retries a poll on 503 and succeeds on the second call, after a full-jitter backoff', async () => {
    const scope = nock(BASE).get('/hub/v1/tasks/t-1').reply(503, { error: { message: 'busy' } }).get('/hub/v1/tasks/t-1').reply(200, { status: 'running', ready: false });

    const res = await h.client.send(channel, adapter, POLL, 'poll');

    expect(res).toStrictEqual({ status: 200, body: { status: 'running', ready: false } });
    // random 0.5 x min(cap 2000, base 100 x 2^0)
    expect(h.sleeps).toStrictEqual([50]);
    expect(h.calls).toStrictEqual([
      ['hub', 'poll', 'server_error'],
      ['hub', 'poll', 'ok'],
    ]);
    expect(unmatched).toBe(0);
    scope.done();
  });

  it('gives up a poll after 3 attempts with growing backoff', async () => {
    const scope = nock(BASE).get('/hub/v1/tasks/t-1').times(3).replyWithError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    const err = await failure(h.client.send(channel, adapter, POLL, 'poll'));
    expect(err.kind).toBe('network');
    expect(h.sleeps).toStrictEqual([50, 100]);
    expect(h.calls.map((c) => c[2])).toStrictEqual(['network', 'network', 'network']);
    expect(unmatched).toBe(0);
    scope.done();
  });

  it('honours a 429 Retry-After on a poll', async () => {
    const scope = nock(BASE).get('/hub/v1/tasks/t-1').reply(429, '', { 'Retry-After': '2' }).get('/hub/v1/tasks/t-1').reply(200, { ready: true });
    const res = await h.client.send(channel, adapter, POLL, 'poll');
    expect(res).toStrictEqual({ status: 200, body: { ready: true } });
    expect(h.sleeps).toStrictEqual([2000]);
    scope.done();
  });

  it('gives up at once when Retry-After is longer than the cap', async () => {
    const scope = nock(BASE).get('/hub/v1/tasks/t-1').reply(429, '', { 'Retry-After': '60' });
    const err = await failure(h.client.send(channel, adapter, POLL, 'poll'));
    expect([err.kind, err.retryAfterSeconds]).toStrictEqual(['rate_limited', 60]);
    expect(h.sleeps).toStrictEqual([]);
    expect(unmatched).toBe(0);
    scope.done();
  });

  it('does not retry a poll on a non-retryable failure (422)', async () => {
    const scope = nock(BASE).get('/hub/v1/tasks/t-1').reply(422, {});
    const err = await failure(h.client.send(channel, adapter, POLL, 'poll'));
    expect(err.kind).toBe('rejected');
    expect(h.sleeps).toStrictEqual([]);
    expect(unmatched).toBe(0);
    scope.done();
  });

  it('respects a configured attempt count', async () => {
    const t = harness({ retry: { maxAttempts: 1 } });
    try {
      const scope = nock(BASE).get('/hub/v1/tasks/t-1').reply(503, {});
      const err = await failure(t.client.send(channel, adapter, POLL, 'poll'));
      expect(err.kind).toBe('server_error');
      expect(t.sleeps).toStrictEqual([]);
      expect(unmatched).toBe(0);
      scope.done();
    } finally {
      await t.client.close();
    }
  });
});

describe('HttpUpstreamClient: real sockets on loopback', () => {
  async function closedPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  it('retries a submit whose connection was refused, and gives up with connection_refused', async () => {
    const port = await closedPort();
    const local: Channel = { ...channel, id: 'local', baseUrl: `http://127.0.0.1:${port}` };
    const err = await failure(h.client.send(local, adapter, SUBMIT, 'submit'));
    expectUpstreamError(err, 'connection_refused', 'upstream_unavailable', 503, 'upstream local refused the connection; the request was not sent.');
    expect(h.sleeps).toStrictEqual([50, 100]);
    expect(h.calls).toStrictEqual([
      ['local', 'submit', 'connection_refused'],
      ['local', 'submit', 'connection_refused'],
      ['local', 'submit', 'connection_refused'],
    ]);
  });

  it('a refused submit succeeds once the upstream is listening again', async () => {
    const port = await closedPort();
    const bodies: unknown[] = [];
    const server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        bodies.push(JSON.parse(raw));
        res.writeHead(201, { 'Content-Type': 'application/json' }).end(JSON.stringify({ task_id: 't-7' }));
      });
    });
    // The "sleep" between attempts is when the upstream comes back.
    const t = harness({}, async () => {
      if (!server.listening) await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    });
    try {
      const local: Channel = { ...channel, id: 'local', baseUrl: `http://127.0.0.1:${port}` };
      const res = await t.client.send(local, adapter, SUBMIT, 'submit');
      expect(res).toStrictEqual({ status: 201, body: { task_id: 't-7' } });
      expect(bodies).toStrictEqual([SUBMIT.body]);
      expect(t.calls.map((c) => c[2])).toStrictEqual(['connection_refused', 'ok']);
    } finally {
      await t.client.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('keeps connections alive between calls and close() destroys them', async () => {
    // nock's interceptor opens a fresh socket per request, so socket reuse is observable only with it off.
    nock.restore();
    const serverSockets: Array<Promise<void>> = [];
    const server = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}'));
    server.on('connection', (socket: net.Socket) => serverSockets.push(new Promise<void>((resolve) => socket.on('close', () => resolve()))));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const local: Channel = { ...channel, id: 'local', baseUrl: `http://127.0.0.1:${port}` };
      await h.client.send(local, adapter, POLL, 'poll');
      await h.client.send(local, adapter, POLL, 'poll');
      await h.client.send(local, adapter, POLL, 'poll');
      expect(serverSockets).toHaveLength(1);
      await h.client.close();
      // Resolves only if close() destroyed the pooled socket (the server keeps idle sockets open for 5 s).
      await Promise.all(serverSockets);
    } finally {
      nock.activate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(nock.isActive()).toBe(true);
  });

  it('times out a connection whose TLS handshake never completes', async () => {
    const sockets: net.Socket[] = [];
    // Accepts TCP and never answers: the TLS handshake hangs.
    const server = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const t = harness({ connectTimeoutMs: 50 });
    try {
      const local: Channel = { ...channel, id: 'tls', baseUrl: `https://127.0.0.1:${port}` };
      const err = await failure(t.client.send(local, adapter, SUBMIT, 'submit'));
      expectUpstreamError(err, 'timeout', 'upstream_timeout', 504, 'upstream tls did not accept a connection within 50 ms.');
    } finally {
      await t.client.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('HttpUpstreamClient: secrets', () => {
  it("sends the channel key in the adapter's auth header only: never in the URL, the body or another header", async () => {
    const seen: Array<{ path: string; body: string; headers: Record<string, string | string[]> }> = [];
    const scope = nock(BASE)
      .post('/hub/v1/tasks')
      .reply(function (path, body) {
        seen.push({ path, body: JSON.stringify(body), headers: { ...this.req.headers } });
        return [200, { task_id: 't-1' }];
      })
      .get('/hub/v1/tasks/t-1')
      .reply(function (path) {
        seen.push({ path, body: '', headers: { ...this.req.headers } });
        return [200, { ready: false }];
      });
    await h.client.send(channel, adapter, SUBMIT, 'submit');
    await h.client.send(channel, adapter, POLL, 'poll');
    scope.done();
    expect(seen).toHaveLength(2);
    for (const req of seen) {
      expect(req.path).not.toContain(KEY);
      expect(req.body).not.toContain(KEY);
      const carrying = Object.entries(req.headers).filter(([, v]) => String(v).includes(KEY));
      expect(carrying).toStrictEqual([['authorization', `Bearer ${KEY}`]]);
    }
  });

  it('never puts the channel key or credentials into an error message or a log line', async () => {
    const echo = `Authorization: Bearer ${KEY}; api_key=${KEY}; token abcdefABCDEF0123456789`;
    const scope = nock(BASE)
      .get('/hub/v1/tasks/t-1')
      .reply(401, { error: { message: `invalid key ${KEY}` } })
      .get('/hub/v1/tasks/t-2')
      .reply(500, echo)
      .get('/hub/v1/tasks/t-2')
      .reply(502, { error: { message: `upstream said ${encodeURIComponent(KEY)}` } })
      .get('/hub/v1/tasks/t-2')
      .reply(503, `<pre>${echo}</pre>`)
      .get('/hub/v1/tasks/t-3')
      .reply(200, `not json ${KEY}`)
      .get('/hub/v1/tasks/t-4')
      .reply(422, { error: { message: `bad request with header x-api-key: ${KEY}` } });
    const messages: string[] = [];
    for (const id of ['t-1', 't-2', 't-3', 't-4']) {
      messages.push((await failure(h.client.send(channel, adapter, { method: 'GET', path: `/hub/v1/tasks/${id}` }, 'poll'))).message);
    }
    scope.done();
    const everything = [...messages, ...h.logs].join('\n');
    expect(everything).not.toContain(KEY);
    expect(everything).not.toContain(encodeURIComponent(KEY));
    expect(everything).not.toContain('abcdefABCDEF0123456789');
    expect(everything).not.toMatch(/authorization"?\s*:\s*"?bearer\s+[^[]/i);
    expect(messages).toStrictEqual([
      "upstream hub refused the channel's credentials (HTTP 401): invalid key [redacted]. Check the API key configured for channel hub.",
      'upstream hub failed with HTTP 503: <pre>Authorization: Bearer [redacted]; api_key=[redacted]; token [redacted]</pre>.',
      'upstream hub answered HTTP 200 with a body that is not JSON: "not json [redacted]".',
      'upstream hub rejected the request (HTTP 422): bad request with header x-api-key: [redacted].',
    ]);
    // One line per failed attempt: 3 for the retried t-2, one each for the others.
    expect(h.logs).toHaveLength(6);
    expect(h.logs[1]).toBe(
      'debug {"channel":"hub","operation":"poll","kind":"server_error","status":500,"attempt":1,"maxAttempts":3,"retryInMs":50} upstream hub failed with HTTP 500: Authorization: Bearer [redacted]; api_key=[redacted]; token [redacted].',
    );
  });
});

describe('HttpUpstreamClient: injection and helpers', () => {
  it('resolves from a container with only the ports it needs (metrics and options optional)', async () => {
    const c = container.createChildContainer();
    c.register(CLOCK, { useValue: { now: () => NOW } });
    c.register(RANDOM, { useValue: { bytes: (n: number) => Buffer.alloc(n), float: () => 0 } });
    c.register(LOGGER, { useValue: { debug() {}, info() {}, warn() {}, error() {}, child() { return this; } } });
    const client = c.resolve(HttpUpstreamClient);
    const scope = nock(BASE).get('/hub/v1/tasks/t-1').reply(200, {});
    await expect(client.send(channel, adapter, POLL, 'poll')).resolves.toStrictEqual({ status: 200, body: {} });
    await client.close();
    scope.done();
    const withOptions = c.createChildContainer();
    withOptions.register(METRICS, { useValue: { upstreamCall: jest.fn(), taskTerminal: jest.fn(), settlement: jest.fn() } });
    withOptions.register(UPSTREAM_CLIENT_OPTIONS, { useValue: { retry: { maxAttempts: 0 } } });
    expect(() => withOptions.resolve(HttpUpstreamClient)).toThrow('Upstream retry maxAttempts must be at least 1 (got 0).');
  });

  it('draws its default backoff jitter from the CSPRNG-backed Random (src/core/system.ts), not Math.random', async () => {
    const csprng = jest.spyOn(cryptoRandom, 'float');
    const sleeps: number[] = [];
    const client = new HttpUpstreamClient(undefined, undefined, undefined, undefined, { sleep: async (ms) => void sleeps.push(ms) });
    try {
      const scope = nock(BASE).get('/hub/v1/tasks/t-1').reply(503, {}).get('/hub/v1/tasks/t-1').reply(200, {});
      await expect(client.send(channel, adapter, POLL, 'poll')).resolves.toStrictEqual({ status: 200, body: {} });
      scope.done();
      expect(sleeps).toHaveLength(1);
      expect(csprng).toHaveBeenCalledTimes(1);
    } finally {
      csprng.mockRestore();
      await client.close();
    }
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('12', NOW)).toBe(12);
    expect(parseRetryAfter(new Date(NOW + 1500).toUTCString(), NOW)).toBe(1);
    expect(parseRetryAfter(new Date(NOW - 5000).toUTCString(), NOW)).toBe(0);
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
  });
});
