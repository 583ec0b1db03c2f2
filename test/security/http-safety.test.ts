/**
 * Idempotency, abuse limits, the reference URL policy, reference limits and task-id secrecy over HTTP: a real
 * gateway on 127.0.0.1:0 in front of a nock'ed hub. Rejected requests must not reach the hub.
 */
import nock from 'nock';
import type { Gateway } from '../../src/http/gateway';
import { errorEnvelopeSchema } from '../../src/platform/task';
import { auth, call, HUB, hubConfig, KEY_A, KEY_B, postJson, start, type Reply } from '../http/gateway-support';

const NANO = { model: 'NanoBanana2-0.5K', prompt: 'A small red cube', aspect_ratio: '1:1' };
const HUB_NANO_BODY = { model: 'nano-banana-2', input: { prompt: 'A small red cube', num_images: 1, output_format: 'png', aspect_ratio: '1:1', resolution: '0.5K' } };
const ACCEPTED = { task_id: 'hub-job-1', status: 'queued', ready: false };

/** A hub that accepts NANO exactly `times` times (optionally slowly). */
function hubAccepts(times = 1, delayMs = 0): nock.Scope {
  return nock(HUB)
    .post('/hub/v1/tasks', (b: unknown) => JSON.stringify(b) === JSON.stringify(HUB_NANO_BODY))
    .times(times)
    .delay(delayMs)
    .reply(201, ACCEPTED);
}

/** A submit scope that a rejected request must NOT use. */
function untouchedHub(): nock.Scope {
  return nock(HUB).post('/hub/v1/tasks').reply(201, { task_id: 'hub-never', status: 'queued', ready: false });
}

function expectEnvelope(r: Reply, status: number, expected: object): void {
  expect(r.status).toBe(status);
  expect(errorEnvelopeSchema.safeParse(r.body).success).toBe(true);
  expect(r.body).toStrictEqual({ ...expected, data: null });
}

afterEach(() => nock.cleanAll());

describe('Idempotency-Key over HTTP', () => {
  let gw: Gateway;
  let tasks: string;
  beforeAll(async () => {
    gw = await start(hubConfig());
    tasks = `${gw.url}/v1/images/tasks`;
  });
  afterAll(() => gw.close());

  it('a retry with the same key and body answers 201 with the same task; one upstream job', async () => {
    const scope = hubAccepts(1);
    const first = await postJson(tasks, NANO, { ...auth(KEY_A), 'idempotency-key': 'order-1001' });
    const again = await postJson(tasks, NANO, { ...auth(KEY_A), 'idempotency-key': 'order-1001' });
    scope.done();
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toStrictEqual(first.body);
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
  });

  it('the same key with a different body -> 409 idempotency_conflict naming the header, no upstream call', async () => {
    const scope = hubAccepts(1);
    expect((await postJson(tasks, NANO, { ...auth(KEY_A), 'idempotency-key': 'order-1002' })).status).toBe(201);
    scope.done();
    const untouched = untouchedHub();
    const r = await postJson(tasks, { ...NANO, prompt: 'A small blue cube' }, { ...auth(KEY_A), 'idempotency-key': 'order-1002' });
    expectEnvelope(r, 409, {
      code: 'idempotency_conflict',
      message: 'This Idempotency-Key was already used with a different request body. Send a new key for a new request, or resend the original body to get its task.',
      param: 'Idempotency-Key',
    });
    expect(untouched.isDone()).toBe(false);
  });

  it('another owner with the same key gets its own task', async () => {
    const scope = hubAccepts(2);
    const a = await postJson(tasks, NANO, { ...auth(KEY_A), 'idempotency-key': 'shared-key' });
    const b = await postJson(tasks, NANO, { ...auth(KEY_B), 'idempotency-key': 'shared-key' });
    scope.done();
    expect((a.body as { task_id: string }).task_id).not.toBe((b.body as { task_id: string }).task_id);
  });

  it('two simultaneous identical submits with one key -> one upstream job, the same task twice', async () => {
    const scope = hubAccepts(1, 200);
    const [one, two] = await Promise.all([
      postJson(tasks, NANO, { ...auth(KEY_A), 'idempotency-key': 'order-1003' }),
      postJson(tasks, NANO, { ...auth(KEY_A), 'idempotency-key': 'order-1003' }),
    ]);
    scope.done();
    expect([one.status, two.status]).toStrictEqual([201, 201]);
    expect(one.body).toStrictEqual(two.body);
  });

  it('a multipart retry with the same fields and file is the same request', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const form = () => {
      const f = new FormData();
      f.append('model', 'gpt-image-2');
      f.append('prompt', 'edit it');
      f.append('size', '1024x1024');
      f.append('image', new Blob([png], { type: 'image/png' }), 'in.png');
      return f;
    };
    const scope = nock(HUB)
      .post('/hub/v1/tasks', (b: { model?: string }) => b.model === 'gpt-image-2/edit')
      .reply(201, { task_id: 'hub-edit-1', status: 'queued', ready: false });
    const first = await call(tasks, { method: 'POST', headers: { ...auth(KEY_A), 'idempotency-key': 'edit-1' }, body: form() });
    const again = await call(tasks, { method: 'POST', headers: { ...auth(KEY_A), 'idempotency-key': 'edit-1' }, body: form() });
    scope.done();
    expect(first.status).toBe(201);
    expect(again.body).toStrictEqual(first.body);
  });
});

