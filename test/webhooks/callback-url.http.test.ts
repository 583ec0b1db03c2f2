/**
 * callback_url on submit over a real socket against a nock'ed hub: accepted values are stored on the task
 * and never echoed; every refused value is a 400 envelope naming callback_url, and no upstream call.
 */
import { randomBytes } from 'node:crypto';
import nock from 'nock';
import { TASK_STORE } from '../../src/di/tokens';
import type { Gateway } from '../../src/http/gateway';
import type { TaskStore } from '../../src/tasks/ports';
import { auth, call, HUB, hubConfig, KEY_A, postJson, start } from '../http/gateway-support';

const NANO = { model: 'NanoBanana2-0.5K', prompt: 'A small red cube', aspect_ratio: '1:1' };
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

let gw: Gateway;
let plain: Gateway;

beforeAll(async () => {
  gw = await start(hubConfig({ WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOW_HOSTS: 'hooks.internal.example', MAX_URL_LENGTH: '200' }));
  plain = await start(hubConfig());
});

afterAll(async () => {
  await gw.close();
  await plain.close();
});

afterEach(() => {
  nock.cleanAll();
});

function acceptingHub(): nock.Scope {
  return nock(HUB).post('/hub/v1/tasks').reply(201, { task_id: `hub-${randomBytes(4).toString('hex')}`, status: 'queued', ready: false });
}

async function stored(taskId: string): Promise<string | undefined> {
  return (await gw.container.resolve<TaskStore>(TASK_STORE).get(taskId))?.callbackUrl;
}

describe('accepted callback_url', () => {
  it('JSON: stored on the task, not echoed in the answer', async () => {
    const scope = acceptingHub();
    const r = await postJson(`${gw.url}/v1/images/tasks`, { ...NANO, callback_url: 'https://hooks.example.com/cb?token=t0k3n' }, auth(KEY_A));
    expect(r.status).toBe(201);
    expect(scope.isDone()).toBe(true);
    expect(r.text).not.toContain('hooks.example.com');
    const taskId = (r.body as { task_id: string }).task_id;
    expect(await stored(taskId)).toBe('https://hooks.example.com/cb?token=t0k3n');
    const q = await call(`${gw.url}/v1/images/tasks/${taskId}`, { headers: auth(KEY_A) });
    expect(q.text).not.toContain('hooks.example.com');
  });

  it('multipart: the text field callback_url is stored', async () => {
    const scope = acceptingHub();
    const form = new FormData();
    for (const [k, v] of Object.entries(NANO)) form.append(k, v);
    form.append('callback_url', 'https://hooks.example.com/multipart');
    const r = await call(`${gw.url}/v1/images/tasks`, { method: 'POST', headers: auth(KEY_A), body: form });
    expect(r.status).toBe(201);
    expect(scope.isDone()).toBe(true);
    expect(await stored((r.body as { task_id: string }).task_id)).toBe('https://hooks.example.com/multipart');
  });

  it('an allow-listed private host is accepted; null means not sent', async () => {
    acceptingHub();
    const a = await postJson(`${gw.url}/v1/images/tasks`, { ...NANO, callback_url: 'http://hooks.internal.example:8081/cb' }, auth(KEY_A));
    expect(a.status).toBe(201);
    expect(await stored((a.body as { task_id: string }).task_id)).toBe('http://hooks.internal.example:8081/cb');
    acceptingHub();
    const b = await postJson(`${gw.url}/v1/images/tasks`, { ...NANO, callback_url: null }, auth(KEY_A));
    expect(b.status).toBe(201);
    expect(await stored((b.body as { task_id: string }).task_id)).toBeUndefined();
  });

  it('the same Idempotency-Key with another callback_url is a conflict, with the same one a replay', async () => {
    const scope = acceptingHub();
    const key = { ...auth(KEY_A), 'idempotency-key': `cb-${randomBytes(6).toString('hex')}` };
    const first = await postJson(`${gw.url}/v1/images/tasks`, { ...NANO, callback_url: 'https://hooks.example.com/one' }, key);
    expect(first.status).toBe(201);
    const again = await postJson(`${gw.url}/v1/images/tasks`, { ...NANO, callback_url: 'https://hooks.example.com/one' }, key);
    expect(again.status).toBe(201);
    expect((again.body as { task_id: string }).task_id).toBe((first.body as { task_id: string }).task_id);
    const other = await postJson(`${gw.url}/v1/images/tasks`, { ...NANO, callback_url: 'https://hooks.example.com/two' }, key);
    expect(other.status).toBe(409);
    expect((other.body as { code: string }).code).toBe('idempotency_conflict');
    expect(scope.isDone()).toBe(true);
  });
});

