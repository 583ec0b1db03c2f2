/**
 * Embedding: the bridge mounted in hosts it does not own, with the embedder's own ports.
 * - createRequestHandler in a plain node:http server (behind an Express-style path prefix) with a custom
 *   Authenticator and UsageSink;
 * - createBridgePlugin in a host fastify app under a prefix, next to the host's own routes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import nock from 'nock';
import { loadConfig } from '../../src/config/config';
import { closeAppContainer, createAppContainer } from '../../src/di/container';
import { AUTHENTICATOR, CLOCK, USAGE_SINK } from '../../src/di/tokens';
import { createBridgePlugin } from '../../src/http/plugin';
import { createRequestHandler } from '../../src/http/server';
import type { Clock } from '../../src/core/ports';
import type { Authenticator, UsageEvent, UsageSink } from '../../src/tasks/ports';
import { call, HUB, HUB_KEY, postJson } from './gateway-support';

const NANO = { model: 'NanoBanana2-0.5K', prompt: 'A small red cube', aspect_ratio: '1:1' };
const IMAGE = 'https://cdn.hub.example/outputs/e-0.png';

/** The embedder's auth: `Authorization: Token team-<n>`, owner = the team. */
class TeamTokenAuthenticator implements Authenticator {
  async authenticate(authorization: string | undefined) {
    const m = /^Token (team-\d+)$/.exec(authorization ?? '');
    return m ? { owner: m[1] as string, keyLabel: m[1] as string } : undefined;
  }
}

class RecordingSink implements UsageSink {
  readonly events: UsageEvent[] = [];
  async record(event: UsageEvent): Promise<void> {
    this.events.push(event);
  }
}

const fixedClock: Clock = { now: () => Date.UTC(2026, 0, 1) };

function hubScope(id: string): nock.Scope {
  return nock(HUB)
    .post('/hub/v1/tasks')
    .reply(201, { task_id: id, status: 'queued', ready: false })
    .get(`/hub/v1/tasks/${id}`)
    .reply(200, { task_id: id, status: 'succeeded', ready: true, output: { images: [{ url: IMAGE }] } });
}

const config = loadConfig({ PORT: '0', HUB_BASE_URL: HUB, HUB_API_KEY: HUB_KEY, LOG_LEVEL: 'silent' }, { requireGatewayKeys: false });

afterEach(() => nock.cleanAll());

it('createRequestHandler in node:http behind a path prefix, with a custom Authenticator, UsageSink and Clock', async () => {
  const sink = new RecordingSink();
  const container = createAppContainer(config, {
    processMetrics: false,
    register: (c) => {
      c.register(AUTHENTICATOR, { useValue: new TeamTokenAuthenticator() });
      c.register(USAGE_SINK, { useValue: sink });
      c.register(CLOCK, { useValue: fixedClock });
    },
  });
  const bridge = createRequestHandler(container);
  // What Express's app.use('/images', bridge) does: strip the mount path, pass everything else on.
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/images/')) {
      req.url = req.url.slice('/images'.length);
      bridge(req, res);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('host route');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const scope = hubScope('emb-1');
    expect((await postJson(`${base}/images/v1/images/tasks`, NANO, { authorization: 'Bearer whatever' })).status).toBe(401);
    const created = await postJson(`${base}/images/v1/images/tasks`, NANO, { authorization: 'Token team-42' });
    expect(created.status).toBe(201);
    const id = (created.body as { task_id: string }).task_id;
    const done = await call(`${base}/images/v1/images/tasks/${id}`, { headers: { authorization: 'Token team-42' } });
    expect((done.body as { data: { status: string } }).data.status).toBe('succeeded');
    expect((await call(`${base}/images/v1/images/tasks/${id}`, { headers: { authorization: 'Token team-7' } })).status).toBe(404);
    expect((await call(`${base}/elsewhere`)).text).toBe('host route');
    scope.done();
    expect(sink.events).toStrictEqual([
      {
        task_id: id,
        owner: 'team-42',
        model: 'NanoBanana2-0.5K',
        requested_n: 1,
        result_count: 1,
        status: 'succeeded',
        cost: sink.events[0]?.cost,
        currency: sink.events[0]?.currency,
        channel: 'hub',
      },
    ]);
    expect(typeof sink.events[0]?.cost).toBe('number');
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await bridge.close();
    await closeAppContainer(container);
  }
});

it('createBridgePlugin in a host fastify app under a prefix leaves the host routes and error handling alone', async () => {
  const container = createAppContainer(config, {
    processMetrics: false,
    register: (c) => c.register(AUTHENTICATOR, { useValue: new TeamTokenAuthenticator() }),
  });
  const host = Fastify();
  host.get('/host', async () => ({ host: true }));
  await host.register(createBridgePlugin(container), { prefix: '/bridge' });
  await host.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(host.server.address() as AddressInfo).port}`;
  try {
    const scope = hubScope('emb-2');
    const created = await postJson(`${base}/bridge/v1/images/tasks`, NANO, { authorization: 'Token team-1' });
    expect(created.status).toBe(201);
    const id = (created.body as { task_id: string }).task_id;
    expect(created.headers.get('location')).toBe(`/bridge/v1/images/tasks/${id}`);
    const done = await call(`${base}/bridge/v1/images/tasks/${id}`, { headers: { authorization: 'Token team-1' } });
    expect((done.body as { data: { result_url: string } }).data.result_url).toBe(IMAGE);
    scope.done();
    const unknown = await call(`${base}/bridge/nope`);
    expect(unknown.status).toBe(404);
    expect((unknown.body as { code: string }).code).toBe('route_not_found');
    expect((await call(`${base}/host`)).body).toStrictEqual({ host: true });
    // The host's own 404 is fastify's, not the bridge envelope.
    const hostMissing = await call(`${base}/missing`);
    expect(hostMissing.status).toBe(404);
    expect((hostMissing.body as { code?: string }).code).toBeUndefined();
    // The host's text/plain parser is untouched by the bridge.
    expect(host.hasContentTypeParser('text/plain')).toBe(true);
  } finally {
    await host.close();
    await closeAppContainer(container);
  }
});