describe('abuse limits over HTTP', () => {
  it('RATE_LIMIT_PER_MINUTE / RATE_LIMIT_BURST -> 429 rate_limited with Retry-After, no upstream call', async () => {
    const gw = await start(hubConfig({ RATE_LIMIT_PER_MINUTE: '1', RATE_LIMIT_BURST: '1' }));
    try {
      const scope = hubAccepts(1);
      expect((await postJson(`${gw.url}/v1/images/tasks`, NANO, auth(KEY_A))).status).toBe(201);
      scope.done();
      const untouched = untouchedHub();
      const r = await postJson(`${gw.url}/v1/images/tasks`, NANO, auth(KEY_A));
      expectEnvelope(r, 429, { code: 'rate_limited', message: 'Too many submits: at most 1 per minute are accepted for this API key. Retry after 60 s.' });
      expect(r.headers.get('retry-after')).toBe('60');
      expect(untouched.isDone()).toBe(false);
      // Queries are not submits: still answered.
      const id = (await postJson(`${gw.url}/v1/images/tasks`, NANO, auth(KEY_B))).body as { task_id: string };
      expect(untouched.isDone()).toBe(true);
      nock(HUB).get('/hub/v1/tasks/hub-never').reply(200, { task_id: 'hub-never', status: 'running', ready: false, progress: 10 });
      expect((await call(`${gw.url}/v1/images/tasks/${id.task_id}`, { headers: auth(KEY_B) })).status).toBe(200);
    } finally {
      await gw.close();
    }
  });

  it('MAX_OPEN_TASKS_PER_OWNER -> 429 rate_limited with Retry-After; a finished task frees its slot', async () => {
    const gw = await start(hubConfig({ MAX_OPEN_TASKS_PER_OWNER: '1', POLL_INTERVAL_MS: '1' }));
    try {
      const scope = hubAccepts(1);
      const created = await postJson(`${gw.url}/v1/images/tasks`, NANO, auth(KEY_A));
      scope.done();
      const untouched = untouchedHub();
      const r = await postJson(`${gw.url}/v1/images/tasks`, NANO, auth(KEY_A));
      expectEnvelope(r, 429, {
        code: 'rate_limited',
        message: 'Too many unfinished tasks: at most 1 may be queued or processing for this API key. Poll them (GET /v1/images/tasks/{task_id}) until they finish, then submit again.',
      });
      expect(r.headers.get('retry-after')).toBe('5');
      expect(untouched.isDone()).toBe(false);
      nock.cleanAll();
      const poll = nock(HUB)
        .get('/hub/v1/tasks/hub-job-1')
        .reply(200, { task_id: 'hub-job-1', status: 'succeeded', ready: true, output: { images: [{ url: 'https://cdn.hub.example/o.png' }] } });
      const done = await call(`${gw.url}/v1/images/tasks/${(created.body as { task_id: string }).task_id}`, { headers: auth(KEY_A) });
      poll.done();
      expect((done.body as { data: { status: string } }).data.status).toBe('succeeded');
      const next = hubAccepts(1);
      expect((await postJson(`${gw.url}/v1/images/tasks`, NANO, auth(KEY_A))).status).toBe(201);
      next.done();
    } finally {
      await gw.close();
    }
  });
});

