/**
 * Attacks from a hostile client over HTTP (issue 10, docs/reliability.md "hostile clients"): a real gateway on
 * 127.0.0.1:0 in front of a nock'ed hub. Every body stays a few MiB so the file is fast.
 */
import http from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import nock from 'nock';
import type { Gateway } from '../../src/http/gateway';
import { MAX_JSON_DEPTH } from '../../src/http/json-body';
import { auth, call, HUB, hubConfig, KEY_A, postJson, start } from '../http/gateway-support';

const ACCEPTED = { task_id: 'hub-job-1', status: 'queued', ready: false };

afterEach(() => nock.cleanAll());

/** POST raw bytes; resolves with status and parsed body (node:http, so large bodies stream). */
function postRaw(url: string, body: Buffer, headers: Record<string, string>, chunked = false): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const framing = chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(body.length) };
    const req = http.request(url, { method: 'POST', headers: { ...headers, ...framing } }, (res) => {
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
    if (!chunked) return void req.end(body);
    // Chunked, in 64 KiB pieces: no Content-Length for the server to refuse up front.
    for (let at = 0; at < body.length; at += 64 * 1024) req.write(body.subarray(at, at + 64 * 1024));
    req.end();
  });
}

/** A multipart body of text fields and `image` files. */
function multipart(boundary: string, fields: Record<string, string>, files: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  files.forEach((bytes, i) => {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="ref${i}.png"\r\nContent-Type: image/png\r\n\r\n`), bytes, Buffer.from('\r\n'));
  });
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(parts);
}

/** A "PNG" of `size` bytes: the signature (what the bridge sniffs) and filler. */
function png(size: number, fill: number): Buffer {
  const bytes = Buffer.alloc(size, fill);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes);
  return bytes;
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

describe('multipart bodies count against BODY_LIMIT_BYTES', () => {
  const MiB = 1024 * 1024;
  let gw: Gateway;
  beforeAll(async () => {
    gw = await start(hubConfig({ BODY_LIMIT_BYTES: String(2 * MiB), UPLOAD_LIMIT_BYTES: String(MiB) }));
  });
  afterAll(() => gw.close());
  const boundary = 'hardening-boundary';
  const type = { 'content-type': `multipart/form-data; boundary=${boundary}` };
  const fields = { model: 'NanoBanana', prompt: 'blend these' };

  it.each([
    ['with a Content-Length', false],
    ['chunked (no Content-Length)', true],
  ])('four files of 0.9 MiB (each under the per-file limit, together over the body limit) are 413 payload_too_large, %s; no upstream call', async (_how, chunked) => {
    const untouched = nock(HUB).post('/hub/v1/tasks').reply(201, ACCEPTED);
    const files = [1, 2, 3, 4].map((i) => png(Math.floor(0.9 * MiB), i));
    const r = await postRaw(`${gw.url}/v1/images/tasks`, multipart(boundary, fields, files), { ...auth(KEY_A), ...type }, chunked);
    expect(r).toStrictEqual({
      status: 413,
      body: { code: 'payload_too_large', message: `The multipart body is larger than ${2 * MiB} bytes (BODY_LIMIT_BYTES, all parts together); send fewer or smaller images.`, data: null },
    });
    expect(untouched.isDone()).toBe(false);
  });

  it('two files of 0.9 MiB (together under the body limit) are accepted and sent on as data URIs', async () => {
    const files = [png(Math.floor(0.9 * MiB), 1), png(Math.floor(0.9 * MiB), 2)];
    const expected = files.map((f) => `data:image/png;base64,${f.toString('base64')}`);
    const scope = nock(HUB)
      .post('/hub/v1/tasks', (b: { model?: string; input?: { image_urls?: string[] } }) => b.model === 'nano-banana/edit' && JSON.stringify(b.input?.image_urls) === JSON.stringify(expected))
      .reply(201, ACCEPTED);
    const r = await postRaw(`${gw.url}/v1/images/tasks`, multipart(boundary, fields, files), { ...auth(KEY_A), ...type }, true);
    expect(r.status).toBe(201);
    scope.done();
  });
});

describe('MAX_CONNECTIONS', () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await start(hubConfig({ MAX_CONNECTIONS: '2' }));
  });
  afterAll(() => gw.close());

  /** Opens a connection, sends GET /healthz (keep-alive) and resolves with the raw answer; the socket stays open. */
  function healthOver(socket: Socket): Promise<string> {
    return new Promise((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5000);
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        const head = text.indexOf('\r\n\r\n');
        const length = Number(/content-length: (\d+)/i.exec(text)?.[1] ?? -1);
        if (head !== -1 && length >= 0 && text.length >= head + 4 + length) {
          clearTimeout(timer);
          resolve(text);
        }
      });
      socket.on('error', reject);
      socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
    });
  }
  const open = (): Promise<Socket> => {
    const { port } = new URL(gw.url);
    return new Promise((resolve, reject) => {
      const socket = netConnect(Number(port), '127.0.0.1', () => resolve(socket));
      socket.on('error', reject);
    });
  };

  it('a connection over the cap gets 503 not_ready with Retry-After and is closed; the open ones keep working, and a freed slot is reused', async () => {
    const first = await open();
    const second = await open();
    try {
      expect(await healthOver(first)).toMatch(/^HTTP\/1\.1 200 /);
      expect(await healthOver(second)).toMatch(/^HTTP\/1\.1 200 /);
      const third = await open();
      const refused = await healthOver(third);
      third.destroy();
      expect(refused).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
      expect(refused).toMatch(/\r\nretry-after: 1\r\n/i);
      expect(refused).toMatch(/\r\nConnection: close\r\n/);
      expect(JSON.parse(refused.slice(refused.indexOf('\r\n\r\n') + 4))).toStrictEqual({
        code: 'not_ready',
        message: 'This server already holds its 2 connections (MAX_CONNECTIONS); retry shortly, or reuse a keep-alive connection.',
        data: null,
      });
      // The connections that were open are not disturbed.
      expect(await healthOver(first)).toMatch(/^HTTP\/1\.1 200 /);
      first.destroy();
      // The server frees the slot when it sees the close: retry a few times rather than guess how long that takes.
      let answer = '';
      for (let attempt = 0; attempt < 50 && !answer.startsWith('HTTP/1.1 200 '); attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50));
        const fourth = await open();
        answer = await healthOver(fourth);
        fourth.destroy();
      }
      expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      first.destroy();
      second.destroy();
    }
  });
});

describe('the upstream body bound follows BODY_LIMIT_BYTES', () => {
  it('with the body limit raised for 16 references of 10 MiB, the upstream client accepts their base64 body', async () => {
    const { createAppContainer, closeAppContainer } = await import('../../src/di/container');
    const { UPSTREAM_CLIENT_OPTIONS } = await import('../../src/di/tokens');
    const MiB = 1024 * 1024;
    const container = createAppContainer(hubConfig({ BODY_LIMIT_BYTES: String(161 * MiB) }), { processMetrics: false });
    try {
      const options = container.resolve<{ maxRequestBytes: number }>(UPSTREAM_CLIENT_OPTIONS);
      expect(options.maxRequestBytes).toBeGreaterThanOrEqual(Math.ceil((16 * 10 * MiB * 4) / 3));
      expect(options.maxRequestBytes).toBe(Math.ceil((161 * MiB * 4) / 3) + MiB);
    } finally {
      await closeAppContainer(container);
    }
  });
});
