/**
 * The bridge in a real Express 5 host on a real socket, mounted the way backend teams mount it
 * (docs/embedding.md): the mount path in Location, the host's later routes reachable, a global
 * express.json() in front (the body is reused, never waited for), probes/metrics moved or off, the warning
 * when no upstream is configured, and the sandbox hub run embedded as docs/embedding.md shows.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import nock from 'nock';
import { loadConfig } from '../../src/config/config';
import { closeAppContainer, createAppContainer } from '../../src/di/container';
import { LOGGER } from '../../src/di/tokens';
import { startSandboxHub } from '../../src/sandbox';
import { CapturingLogger } from '../support/capturing-logger';
import { createRequestHandler, type BridgeRequestHandler, type RequestHandlerOptions } from '../../src/http/server';
import type { DependencyContainer } from 'tsyringe';
import { auth, call, HUB, hubConfig, KEY_A, postJson } from './gateway-support';

const NANO = { model: 'NanoBanana', prompt: 'a red cube', aspect_ratio: '1:1' };
const HUB_BODY = { model: 'nano-banana', input: { prompt: 'a red cube', num_images: 1, output_format: 'png', aspect_ratio: '1:1' } };

interface Host {
  base: string;
  bridge: BridgeRequestHandler;
  close(): Promise<void>;
}

const open: Host[] = [];
let container: DependencyContainer;

beforeEach(() => {
  container = createAppContainer(hubConfig(), { processMetrics: false });
});

afterEach(async () => {
  for (const host of open.splice(0)) await host.close();
  await closeAppContainer(container);
  nock.cleanAll();
});

/** An Express app built by `setup`, listening on 127.0.0.1. */
async function host(setup: (app: express.Express, bridge: BridgeRequestHandler) => void, options: RequestHandlerOptions = {}): Promise<Host> {
  const bridge = createRequestHandler(container, options);
  const app = express();
  setup(app, bridge);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const h: Host = {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bridge,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await bridge.close();
    },
  };
  open.push(h);
  return h;
}

function hubAccepts(id: string): nock.Scope {
  return nock(HUB).post('/hub/v1/tasks', HUB_BODY).reply(201, { task_id: id, status: 'queued', ready: false });
}

it("app.use('/images', bridge): Location carries the mount path and the task is found there", async () => {
  const h = await host((app, bridge) => app.use('/images', bridge));
  const scope = hubAccepts('ex-1');
  const created = await postJson(`${h.base}/images/v1/images/tasks`, NANO, auth(KEY_A));
  expect(created.status).toBe(201);
  const id = (created.body as { task_id: string }).task_id;
  expect(created.headers.get('location')).toBe(`/images/v1/images/tasks/${id}`);
  scope.done();
  nock(HUB).get('/hub/v1/tasks/ex-1').reply(200, { task_id: 'ex-1', status: 'running', ready: false });
  const polled = await call(`${h.base}${created.headers.get('location') as string}`, { headers: auth(KEY_A) });
  expect(polled.status).toBe(200);
  expect((polled.body as { data: { task_id: string; status: string } }).data).toMatchObject({ task_id: id, status: 'processing' });
});

it('a root-mounted bridge passes paths it does not serve to the host routes declared after it', async () => {
  const h = await host((app, bridge) => {
    app.use(bridge);
    app.get('/account', (_req, res) => {
      res.json({ host: 'account' });
    });
  });
  const account = await call(`${h.base}/account`);
  expect(account.status).toBe(200);
  expect(account.body).toStrictEqual({ host: 'account' });
  // Its own paths stay its own: a wrong method is the bridge's 405, not the host's 404.
  const wrong = await call(`${h.base}/v1/images/tasks`, { method: 'PUT' });
  expect(wrong.status).toBe(405);
  expect(wrong.headers.get('allow')).toBe('POST');
  expect((wrong.body as { code: string }).code).toBe('method_not_allowed');
  // Nobody's path: the host's own 404 (Express's HTML page), not the bridge's envelope.
  const nobody = await call(`${h.base}/nowhere`);
  expect(nobody.status).toBe(404);
  expect(nobody.headers.get('content-type')).toMatch(/^text\/html/);
});

it('behind a global express.json(), a JSON submit is answered (the parsed body is reused) with the exact upstream body', async () => {
  const h = await host((app, bridge) => {
    app.use(express.json());
    app.use('/images', bridge);
  });
  const scope = hubAccepts('ex-2');
  const res = await fetch(`${h.base}/images/v1/images/tasks`, {
    method: 'POST',
    headers: { ...auth(KEY_A), 'content-type': 'application/json' },
    body: JSON.stringify(NANO),
    signal: AbortSignal.timeout(5000),
  });
  expect(res.status).toBe(201);
  expect(((await res.json()) as { status: string }).status).toBe('queued');
  scope.done();
  // The bridge's own validation still runs on the reused body.
  const bad = await postJson(`${h.base}/images/v1/images/tasks`, { ...NANO, n: 99 }, auth(KEY_A));
  expect(bad.status).toBe(400);
  expect((bad.body as { code: string; param: string }).param).toBe('n');
});

