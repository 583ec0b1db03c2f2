/**
 * Fault matrix: every way an upstream can fail, on submit and on poll, against a real gateway (buildServer on
 * 127.0.0.1:0 via startGateway) in front of a scripted hub on a real socket. For each fault: the exact
 * client answer, the process keeps serving, no task is lost or duplicated (upstream submits are counted),
 * usage settles at most once, and the log names the channel and the failure kind.
 */
import { loadConfig } from '../../src/config/config';
import { CLOCK, ENGINE_OPTIONS, LOGGER, UPSTREAM_CLIENT_OPTIONS, USAGE_SINK } from '../../src/di/tokens';
import { startGateway, type Gateway } from '../../src/http/gateway';
import type { UpstreamFailureKind } from '../../src/platform/errors';
import { CapturingLogger } from '../support/capturing-logger';
import { FakeClock } from '../support/fake-clock';
import { RecordingSink } from '../support/recording-sink';
import { answer, hang, json, refusingPort, resetMidResponse, ScriptedHub, slowBody, type Script } from './scripted-hub';

const KEY = 'sk-reliability-0001';
const POLL_INTERVAL_MS = 1000;
const DEADLINE_MS = 60_000;
/** Whole-attempt upstream timeout: short, so a hanging hub costs the suite little. */
const TIMEOUT_MS = 400;
/** Retry-After values up to this are waited for; longer ones end the retries at once. */
const MAX_RETRY_AFTER_MS = 500;
const ATTEMPTS = 3;

const NANO = { model: 'NanoBanana2-0.5K', prompt: 'A small red cube', aspect_ratio: '1:1' };
const ACCEPTED = { task_id: 'hub-1', status: 'queued', ready: false };
const RUNNING = { task_id: 'hub-1', status: 'running', ready: false, progress: 40 };
const IMAGE = 'https://cdn.hub.example/outputs/hub-1-0.png';
const DONE = { task_id: 'hub-1', status: 'succeeded', ready: true, progress: 100, output: { images: [{ url: IMAGE }] } };
const HTML_PAGE = '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>';

const unhandled: unknown[] = [];
const onUnhandled = (err: unknown): void => void unhandled.push(err);
beforeAll(() => process.on('unhandledRejection', onUnhandled));
afterAll(() => process.off('unhandledRejection', onUnhandled));

interface Rig {
  hub: ScriptedHub;
  gw: Gateway;
  logger: CapturingLogger;
  sink: RecordingSink;
  clock: FakeClock;
}

async function rig(hubUrl?: string): Promise<Rig> {
  const hub = new ScriptedHub();
  await hub.start();
  const logger = new CapturingLogger();
  const sink = new RecordingSink();
  const clock = new FakeClock(Date.now());
  const config = loadConfig({
    PORT: '0',
    GATEWAY_API_KEYS: `${KEY}:alice`,
    HUB_BASE_URL: hubUrl ?? hub.url,
    HUB_API_KEY: 'hub-secret-key-never-shown',
    POLL_INTERVAL_MS: String(POLL_INTERVAL_MS),
    TASK_DEADLINE_MS: String(DEADLINE_MS),
  });
  const gw = await startGateway(config, {
    processMetrics: false,
    register: (c) => {
      c.register(LOGGER, { useValue: logger });
      c.register(USAGE_SINK, { useValue: sink });
      c.register(CLOCK, { useValue: clock });
      // The matrix counts upstream calls per query with a fake clock: the engine (real timers) stays off here;
      // test/tasks/engine/*.test.ts cover it.
      c.register(ENGINE_OPTIONS, { useValue: { enabled: false } });
      c.register(UPSTREAM_CLIENT_OPTIONS, {
        useValue: { submitTimeoutMs: TIMEOUT_MS, pollTimeoutMs: TIMEOUT_MS, connectTimeoutMs: TIMEOUT_MS, retry: { maxAttempts: ATTEMPTS, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: MAX_RETRY_AFTER_MS } },
      });
    },
  });
  return { hub, gw, logger, sink, clock };
}

async function teardown(r: Rig): Promise<void> {
  await r.hub.stop();
  await r.gw.close();
}