describe('reference URL policy and reference limits over HTTP', () => {
  let gw: Gateway;
  let tasks: string;
  beforeAll(async () => {
    gw = await start(hubConfig({ UPLOAD_LIMIT_BYTES: '1024', MAX_REFERENCE_IMAGES: '2' }));
    tasks = `${gw.url}/v1/images/tasks`;
  });
  afterAll(() => gw.close());

  it.each([
    ['image', { image: 'http://169.254.169.254/latest/meta-data/' }, 'image is not allowed: the host 169.254.169.254 is a link-local address (cloud metadata services live here); reference images must be on a public host.'],
    ['image', { image: 'http://2130706433/a.png' }, 'image is not allowed: the host 127.0.0.1 is a loopback address; reference images must be on a public host.'],
    ['images[1]', { images: ['https://example.com/a.png', 'http://[::ffff:10.0.0.1]/b.png'] }, 'images[1] is not allowed: the host [::ffff:a00:1] is an IPv4-mapped IPv6 form of a private address; reference images must be on a public host.'],
    ['images[0]', { images: ['http://metadata.google.internal/computeMetadata/v1/'] }, 'images[0] is not allowed: the host metadata.google.internal is a private-network name (.internal); reference images must be on a public host.'],
  ])('a private reference URL (%s) -> 400 invalid_parameter, no upstream call', async (param, refs, message) => {
    const untouched = untouchedHub();
    const r = await postJson(tasks, { model: 'NanoBanana', prompt: 'p', ...refs }, auth(KEY_A));
    expectEnvelope(r, 400, { code: 'invalid_parameter', message, param });
    expect(untouched.isDone()).toBe(false);
  });

  it('a data URI over UPLOAD_LIMIT_BYTES -> 413 payload_too_large naming the parameter, no upstream call', async () => {
    const untouched = untouchedHub();
    const r = await postJson(tasks, { model: 'NanoBanana', prompt: 'p', image: `data:image/png;base64,${Buffer.alloc(1500, 7).toString('base64')}` }, auth(KEY_A));
    expectEnvelope(r, 413, { code: 'payload_too_large', message: 'image is 1500 bytes; the limit for one image is 1024 bytes.', param: 'image' });
    expect(untouched.isDone()).toBe(false);
  });

  it('more references than MAX_REFERENCE_IMAGES -> 400 invalid_parameter, no upstream call', async () => {
    const untouched = untouchedHub();
    const images = ['https://example.com/1.png', 'https://example.com/2.png', 'https://example.com/3.png'];
    const r = await postJson(tasks, { model: 'NanoBanana', prompt: 'p', images }, auth(KEY_A));
    expectEnvelope(r, 400, { code: 'invalid_parameter', message: 'Too many reference images: 3; at most 2 are allowed.', param: 'images' });
    expect(untouched.isDone()).toBe(false);
  });

  it('REFERENCE_URL_ALLOW_HOSTS lets an internal host through', async () => {
    const allowing = await start(hubConfig({ REFERENCE_URL_ALLOW_HOSTS: 'assets.internal' }));
    try {
      const scope = nock(HUB)
        .post('/hub/v1/tasks', (b: { input?: { image_urls?: string[] } }) => JSON.stringify(b.input?.image_urls) === JSON.stringify(['http://assets.internal/a.png']))
        .reply(201, ACCEPTED);
      const r = await postJson(`${allowing.url}/v1/images/tasks`, { model: 'NanoBanana', prompt: 'p', image: 'http://assets.internal/a.png' }, auth(KEY_A));
      expect(r.status).toBe(201);
      scope.done();
    } finally {
      await allowing.close();
    }
  });
});

describe('task ids are not enumerable', () => {
  it('task_ + at least 22 base64url characters (128 random bits); a neighbouring or foreign id is 404', async () => {
    const gw = await start(hubConfig());
    try {
      const scope = hubAccepts(2);
      const ids: string[] = [];
      for (let i = 0; i < 2; i += 1) ids.push(((await postJson(`${gw.url}/v1/images/tasks`, NANO, auth(KEY_A))).body as { task_id: string }).task_id);
      scope.done();
      for (const id of ids) {
        expect(id).toMatch(/^task_[A-Za-z0-9_-]{22,}$/);
        expect(Buffer.from(id.slice(5), 'base64url').length).toBeGreaterThanOrEqual(16);
      }
      const id = ids[0] as string;
      const last = id.slice(-2, -1);
      const neighbours = [`${id.slice(0, -2)}${last === 'A' ? 'B' : 'A'}${id.slice(-1)}`, `${id.slice(0, -1)}${id.endsWith('A') ? 'Q' : 'A'}`];
      for (const guess of neighbours) {
        const r = await call(`${gw.url}/v1/images/tasks/${guess}`, { headers: auth(KEY_A) });
        expectEnvelope(r, 404, { code: 'task_not_found', message: 'No task with this id exists for this API key. Check the task_id returned by the submit call.', param: 'task_id' });
      }
      const foreign = await call(`${gw.url}/v1/images/tasks/${id}`, { headers: auth(KEY_B) });
      expect(foreign.status).toBe(404);
      expect(foreign.body).toStrictEqual((await call(`${gw.url}/v1/images/tasks/${neighbours[0] as string}`, { headers: auth(KEY_B) })).body);
    } finally {
      await gw.close();
    }
  });
});
