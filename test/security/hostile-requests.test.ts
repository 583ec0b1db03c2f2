/**
 * Attacks from a hostile client over HTTP (issue 10, docs/reliability.md "hostile clients"): a real gateway on
 * 127.0.0.1:0 in front of a nock'ed hub. Every body stays a few MiB so the file is fast.
 */
import http from 'node:http';
import nock from 'nock';
import type { Gateway } from '../../src/http/gateway';
import { MAX_JSON_DEPTH } from '../../src/http/json-body';
import { auth, call, HUB, hubConfig, KEY_A, postJson, start } from '../http/gateway-support';

const ACCEPTED = { task_id: 'hub-job-1', status: 'queued', ready: false };

afterEach(() => nock.cleanAll());

/** POST raw bytes; resolves with status and parsed body (node:http, so large bodies stream). */
function postRaw(url: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(url, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text.length > 0 ? (JSON.parse(text) as unknown) : undefined });
      });
    });
    req.setTimeout(15_000, () => req.destroy(new Error('no answer within 15 s')));
    // The server may answer and close before the whole body is written: only a missing answer is a failure.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.end(body);
  });
}

describe('deeply nested JSON', () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await start(hubConfig());
  });
  afterAll(() => gw.close());

  it('a body nested 2 million levels deep is 400 invalid_request naming the depth limit, and /healthz answers meanwhile', async () => {
    const untouched = nock(HUB).post('/hub/v1/tasks').reply(201, ACCEPTED);
    const depth = 2_000_000;
    const body = Buffer.from(`{"model":"NanoBanana","prompt":"p","images":${'['.repeat(depth)}${']'.repeat(depth)}}`);
    const deep = [1, 2, 3].map(() => postRaw(`${gw.url}/v1/images/tasks`, body, { ...auth(KEY_A), 'content-type': 'application/json' }));
    const health = call(`${gw.url}/healthz`);
    const answers = await Promise.all(deep);
    expect((await health).status).toBe(200);
    for (const r of answers) {
      expect(r).toStrictEqual({
        status: 400,
        body: { code: 'invalid_request', message: `The JSON body is nested more than ${MAX_JSON_DEPTH} levels deep; a submit body needs 2 (an object holding the images array).`, data: null },
      });
    }
    expect(untouched.isDone()).toBe(false);
  });

  it('brackets inside strings are not nesting: a 10,000-character prompt of brackets is accepted', async () => {
    const prompt = '[{'.repeat(5000);
    const scope = nock(HUB)
      .post('/hub/v1/tasks', (b: { input?: { prompt?: string } }) => b.input?.prompt === prompt)
      .reply(201, ACCEPTED);
    const r = await postJson(`${gw.url}/v1/images/tasks`, { model: 'NanoBanana', prompt }, auth(KEY_A));
    expect(r.status).toBe(201);
    scope.done();
  });

  it(`nesting of exactly ${MAX_JSON_DEPTH} levels is parsed (and refused by the schema, not the depth check)`, async () => {
    const images = `${'['.repeat(MAX_JSON_DEPTH - 1)}${']'.repeat(MAX_JSON_DEPTH - 1)}`;
    const r = await postRaw(`${gw.url}/v1/images/tasks`, Buffer.from(`{"model":"NanoBanana","prompt":"p","images":${images}}`), { ...auth(KEY_A), 'content-type': 'application/json' });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'invalid_parameter', param: 'images' });
  });
});
