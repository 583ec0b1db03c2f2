/**
 * The HTTP layer over a real socket against a nock'ed hub: error envelopes, auth, limits, ownership,
 * upstream failure classes, and that rejected requests never reach the upstream.
 */
import nock from 'nock';
import { errorEnvelopeSchema } from '../../src/platform/task';
import type { Gateway } from '../../src/http/gateway';
import { auth, call, HUB, HUB_KEY, hubConfig, KEY_A, KEY_B, postJson, start } from './gateway-support';

const NANO = { model: 'NanoBanana2-0.5K', prompt: 'A small red cube', aspect_ratio: '1:1' };
const HUB_NANO_BODY = { model: 'nano-banana-2', input: { prompt: 'A small red cube', num_images: 1, output_format: 'png', aspect_ratio: '1:1', resolution: '0.5K' } };

let gw: Gateway;
let tasks: string;

beforeAll(async () => {
  gw = await start(hubConfig({ BODY_LIMIT_BYTES: '4096', UPLOAD_LIMIT_BYTES: '1024', POLL_INTERVAL_MS: '1', LOG_LEVEL: 'warn' }));
  tasks = `${gw.url}/v1/images/tasks`;
});

afterAll(async () => {
  await gw.close();
});

afterEach(() => {
  nock.cleanAll();
});

/** A submit scope that must NOT be used by a rejected request. */
function untouchedHub(): nock.Scope {
  return nock(HUB).post('/hub/v1/tasks').reply(201, { task_id: 'hub-never', status: 'queued', ready: false });
}

function expectEnvelope(body: unknown, expected: object): void {
  expect(errorEnvelopeSchema.safeParse(body).success).toBe(true);
  expect(body).toStrictEqual({ ...expected, data: null });
}

describe('error envelopes (no upstream call)', () => {
  it('bad JSON -> 400 invalid_request', async () => {
    const scope = untouchedHub();
    const r = await call(tasks, { method: 'POST', headers: { ...auth(KEY_A), 'content-type': 'application/json' }, body: '{"model": ' });
    expect(r.status).toBe(400);
    expectEnvelope(r.body, { code: 'invalid_request', message: 'The request body is not valid JSON; send a JSON object.' });
    expect(scope.isDone()).toBe(false);
  });

  it('empty JSON body -> 400 invalid_request', async () => {
    const r = await call(tasks, { method: 'POST', headers: { ...auth(KEY_A), 'content-type': 'application/json' }, body: '' });
    expect(r.status).toBe(400);
    expectEnvelope(r.body, { code: 'invalid_request', message: 'The JSON body is empty; send a JSON object.' });
  });

  it('wrong content type -> 415 unsupported_media_type', async () => {
    const scope = untouchedHub();
    const r = await call(tasks, { method: 'POST', headers: { ...auth(KEY_A), 'content-type': 'text/plain' }, body: JSON.stringify(NANO) });
    expect(r.status).toBe(415);
    expectEnvelope(r.body, { code: 'unsupported_media_type', message: 'Unsupported Content-Type; send application/json or multipart/form-data.' });
    expect(scope.isDone()).toBe(false);
  });

  it('body over BODY_LIMIT_BYTES -> 413 payload_too_large', async () => {
    const scope = untouchedHub();
    const r = await postJson(tasks, { ...NANO, prompt: 'x'.repeat(5000) }, auth(KEY_A));
    expect(r.status).toBe(413);
    expectEnvelope(r.body, { code: 'payload_too_large', message: 'The request body is larger than 4096 bytes; send a smaller body or upload images as files.' });
    expect(scope.isDone()).toBe(false);
  });

  it('uploaded file over UPLOAD_LIMIT_BYTES -> 413 payload_too_large naming image', async () => {
    const scope = untouchedHub();
    const form = new FormData();
    form.append('model', 'gpt-image-2');
    form.append('prompt', 'p');
    form.append('size', '1024x1024');
    form.append('image', new Blob([Buffer.alloc(2048, 1)], { type: 'image/png' }), 'big.png');
    const r = await call(tasks, { method: 'POST', headers: auth(KEY_A), body: form });
    expect(r.status).toBe(413);
    expectEnvelope(r.body, { code: 'payload_too_large', message: 'An uploaded image is larger than 1024 bytes; send a smaller file.', param: 'image' });
    expect(scope.isDone()).toBe(false);
  });

  it('a file in another multipart field -> 400 unknown_parameter', async () => {
    const form = new FormData();
    form.append('model', 'gpt-image-2');
    form.append('photo', new Blob([Buffer.alloc(10, 1)], { type: 'image/png' }), 'a.png');
    const r = await call(tasks, { method: 'POST', headers: auth(KEY_A), body: form });
    expect(r.status).toBe(400);
    expectEnvelope(r.body, {
      code: 'unknown_parameter',
      message: 'The file field "photo" is not accepted; upload reference images in the field "image" (it may repeat).',
      param: 'photo',
    });
  });

  it('unknown route -> 404 route_not_found; wrong method -> 405 with Allow', async () => {
    const r = await call(`${gw.url}/v2/whatever`, { headers: auth(KEY_A) });
    expect(r.status).toBe(404);
    expectEnvelope(r.body, {
      code: 'route_not_found',
      message: 'No route GET /v2/whatever. The platform API is POST /v1/images/tasks and GET /v1/images/tasks/{task_id}.',
    });
    const m = await call(tasks, { method: 'GET', headers: auth(KEY_A) });
    expect(m.status).toBe(405);
    expect(m.headers.get('allow')).toBe('POST');
    expectEnvelope(m.body, { code: 'method_not_allowed', message: 'GET is not allowed on /v1/images/tasks; use POST.' });
  });

  it.each([
    ['missing', {}],
    ['wrong key', auth('sk-not-a-real-key')],
    ['wrong scheme', { authorization: `Basic ${KEY_A}` }],
    ['empty bearer', { authorization: 'Bearer ' }],
  ])('401 unauthorized: %s', async (_label, headers) => {
    const scope = untouchedHub();
    const r = await postJson(tasks, NANO, headers as Record<string, string>);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
    expectEnvelope(r.body, { code: 'unauthorized', message: 'Missing or unknown API key; send the header "Authorization: Bearer <key>".' });
    const q = await call(`${tasks}/task_AAAAAAAAAAAAAAAAAAAAAA`, { headers: headers as Record<string, string> });
    expect(q.status).toBe(401);
    expect(scope.isDone()).toBe(false);
  });

  it('401 comes before body parsing: an oversized body without a key is still 401', async () => {
    const r = await postJson(tasks, { prompt: 'x'.repeat(10_000) }, {});
    expect(r.status).toBe(401);
  });

  it('validation errors are envelopes and reach no upstream', async () => {
    const scope = untouchedHub();
    const r = await postJson(tasks, { ...NANO, aspectRatio: '1:1' }, auth(KEY_A));
    expect(r.status).toBe(400);
    expect((r.body as { code: string }).code).toBe('unknown_parameter');
    expect((r.body as { param: string }).param).toBe('aspectRatio');
    const m = await postJson(tasks, { ...NANO, model: 'NanoBananaPro-8K' }, auth(KEY_A));
    expect(m.status).toBe(400);
    expect((m.body as { code: string }).code).toBe('model_unavailable');
    expect(scope.isDone()).toBe(false);
  });
});

