/**
 * Operational surface over a real socket: /healthz, /readyz, /metrics, security headers, request ids,
 * and log lines (request id on every line, no secret in any line).
 */
import nock from 'nock';
import { TASK_STORE } from '../../src/di/tokens';
import type { Gateway } from '../../src/http/gateway';
import { SECURITY_HEADERS } from '../../src/http/plugin';
import type { TaskStore } from '../../src/tasks/ports';
import { auth, call, HUB, HUB_KEY, hubConfig, KEY_A, postJson, start } from './gateway-support';

const NANO = { model: 'NanoBanana2-0.5K', prompt: 'A small red cube', aspect_ratio: '1:1' };
const IMAGE = 'https://cdn.hub.example/outputs/r-0.png';

let gw: Gateway;
const lines: Array<Record<string, unknown>> = [];
const raw: string[] = [];

beforeAll(async () => {
  gw = await start(hubConfig({ LOG_LEVEL: 'debug', POLL_INTERVAL_MS: '1' }), {
    logDestination: {
      write: (s: string) => {
        raw.push(s);
        lines.push(JSON.parse(s) as Record<string, unknown>);
      },
    },
  });
});

afterAll(async () => {
  await gw.close();
});

afterEach(() => nock.cleanAll());

describe('health and readiness', () => {
  it('/healthz answers 200 {status: ok} without a key', async () => {
    const r = await call(`${gw.url}/healthz`);
    expect(r.status).toBe(200);
    expect(r.body).toStrictEqual({ status: 'ok' });
  });

  it('/readyz pings the store', async () => {
    const r = await call(`${gw.url}/readyz`);
    expect(r.status).toBe(200);
    expect(r.body).toStrictEqual({ status: 'ready' });
  });

  it('/readyz is a 503 not_ready envelope when the store does not answer', async () => {
    const store = gw.container.resolve<TaskStore>(TASK_STORE);
    const broken: Partial<TaskStore> = { ping: () => Promise.reject(new Error('ECONNREFUSED 10.0.0.1:6379')), close: async () => undefined };
    const other = await start(hubConfig(), { register: (c) => c.register(TASK_STORE, { useValue: { ...store, ...broken } as TaskStore }) });
    try {
      const r = await call(`${other.url}/readyz`);
      expect(r.status).toBe(503);
      expect(r.body).toStrictEqual({ code: 'not_ready', message: 'Not ready: the task store does not answer.', data: null });
    } finally {
      await other.close();
    }
  });
});

describe('headers', () => {
  it('sets the security headers on success, error and unknown routes', async () => {
    for (const r of [await call(`${gw.url}/healthz`), await postJson(`${gw.url}/v1/images/tasks`, NANO, {}), await call(`${gw.url}/nope`)]) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect([name, r.headers.get(name)]).toStrictEqual([name, value]);
      expect(r.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('echoes a clean X-Request-Id and replaces an unsafe one', async () => {
    const kept = await call(`${gw.url}/healthz`, { headers: { 'x-request-id': 'abc-123.def' } });
    expect(kept.headers.get('x-request-id')).toBe('abc-123.def');
    const replaced = await call(`${gw.url}/healthz`, { headers: { 'x-request-id': 'bad id <script>' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^req_[A-Za-z0-9_-]{16}$/);
    const generated = await call(`${gw.url}/healthz`);
    expect(generated.headers.get('x-request-id')).toMatch(/^req_[A-Za-z0-9_-]{16}$/);
  });
});

describe('a task through the hub, then /metrics and the logs', () => {
  it('counts requests, upstream calls, terminal tasks, settlements and overhead; logs carry the request id and no secret', async () => {
    const scope = nock(HUB)
      .post('/hub/v1/tasks')
      .reply(201, { task_id: 'hub-m1', status: 'queued', ready: false })
      .get('/hub/v1/tasks/hub-m1')
      .reply(200, { task_id: 'hub-m1', status: 'succeeded', ready: true, progress: 100, output: { images: [{ url: IMAGE, content_type: 'image/png' }] } });
    const created = await postJson(`${gw.url}/v1/images/tasks`, NANO, { ...auth(KEY_A), 'x-request-id': 'trace-submit-1' });
    expect(created.status).toBe(201);
    const id = (created.body as { task_id: string }).task_id;
    const done = await call(`${gw.url}/v1/images/tasks/${id}`, { headers: { ...auth(KEY_A), 'x-request-id': 'trace-query-1' } });
    expect(done.body).toStrictEqual({
      code: 'success',
      message: '',
      data: { task_id: id, status: 'succeeded', progress: '100%', result_url: IMAGE, metadata: { task_type: 'text2image', result_count: 1, result_urls: [IMAGE] }, error: null },
    });
    scope.done();

    const m = await call(`${gw.url}/metrics`);
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toContain('text/plain');
    const text = m.text;
    for (const expected of [
      'bridge_http_requests_total{route="/v1/images/tasks",method="POST",model="NanoBanana2-0.5K",status="201"} 1',
      'bridge_http_requests_total{route="/v1/images/tasks/:task_id",method="GET",model="-",status="200"} 1',
      'bridge_upstream_request_duration_seconds_count{channel="hub",operation="submit",outcome="ok"} 1',
      'bridge_upstream_request_duration_seconds_count{channel="hub",operation="poll",outcome="ok"} 1',
      'bridge_tasks_terminal_total{model="NanoBanana2-0.5K",status="succeeded"} 1',
      'bridge_usage_settlements_total{model="NanoBanana2-0.5K",status="succeeded"} 1',
      'bridge_overhead_seconds_count{route="/v1/images/tasks"} 1',
      'bridge_overhead_seconds_count{route="/v1/images/tasks/:task_id"} 1',
    ]) {
      expect(text).toContain(expected);
    }

    const submitLines = lines.filter((l) => l.request_id === 'trace-submit-1' || l.requestId === 'trace-submit-1');
    const queryLines = lines.filter((l) => l.request_id === 'trace-query-1' || l.requestId === 'trace-query-1');
    expect(submitLines.find((l) => l.msg === 'request')).toMatchObject({ status: 201, route: '/v1/images/tasks', owner: 'alice', model: 'NanoBanana2-0.5K' });
    expect(queryLines.find((l) => l.msg === 'request')).toMatchObject({ status: 200, route: '/v1/images/tasks/:task_id', owner: 'alice' });
    // Every line written while serving a platform request names its request.
    for (const l of lines.filter((x) => x.task_id === id)) expect([l.msg, l.request_id ?? l.requestId]).toStrictEqual([l.msg, expect.stringMatching(/^trace-(submit|query)-1$/)]);
    const all = raw.join('');
    expect(all).not.toContain(KEY_A);
    expect(all).not.toContain(HUB_KEY);
  });
});
