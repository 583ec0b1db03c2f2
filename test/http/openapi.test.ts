/**
 * The OpenAPI 3.1 document: valid per an OpenAPI validator, generated from the zod schemas (not restated),
 * served at /openapi.json (with the mount prefix as its server URL, or not at all when turned off), and true
 * of the real server: every response below, from a real gateway on a loopback socket in front of the
 * sandbox hub, validates against the schema the document declares for its operation and status.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import sharp from 'sharp';
import { z } from 'zod';
import { loadConfig } from '../../src/config/config';
import { closeAppContainer, createAppContainer } from '../../src/di/container';
import { BLOB_ERRORS, buildOpenApiDocument, QUERY_ERRORS, SUBMIT_ERRORS } from '../../src/http/openapi';
import { createBridgePlugin } from '../../src/http/plugin';
import { createRequestHandler } from '../../src/http/server';
import { ERROR_CODES, ERROR_DESCRIPTIONS, ERROR_STATUS } from '../../src/platform/errors';
import { SUBMIT_FIELDS, submitRequestSchema } from '../../src/platform/submit-request';
import { callbackUrlFieldSchema } from '../../src/webhooks/callback-url';
import { OpenApiChecker, validateOpenApiDocuments } from '../support/openapi-check';
import { start } from './gateway-support';
import type { Gateway } from '../../src/http/gateway';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const KEY = 'sk-openapi-alice-0001';
const doc = buildOpenApiDocument() as Json;

describe('the document', () => {
  it('is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator), also without probes and metrics and under a prefix', async () => {
    const trimmed = buildOpenApiDocument({ basePath: '/images', probes: false, metrics: false }) as Json;
    const broken = { ...doc, paths: { '/v1/images/tasks': { post: { responses: { '201': {} } } } } };
    const [full, short, bad] = await validateOpenApiDocuments([doc, trimmed, broken]);
    expect([full, short]).toStrictEqual([{ valid: true, version: '3.1' }, { valid: true, version: '3.1' }]);
    // The validator does reject: a response without its required description.
    expect(bad?.valid).toBe(false);
    expect(trimmed.servers).toStrictEqual([{ url: '/images' }]);
    const api = ['/v1/images/tasks', '/v1/images/tasks/{task_id}', '/v1/images/blobs/{key}', '/openapi.json'];
    expect(Object.keys(trimmed.paths)).toStrictEqual(api);
    expect(Object.keys(doc.paths)).toStrictEqual([...api, '/healthz', '/readyz', '/metrics']);
  });

  it('takes the request body from the zod schema: every field, strict, with its description', () => {
    // The platform request and the HTTP layer's callback_url (webhooks).
    const body = submitRequestSchema.extend({ callback_url: callbackUrlFieldSchema });
    const { $schema: _ignored, ...fromZod } = z.toJSONSchema(body, { target: 'draft-2020-12', io: 'input' });
    expect(doc.components.schemas.SubmitRequest).toStrictEqual(fromZod);
    expect(Object.keys(doc.components.schemas.SubmitRequest.properties)).toStrictEqual([...SUBMIT_FIELDS, 'callback_url']);
    expect(doc.components.schemas.SubmitRequest.additionalProperties).toBe(false);
    // The multipart form has the same fields; image also takes file parts.
    const multipart = doc.components.schemas.SubmitMultipartRequest;
    expect(Object.keys(multipart.properties)).toStrictEqual([...SUBMIT_FIELDS, 'callback_url']);
    expect(JSON.stringify(multipart.properties.image)).toContain('"format":"binary"');
    const post = doc.paths['/v1/images/tasks'].post;
    expect(Object.keys(post.requestBody.content)).toStrictEqual(['application/json', 'multipart/form-data']);
  });

  it('declares the extensions: Idempotency-Key, metadata.warnings, bearer auth, the Location header', () => {
    const post = doc.paths['/v1/images/tasks'].post;
    expect(post.parameters[0]).toMatchObject({ name: 'Idempotency-Key', in: 'header', required: false, schema: { pattern: '^[\\x21-\\x7e]{1,255}$' } });
    expect(post.responses['201'].headers.Location).toStrictEqual({ $ref: '#/components/headers/Location' });
    expect(doc.components.schemas.Task.properties.metadata.properties.warnings).toMatchObject({ type: 'array', items: { $ref: '#/components/schemas/Warning' } });
    expect(doc.components.securitySchemes).toStrictEqual({ bearerAuth: { type: 'http', scheme: 'bearer', description: expect.any(String) } });
    expect(doc.security).toStrictEqual([{ bearerAuth: [] }]);
    for (const path of ['/v1/images/blobs/{key}', '/openapi.json', '/healthz', '/readyz', '/metrics']) expect(doc.paths[path].get.security).toStrictEqual([]);
  });

  it('lists every error code in the envelope, and each operation\'s codes under their own HTTP status with their description', () => {
    expect(doc.components.schemas.ErrorEnvelope.properties.code.enum).toStrictEqual(ERROR_CODES);
    const check = (responses: Json, codes: readonly string[]): void => {
      const declared: string[] = [];
      for (const [status, response] of Object.entries<Json>(responses)) {
        if (Number(status) < 400) continue;
        const enumCodes: string[] = response.content['application/json'].schema.allOf[1].properties.code.enum;
        for (const code of enumCodes) {
          expect([code, ERROR_STATUS[code as keyof typeof ERROR_STATUS]]).toStrictEqual([code, Number(status)]);
          expect(response.description).toContain(`\`${code}\`: ${ERROR_DESCRIPTIONS[code as keyof typeof ERROR_DESCRIPTIONS]}`);
        }
        declared.push(...enumCodes);
      }
      expect(declared.sort()).toStrictEqual([...codes].sort());
    };
    check(doc.paths['/v1/images/tasks'].post.responses, SUBMIT_ERRORS);
    check(doc.paths['/v1/images/tasks/{task_id}'].get.responses, QUERY_ERRORS);
    check(doc.paths['/readyz'].get.responses, ['not_ready']);
    check(doc.paths['/v1/images/blobs/{key}'].get.responses, BLOB_ERRORS);
    expect(doc.paths['/v1/images/tasks'].post.responses['401'].headers['WWW-Authenticate']).toBeDefined();
    expect(doc.paths['/v1/images/tasks'].post.responses['429'].headers['Retry-After']).toBeDefined();
  });
});

describe('the real server against the document', () => {
  let gw: Gateway;
  let limited: Gateway;
  let checker: OpenApiChecker;
  let png: Buffer;

  beforeAll(async () => {
    const env = { PORT: '0', LOG_LEVEL: 'silent', POLL_INTERVAL_MS: '5', GATEWAY_API_KEYS: `${KEY}:alice`, BODY_LIMIT_BYTES: '65536' };
    gw = await start(loadConfig(env), { sandboxTiming: { queuedMs: 10, runningMs: 30 } });
    limited = await start(loadConfig({ ...env, RATE_LIMIT_PER_MINUTE: '1', RATE_LIMIT_BURST: '1' }), { sandboxTiming: { queuedMs: 10, runningMs: 30 } });
    png = await sharp({ create: { width: 32, height: 24, channels: 3, background: '#cc3366' } }).png().toBuffer();
  });

  afterAll(async () => {
    await gw?.close();
    await limited?.close();
  });

  /** One exchange, checked against the document the server itself serves. */
  async function exchange(base: string, method: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: Json; headers: Headers }> {
    const res = await fetch(`${base}${path}`, { method, ...init });
    const text = await res.text();
    const contentType = res.headers.get('content-type');
    const body = (contentType ?? '').includes('json') ? (JSON.parse(text) as Json) : (text as unknown as Json);
    checker.response(method, path, res.status, contentType, body);
    return { status: res.status, body, headers: res.headers };
  }
  const authz = { authorization: `Bearer ${KEY}` };
  const postJson = (base: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Json; headers: Headers }> => {
    checker.request('POST', '/v1/images/tasks', 'application/json', body);
    return exchange(base, 'POST', '/v1/images/tasks', { headers: { ...authz, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  };

  it('serves the document at /openapi.json without a key; submits, queries and error envelopes match it', async () => {
    const served = await fetch(`${gw.url}/openapi.json`);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const servedDoc = (await served.json()) as Json;
    expect(servedDoc).toStrictEqual(doc);
    checker = new OpenApiChecker(servedDoc);
    checker.response('GET', '/openapi.json', 200, served.headers.get('content-type'), servedDoc);

    // 201, JSON, with a converted parameter in metadata.warnings (1920x1080 is off the hub's 16-pixel grid).
    const created = await postJson(gw.url, { model: 'gpt-image-2', prompt: 'A blue glass sphere', size: '1920x1080', quality: 'low', seed: 7 });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/v1/images/tasks/${created.body.task_id}`);
    expect(created.body.metadata.warnings.map((w: Json) => w.code)).toStrictEqual(['size_adjusted', 'parameter_ignored']);

    // 200 until succeeded: every poll answer matches.
    let task: Json = created.body;
    for (let i = 0; i < 300 && task.status !== 'succeeded' && task.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 10));
      const queried = await exchange(gw.url, 'GET', `/v1/images/tasks/${created.body.task_id}`, { headers: authz });
      expect(queried.status).toBe(200);
      task = queried.body.data;
    }
    expect(task).toMatchObject({ status: 'succeeded', progress: '100%', metadata: { result_count: 1 } });

    // 201, multipart with a real PNG file part.
    const form = new FormData();
    form.append('model', 'gpt-image-2');
    form.append('prompt', 'Make it a studio photo');
    form.append('size', '1024x1024');
    form.append('n', '1');
    form.append('image', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'input.png');
    const multipart = await exchange(gw.url, 'POST', '/v1/images/tasks', { headers: authz, body: form });
    expect([multipart.status, multipart.body.metadata.task_type]).toStrictEqual([201, 'image2image']);

    // Idempotency-Key: the replay answers the same task; the same key with another body is 409.
    const nano = { model: 'NanoBanana2-0.5K', prompt: 'A red cube', aspect_ratio: '1:1' };
    const first = await postJson(gw.url, nano, { 'idempotency-key': 'openapi-test-1' });
    const replay = await postJson(gw.url, nano, { 'idempotency-key': 'openapi-test-1' });
    expect(replay.body.task_id).toBe(first.body.task_id);
    const conflict = await postJson(gw.url, { ...nano, prompt: 'A green cube' }, { 'idempotency-key': 'openapi-test-1' });
    expect([conflict.status, conflict.body.code]).toStrictEqual([409, 'idempotency_conflict']);

    // Error envelopes, each under its declared status with a code the document allows there.
    const errors: Array<[number, string]> = [];
    const note = (r: { status: number; body: Json }): void => void errors.push([r.status, r.body.code]);
    note(await exchange(gw.url, 'POST', '/v1/images/tasks', { headers: { ...authz, 'content-type': 'application/json' }, body: JSON.stringify({ ...nano, colour: 'red' }) }));
    note(await exchange(gw.url, 'POST', '/v1/images/tasks', { headers: { ...authz, 'content-type': 'application/json' }, body: JSON.stringify({ ...nano, model: 'NanoBanana9' }) }));
    note(await exchange(gw.url, 'POST', '/v1/images/tasks', { headers: { ...authz, 'content-type': 'application/json' }, body: JSON.stringify({ ...nano, aspect_ratio: '5:1' }) }));
    note(await exchange(gw.url, 'POST', '/v1/images/tasks', { headers: { ...authz, 'content-type': 'application/json' }, body: '{"model":' }));
    note(await exchange(gw.url, 'POST', '/v1/images/tasks', { headers: { 'content-type': 'application/json' }, body: JSON.stringify(nano) }));
    note(await exchange(gw.url, 'POST', '/v1/images/tasks', { headers: { ...authz, 'content-type': 'text/csv' }, body: 'a,b' }));
    note(await exchange(gw.url, 'POST', '/v1/images/tasks', { headers: { ...authz, 'content-type': 'application/json' }, body: JSON.stringify({ ...nano, prompt: 'x'.repeat(70_000) }) }));
    note(await exchange(gw.url, 'GET', '/v1/images/tasks/task_AAAAAAAAAAAAAAAAAAAAAAAA', { headers: authz }));
    note(await exchange(gw.url, 'GET', `/v1/images/tasks/${created.body.task_id}`, {}));
    note(await exchange(gw.url, 'GET', `/v1/images/blobs/${'A'.repeat(32)}.png`));
    note(await postJson(limited.url, nano));
    const rateLimited = await postJson(limited.url, nano);
    note(rateLimited);
    expect(rateLimited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(errors).toStrictEqual([
      [400, 'unknown_parameter'],
      [400, 'model_not_found'],
      [400, 'invalid_parameter'],
      [400, 'invalid_request'],
      [401, 'unauthorized'],
      [415, 'unsupported_media_type'],
      [413, 'payload_too_large'],
      [404, 'task_not_found'],
      [401, 'unauthorized'],
      [404, 'blob_not_found'],
      [201, undefined],
      [429, 'rate_limited'],
    ]);

    // Probes and metrics.
    expect((await exchange(gw.url, 'GET', '/healthz')).body).toStrictEqual({ status: 'ok' });
    expect((await exchange(gw.url, 'GET', '/readyz')).body).toStrictEqual({ status: 'ready' });
    expect((await exchange(gw.url, 'GET', '/metrics')).status).toBe(200);

    expect([...checker.seen].sort()).toStrictEqual(
      [
        'GET /healthz 200',
        'GET /metrics 200',
        'GET /openapi.json 200',
        'GET /readyz 200',
        'GET /v1/images/tasks/{task_id} 200',
        'GET /v1/images/tasks/{task_id} 401',
        'GET /v1/images/tasks/{task_id} 404',
        'GET /v1/images/blobs/{key} 404',
        'POST /v1/images/tasks 201',
        'POST /v1/images/tasks 400',
        'POST /v1/images/tasks 401',
        'POST /v1/images/tasks 409',
        'POST /v1/images/tasks 413',
        'POST /v1/images/tasks 415',
        'POST /v1/images/tasks 429',
      ].sort(),
    );
  });

  it('a response the document does not allow is caught (the checker can fail)', () => {
    expect(() => checker.response('GET', '/v1/images/tasks/task_AAAAAAAAAAAAAAAAAAAAAAAA', 404, 'application/json', { code: 'model_not_found', message: 'x', data: null })).toThrow(/does not match the document/);
    expect(() => checker.response('GET', '/v1/images/tasks/task_AAAAAAAAAAAAAAAAAAAAAAAA', 409, 'application/json', { code: 'idempotency_conflict', message: 'x', data: null })).toThrow(/does not declare/);
    expect(() => checker.response('POST', '/v1/images/tasks', 201, 'application/json', { task_id: 'task_x' })).toThrow(/does not match the document/);
  });
});

describe('mounting', () => {
  it('in an Express 5 host at /images the served document names /images as its server, and lists moved probes where they are', async () => {
    const container = createAppContainer(loadConfig({ PORT: '0', LOG_LEVEL: 'silent', GATEWAY_API_KEYS: KEY }), { processMetrics: false });
    const bridge = createRequestHandler(container, { healthzPath: '/live', readyzPath: false, metricsPath: false });
    const app = express();
    app.use('/images', bridge);
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/images/openapi.json`);
      expect(res.status).toBe(200);
      const served = (await res.json()) as Json;
      expect(served.servers).toStrictEqual([{ url: '/images' }]);
      expect(Object.keys(served.paths)).toStrictEqual(['/v1/images/tasks', '/v1/images/tasks/{task_id}', '/v1/images/blobs/{key}', '/openapi.json', '/live']);
      expect(served).toStrictEqual(buildOpenApiDocument({ basePath: '/images', paths: { healthz: '/live', readyz: null, metrics: null } }));
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await bridge.close();
      await closeAppContainer(container);
    }
  });

  const config = loadConfig({ PORT: '0', LOG_LEVEL: 'silent', GATEWAY_API_KEYS: KEY });

  it('under a fastify prefix the served document names the prefix as its server; openapi: false leaves the path to the host', async () => {
    const container = createAppContainer(config, { processMetrics: false });
    const host = Fastify();
    await host.register(createBridgePlugin(container), { prefix: '/images' });
    await host.register(createBridgePlugin(container, { openapi: false }), { prefix: '/plain' });
    try {
      const base = await host.listen({ port: 0, host: '127.0.0.1' });
      const served = await fetch(`${base}/images/openapi.json`);
      expect(served.status).toBe(200);
      expect(await served.json()).toStrictEqual(buildOpenApiDocument({ basePath: '/images' }));
      const off = await fetch(`${base}/plain/openapi.json`);
      expect([off.status, ((await off.json()) as Json).code]).toStrictEqual([404, 'route_not_found']);
    } finally {
      await host.close();
      await closeAppContainer(container);
    }
  });
});