describe('ownership', () => {
  it("key B gets 404 for key A's task; unknown and malformed ids are 404", async () => {
    const scope = nock(HUB)
      .post('/hub/v1/tasks', HUB_NANO_BODY)
      .reply(201, { task_id: 'hub-1', status: 'queued', ready: false })
      .get('/hub/v1/tasks/hub-1')
      .reply(200, { task_id: 'hub-1', status: 'running', ready: false, progress: 40 });
    const created = await postJson(tasks, NANO, auth(KEY_A));
    expect(created.status).toBe(201);
    const id = (created.body as { task_id: string }).task_id;
    expect(created.headers.get('location')).toBe(`/v1/images/tasks/${id}`);

    const own = await call(`${tasks}/${id}`, { headers: auth(KEY_A) });
    expect(own.status).toBe(200);
    expect(own.body).toStrictEqual({
      code: 'success',
      message: '',
      data: { task_id: id, status: 'processing', progress: '40%', result_url: null, metadata: { task_type: 'text2image', result_count: 0 }, error: null },
    });
    scope.done();

    const foreign = await call(`${tasks}/${id}`, { headers: auth(KEY_B) });
    expect(foreign.status).toBe(404);
    expect((foreign.body as { code: string }).code).toBe('task_not_found');
    const unknown = await call(`${tasks}/task_${'A'.repeat(22)}`, { headers: auth(KEY_A) });
    expect(unknown.status).toBe(404);
    expect((unknown.body as { code: string }).code).toBe('task_not_found');
    const malformed = await call(`${tasks}/not-a-task`, { headers: auth(KEY_A) });
    expect(malformed.status).toBe(404);
    expectEnvelope(malformed.body, { code: 'task_not_found', message: 'No task with this id exists for this API key. Check the task_id returned by the submit call.', param: 'task_id' });
    // The foreign query must not have polled the hub either: no scope is pending or unmatched.
    expect(nock.pendingMocks()).toStrictEqual([]);
  });
});

describe('upstream failure classes -> envelopes', () => {
  it('hub 500 -> 502 upstream_error', async () => {
    const scope = nock(HUB).post('/hub/v1/tasks').reply(500, { error: 'boom' });
    const r = await postJson(tasks, NANO, auth(KEY_A));
    expect(r.status).toBe(502);
    expect((r.body as { code: string }).code).toBe('upstream_error');
    expect(errorEnvelopeSchema.safeParse(r.body).success).toBe(true);
    expect(r.text).not.toContain(HUB_KEY);
    scope.done();
  });

  it('hub 422 -> 400 upstream_rejected with the reason', async () => {
    const scope = nock(HUB).post('/hub/v1/tasks').reply(422, { error: { message: `prompt flagged by safety system (key ${'hub-secret-key-never-shown'})` } });
    const r = await postJson(tasks, NANO, auth(KEY_A));
    expect(r.status).toBe(400);
    expect((r.body as { code: string }).code).toBe('upstream_rejected');
    expect((r.body as { message: string }).message).toContain('prompt flagged by safety system');
    expect(r.text).not.toContain('hub-secret-key-never-shown');
    scope.done();
  });
});