describe('refused callback_url: 400 naming callback_url, no upstream call', () => {
  it.each([
    ['not a URL', 'not a url', 'callback_url must be an absolute http(s) URL.'],
    ['a non-http scheme', 'ftp://hooks.example.com/cb', 'callback_url must use http or https; scheme ftp: is not allowed.'],
    ['a loopback address', 'http://127.0.0.1:9000/cb', 'callback_url is not allowed: the host 127.0.0.1 is a loopback address; webhooks are only delivered to public hosts.'],
    ['localhost', 'http://localhost/cb', 'callback_url is not allowed: the host localhost is a single-label host name, which only resolves inside a private network; webhooks are only delivered to public hosts.'],
    ['a link-local (metadata) address', 'http://169.254.169.254/latest', 'callback_url is not allowed: the host 169.254.169.254 is a link-local address (cloud metadata services live here); webhooks are only delivered to public hosts.'],
    ['an IPv6 loopback', 'http://[::1]/cb', 'callback_url is not allowed: the host [::1] is a loopback address; webhooks are only delivered to public hosts.'],
    ['credentials in the URL', 'https://user:pw@hooks.example.com/cb', 'callback_url must not carry credentials in the URL; authenticate webhooks by their signature (webhook-signature).'],
    ['a number', 42, 'callback_url must be a string: an http(s) URL.'],
    ['a URL over MAX_URL_LENGTH', `https://hooks.example.com/${'a'.repeat(200)}`, 'callback_url is longer than 200 characters.'],
  ])('%s (JSON)', async (_what, value, message) => {
    const scope = acceptingHub();
    const r = await postJson(`${gw.url}/v1/images/tasks`, { ...NANO, callback_url: value }, auth(KEY_A));
    expect(r.status).toBe(400);
    expect(r.body).toStrictEqual({ code: 'invalid_parameter', message, param: 'callback_url', data: null });
    expect(scope.isDone()).toBe(false);
  });

  it('a private address (multipart)', async () => {
    const scope = acceptingHub();
    const form = new FormData();
    for (const [k, v] of Object.entries(NANO)) form.append(k, v);
    form.append('callback_url', 'http://10.1.2.3/cb');
    const r = await call(`${gw.url}/v1/images/tasks`, { method: 'POST', headers: auth(KEY_A), body: form });
    expect(r.status).toBe(400);
    expect(r.body).toStrictEqual({
      code: 'invalid_parameter',
      message: 'callback_url is not allowed: the host 10.1.2.3 is a private address; webhooks are only delivered to public hosts.',
      param: 'callback_url',
      data: null,
    });
    expect(scope.isDone()).toBe(false);
  });

  it('a gateway without WEBHOOK_SECRET refuses callback_url instead of ignoring it', async () => {
    const scope = acceptingHub();
    const r = await postJson(`${plain.url}/v1/images/tasks`, { ...NANO, callback_url: 'https://hooks.example.com/cb' }, auth(KEY_A));
    expect(r.status).toBe(400);
    expect(r.body).toStrictEqual({
      code: 'unsupported_parameter',
      message: 'This gateway does not deliver webhooks (its operator has not set WEBHOOK_SECRET); drop callback_url and poll GET /v1/images/tasks/{task_id}.',
      param: 'callback_url',
      data: null,
    });
    expect(scope.isDone()).toBe(false);
  });
});