async function request(r: Rig, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${r.gw.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}

/** GET the task after the poll interval has passed (so the gateway polls the hub). */
async function query(r: Rig, id: string): Promise<{ status: number; body: unknown }> {
  r.clock.advance(POLL_INTERVAL_MS);
  return request(r, 'GET', `/v1/images/tasks/${id}`);
}

function task(id: string, fields: Record<string, unknown>): Record<string, unknown> {
  return {
    code: 'success',
    message: '',
    data: { task_id: id, status: 'queued', progress: '0%', result_url: null, metadata: { task_type: 'text2image', result_count: 0 }, error: null, ...fields },
  };
}

function succeeded(id: string): Record<string, unknown> {
  return task(id, { status: 'succeeded', progress: '100%', result_url: IMAGE, metadata: { task_type: 'text2image', result_count: 1, result_urls: [IMAGE] } });
}

/** A warn line from the task service naming the channel and the failure kind. */
function expectLogged(r: Rig, kind: UpstreamFailureKind, event?: string): void {
  const line = r.logger.lines.find((l) => {
    const error = l.fields.error as { kind?: unknown } | undefined;
    return l.level === 'warn' && l.fields.channel === 'hub' && error?.kind === kind && (event === undefined || l.fields.event === event);
  });
  expect(line).toBeDefined();
  expect(r.logger.text()).not.toContain('hub-secret-key-never-shown');
}

async function expectStillServing(r: Rig): Promise<void> {
  const health = await fetch(`${r.gw.url}/healthz`);
  expect(health.status).toBe(200);
  expect(unhandled).toStrictEqual([]);
}

interface Fault {
  name: string;
  script: Script;
  kind: UpstreamFailureKind;
  /** Submit answer: HTTP status and envelope code. */
  submit: { status: number; code: string };
  /** Hub polls one failing query costs (the client retries retryable poll failures). */
  pollAttempts: number;
}

const FAULTS: Fault[] = [
  { name: 'connection refused', script: hang, kind: 'connection_refused', submit: { status: 503, code: 'upstream_unavailable' }, pollAttempts: 0 },
  { name: 'reset mid-response', script: resetMidResponse, kind: 'network', submit: { status: 503, code: 'upstream_unavailable' }, pollAttempts: ATTEMPTS },
  { name: 'timeout before headers', script: hang, kind: 'timeout', submit: { status: 504, code: 'upstream_timeout' }, pollAttempts: ATTEMPTS },
  { name: 'slow body past the timeout', script: slowBody(RUNNING, 250), kind: 'timeout', submit: { status: 504, code: 'upstream_timeout' }, pollAttempts: ATTEMPTS },
  { name: 'HTTP 500', script: json(500, { error: { code: 'internal', message: 'boom' } }), kind: 'server_error', submit: { status: 502, code: 'upstream_error' }, pollAttempts: ATTEMPTS },
  { name: 'HTTP 502', script: json(502, { error: 'bad gateway' }), kind: 'server_error', submit: { status: 502, code: 'upstream_error' }, pollAttempts: ATTEMPTS },
  { name: 'HTTP 503', script: json(503, { error: 'unavailable' }), kind: 'server_error', submit: { status: 502, code: 'upstream_error' }, pollAttempts: ATTEMPTS },
  { name: 'HTTP 504', script: json(504, { error: 'gateway timeout' }), kind: 'server_error', submit: { status: 502, code: 'upstream_error' }, pollAttempts: ATTEMPTS },
  // A Retry-After beyond maxRetryAfterMs ends the retries at once; without one the client backs off and retries.
  { name: '429 with Retry-After', script: json(429, { error: 'slow down' }, { 'retry-after': '60' }), kind: 'rate_limited', submit: { status: 503, code: 'upstream_unavailable' }, pollAttempts: 1 },
  { name: '429 without Retry-After', script: json(429, { error: 'slow down' }), kind: 'rate_limited', submit: { status: 503, code: 'upstream_unavailable' }, pollAttempts: ATTEMPTS },
  { name: 'HTML error page (502)', script: answer(502, HTML_PAGE, { 'content-type': 'text/html' }), kind: 'server_error', submit: { status: 502, code: 'upstream_error' }, pollAttempts: ATTEMPTS },
  { name: 'HTML page with 200', script: answer(200, HTML_PAGE, { 'content-type': 'text/html' }), kind: 'malformed', submit: { status: 502, code: 'upstream_error' }, pollAttempts: 1 },
  { name: 'truncated JSON', script: answer(200, '{"task_id":"hub-1","status":"que'), kind: 'malformed', submit: { status: 502, code: 'upstream_error' }, pollAttempts: 1 },
  { name: 'malformed JSON', script: answer(200, "{task_id: 'hub-1', status: queued, ready: false}"), kind: 'malformed', submit: { status: 502, code: 'upstream_error' }, pollAttempts: 1 },
  { name: 'valid JSON of the wrong shape', script: json(200, { id: 42, state: 'done', images: 'none' }), kind: 'malformed', submit: { status: 502, code: 'upstream_error' }, pollAttempts: 1 },
];

describe('fault on submit', () => {
  it.each(FAULTS.map((f) => [f.name, f] as const))('%s', async (_name, fault) => {
    const refused = fault.kind === 'connection_refused' ? `http://127.0.0.1:${await refusingPort()}` : undefined;
    const r = await rig(refused);
    try {
      r.hub.onSubmit = fault.script;
      const res = await request(r, 'POST', '/v1/images/tasks', NANO);
      expect(res.status).toBe(fault.submit.status);
      expect(res.body).toStrictEqual({ code: fault.submit.code, message: expect.any(String), data: null });
      // A submit that may have reached the upstream is never re-sent (it could be a second paid job).
      expect(r.hub.submits).toBe(refused ? 0 : 1);
      expect(r.hub.polls).toBe(0);
      expect(r.sink.events).toStrictEqual([]);
      expectLogged(r, fault.kind);
      await expectStillServing(r);
      // The gateway is not stuck: the next submit to a healthy hub is a task.
      if (!refused) {
        r.hub.onSubmit = json(201, ACCEPTED);
        const next = await request(r, 'POST', '/v1/images/tasks', NANO);
        expect(next.status).toBe(201);
        expect(r.hub.submits).toBe(2);
      }
    } finally {
      await teardown(r);
    }
  });

  it('a slow body that arrives within the timeout is a task', async () => {
    const r = await rig();
    try {
      r.hub.onSubmit = slowBody(ACCEPTED, 10, 201);
      const res = await request(r, 'POST', '/v1/images/tasks', NANO);
      expect(res.status).toBe(201);
      expect(r.hub.submits).toBe(1);
    } finally {
      await teardown(r);
    }
  });
});

describe('fault on poll', () => {
  it.each(FAULTS.map((f) => [f.name, f] as const))('%s: the task stays answerable, then finishes and settles once', async (_name, fault) => {
    const r = await rig();
    try {
      const created = await request(r, 'POST', '/v1/images/tasks', NANO);
      expect(created.status).toBe(201);
      const id = (created.body as { task_id: string }).task_id;

      if (fault.kind === 'connection_refused') await r.hub.stop();
      else r.hub.onPoll = fault.script;
      const during = await query(r, id);
      // A failed poll does not fail the query: the client gets the last known state.
      expect(during).toStrictEqual({ status: 200, body: task(id, {}) });
      expect(r.hub.polls).toBe(fault.pollAttempts);
      expectLogged(r, fault.kind, 'poll_failed');
      await expectStillServing(r);

      if (fault.kind === 'connection_refused') await r.hub.start();
      r.hub.onPoll = json(200, DONE);
      expect(await query(r, id)).toStrictEqual({ status: 200, body: succeeded(id) });
      expect(await query(r, id)).toStrictEqual({ status: 200, body: succeeded(id) });
      expect(r.hub.submits).toBe(1);
      expect(r.sink.events.map((e) => [e.task_id, e.status])).toStrictEqual([[id, 'succeeded']]);
    } finally {
      await teardown(r);
    }
  });
});

describe('a task that never finishes', () => {
  it('fails with upstream_timeout at the deadline and settles at zero exactly once', async () => {
    const r = await rig();
    try {
      const created = await request(r, 'POST', '/v1/images/tasks', NANO);
      const id = (created.body as { task_id: string }).task_id;
      r.hub.onPoll = json(200, RUNNING);
      expect(await query(r, id)).toStrictEqual({ status: 200, body: task(id, { status: 'processing', progress: '40%' }) });
      r.clock.advance(DEADLINE_MS);
      const expired = task(id, {
        status: 'failed',
        progress: '100%',
        error: { code: 'upstream_timeout', message: 'The upstream did not finish the task within 1 minute.' },
      });
      expect(await query(r, id)).toStrictEqual({ status: 200, body: expired });
      const polls = r.hub.polls;
      // Terminal: later queries answer from the store and never settle again, even if the hub now says done.
      r.hub.onPoll = json(200, DONE);
      expect(await query(r, id)).toStrictEqual({ status: 200, body: expired });
      expect(await query(r, id)).toStrictEqual({ status: 200, body: expired });
      expect(r.hub.polls).toBe(polls);
      expect(r.sink.events).toStrictEqual([
        expect.objectContaining({ task_id: id, status: 'failed', cost: 0, result_count: 0 }),
      ]);
      expect(r.logger.lines.some((l) => l.fields.event === 'task_terminal' && l.fields.status === 'failed' && l.fields.task_id === id)).toBe(true);
    } finally {
      await teardown(r);
    }
  });

  it('also expires while every poll fails (the hub is down past the deadline)', async () => {
    const r = await rig();
    try {
      const created = await request(r, 'POST', '/v1/images/tasks', NANO);
      const id = (created.body as { task_id: string }).task_id;
      r.hub.onPoll = json(503, { error: 'down' });
      r.clock.advance(DEADLINE_MS);
      const res = await query(r, id);
      expect(res).toStrictEqual({
        status: 200,
        body: task(id, { status: 'failed', progress: '100%', error: { code: 'upstream_timeout', message: 'The upstream did not finish the task within 1 minute.' } }),
      });
      await query(r, id);
      expect(r.sink.events).toStrictEqual([expect.objectContaining({ task_id: id, status: 'failed', cost: 0 })]);
      expectLogged(r, 'server_error', 'poll_failed');
    } finally {
      await teardown(r);
    }
  });
});