it('a multipart submit behind express.json() is read intact, also where body-parser 1 leaves req.body = {} on it', async () => {
  const h = await host((app, bridge) => {
    app.use(express.json());
    // What Express 4's body-parser does to requests it does not parse: an empty body object, the stream unread.
    app.use((req, _res, next) => {
      (req as { body?: unknown }).body ??= {};
      next();
    });
    app.use(bridge);
  });
  const scope = hubAccepts('ex-3');
  const form = new FormData();
  form.set('model', 'NanoBanana');
  form.set('prompt', 'a red cube');
  form.set('aspect_ratio', '1:1');
  const res = await fetch(`${h.base}/v1/images/tasks`, { method: 'POST', headers: auth(KEY_A), body: form, signal: AbortSignal.timeout(5000) });
  expect(res.status).toBe(201);
  scope.done();
});

it('a multipart body a host parser already consumed is refused with 415 and says why, never waited for', async () => {
  const h = await host((app, bridge) => {
    app.use(express.raw({ type: 'multipart/form-data' }));
    app.use(bridge);
  });
  const form = new FormData();
  form.set('model', 'NanoBanana');
  form.set('prompt', 'a red cube');
  const res = await fetch(`${h.base}/v1/images/tasks`, { method: 'POST', headers: auth(KEY_A), body: form, signal: AbortSignal.timeout(5000) });
  expect(res.status).toBe(415);
  const body = (await res.json()) as { code: string; message: string; data: null };
  expect(body.code).toBe('unsupported_media_type');
  expect(body.message).toMatch(/read this request body before the image bridge/);
});

it('probes and metrics can be moved or turned off; turned-off paths fall through to the host', async () => {
  const h = await host(
    (app, bridge) => {
      app.use('/images', bridge);
      app.get('/images/healthz', (_req, res) => {
        res.json({ host: 'own probe' });
      });
    },
    { healthzPath: false, readyzPath: '/internal/ready', metricsPath: false },
  );
  expect((await call(`${h.base}/images/healthz`)).body).toStrictEqual({ host: 'own probe' });
  const ready = await call(`${h.base}/images/internal/ready`);
  expect(ready.status).toBe(200);
  expect(ready.body).toStrictEqual({ status: 'ready' });
  expect((await call(`${h.base}/images/readyz`)).status).toBe(404);
  expect((await call(`${h.base}/images/metrics`)).status).toBe(404);
});

it('a probe path that clashes with the API or is not a path is a configuration error', () => {
  expect(() => createRequestHandler(container, { metricsPath: '/v1/images/metrics' })).toThrow('metricsPath "/v1/images/metrics" overlaps the platform API (/v1/images/, /openapi.json); choose another path.');
  expect(() => createRequestHandler(container, { healthzPath: 'healthz' })).toThrow(/^healthzPath must be a path like "\/healthz"/);
  expect(() => createRequestHandler(container, { healthzPath: '/probe', readyzPath: '/probe' })).toThrow('healthzPath, readyzPath and metricsPath must differ; got /probe, /probe, /metrics.');
});

it('a container built with no upstream says so at once, in one warn line naming the fix (it was silent)', async () => {
  const logger = new CapturingLogger();
  const bare = createAppContainer(loadConfig({ LOG_LEVEL: 'silent' }, { requireGatewayKeys: false }), { processMetrics: false, register: (c) => c.register(LOGGER, { useValue: logger }) });
  try {
    const warnings = logger.at('warn').filter((l) => l.fields.event === 'no_upstream_channels');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toMatch(/^NO UPSTREAM CONFIGURED: every image submit will be refused with model_unavailable\. Set HUB_BASE_URL and HUB_API_KEY or CONFIG_FILE channels, or run the sandbox hub in-process with startSandboxHub\(\)/);
  } finally {
    await closeAppContainer(bare);
  }
  // A configured one does not warn.
  const quiet = new CapturingLogger();
  const configured = createAppContainer(hubConfig(), { processMetrics: false, register: (c) => c.register(LOGGER, { useValue: quiet }) });
  expect(quiet.lines.filter((l) => l.fields.event === 'no_upstream_channels')).toStrictEqual([]);
  await closeAppContainer(configured);
});

it('the sandbox hub runs embedded (docs/embedding.md): an Express host gets a finished task with a real image', async () => {
  const sandbox = await startSandboxHub({ timing: { queuedMs: 0, runningMs: 0 } });
  const config = loadConfig({ PORT: '0', LOG_LEVEL: 'silent', HUB_BASE_URL: sandbox.baseUrl, HUB_API_KEY: sandbox.apiKey, GATEWAY_API_KEYS: KEY_A });
  const embedded = createAppContainer(config, { processMetrics: false });
  const bridge = createRequestHandler(embedded);
  const app = express();
  app.use('/images', bridge);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const created = await postJson(`${base}/images/v1/images/tasks`, NANO, auth(KEY_A));
    expect(created.status).toBe(201);
    let task: { status: string; result_url: string | null } = { status: 'queued', result_url: null };
    for (let i = 0; i < 50 && task.status !== 'succeeded' && task.status !== 'failed'; i++) {
      const polled = await call(`${base}${created.headers.get('location') as string}`, { headers: auth(KEY_A) });
      task = (polled.body as { data: typeof task }).data;
      if (task.status !== 'succeeded') await new Promise((r) => setTimeout(r, 100));
    }
    expect(task.status).toBe('succeeded');
    const image = await fetch(task.result_url as string);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await image.arrayBuffer()).subarray(1, 4).toString('latin1')).toBe('PNG');
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await bridge.close();
    await closeAppContainer(embedded);
    await sandbox.close();
  }
});
