/**
 * The bridge plugin in real Fastify hosts on real sockets (docs/embedding.md): a host that registered
 * @fastify/multipart itself, a host onRequest hook that refuses with 403, the bridge mounted twice (its per-request state is a
 * request decorator in each registration's own context), probes moved or off under the
 * prefix, fastify-plugin metadata, cleanup in onClose, and no type declarations leaking into the host.
 */
import type { AddressInfo } from 'node:net';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import nock from 'nock';
import type { DependencyContainer } from 'tsyringe';
import { closeAppContainer, createAppContainer } from '../../src/di/container';
import { LOGGER, TASK_STORE } from '../../src/di/tokens';
import { createBridgePlugin } from '../../src/http/plugin';
import type { TaskStore } from '../../src/tasks/ports';
import { CapturingLogger } from '../support/capturing-logger';
import { auth, call, HUB, hubConfig, KEY_A } from './gateway-support';

// The plugin declares no `bridge` (or any) property on the host's FastifyRequest: this line does not compile
// while a `declare module 'fastify'` in the package adds one to every host that imports it.
const noAugmentation: 'bridge' extends keyof FastifyRequest ? 'leaks' : 'clean' = 'clean';

let container: DependencyContainer;
let logger: CapturingLogger;
const hosts: FastifyInstance[] = [];

beforeEach(() => {
  logger = new CapturingLogger();
  container = createAppContainer(hubConfig({ UPLOAD_LIMIT_BYTES: '1024' }), { processMetrics: false, register: (c) => c.register(LOGGER, { useValue: logger }) });
});

afterEach(async () => {
  for (const h of hosts.splice(0)) await h.close();
  await closeAppContainer(container);
  nock.cleanAll();
});

async function listen(host: FastifyInstance): Promise<string> {
  hosts.push(host);
  await host.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(host.server.address() as AddressInfo).port}`;
}

it('a host that registered @fastify/multipart itself mounts the bridge, which reads uploads with its own limits', async () => {
  expect(noAugmentation).toBe('clean');
  const host = Fastify();
  await host.register(multipart, { limits: { fileSize: 50 * 1024 * 1024 } });
  host.post('/host-upload', async (request) => ({ parts: (await request.file())?.fieldname }));
  await host.register(createBridgePlugin(container), { prefix: '/bridge' });
  const base = await listen(host);

  const scope = nock(HUB)
    .post('/hub/v1/tasks', (body: { model: string; input: { image_urls: string[] } }) => body.model === 'nano-banana/edit' && body.input.image_urls[0]?.startsWith('data:image/png;base64,') === true)
    .reply(201, { task_id: 'fy-1', status: 'queued', ready: false });
  const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
  const form = new FormData();
  form.set('model', 'NanoBanana');
  form.set('prompt', 'make it blue');
  form.set('image', new Blob([png], { type: 'image/png' }), 'in.png');
  const created = await call(`${base}/bridge/v1/images/tasks`, { method: 'POST', headers: auth(KEY_A), body: form });
  expect(created.status).toBe(201);
  scope.done();

  // The bridge's UPLOAD_LIMIT_BYTES (1 KiB here) applies, not the host's 50 MiB.
  const big = new FormData();
  big.set('model', 'NanoBanana');
  big.set('prompt', 'make it blue');
  big.set('image', new Blob([Buffer.alloc(4096, 1)], { type: 'image/png' }), 'big.png');
  const refused = await call(`${base}/bridge/v1/images/tasks`, { method: 'POST', headers: auth(KEY_A), body: big });
  expect(refused.status).toBe(413);
  expect((refused.body as { code: string }).code).toBe('payload_too_large');

  // And the host's own multipart route still works.
  const own = new FormData();
  own.set('doc', new Blob(['x']), 'x.txt');
  expect((await call(`${base}/host-upload`, { method: 'POST', body: own })).body).toStrictEqual({ parts: 'doc' });
});

it("a host onRequest hook's 403 on a bridge route keeps its status and reaches the host's error handler, not logged as a bridge failure", async () => {
  const host = Fastify();
  host.addHook('onRequest', async (request) => {
    if (request.headers['x-tenant'] !== 'acme') throw Object.assign(new Error('tenant not allowed'), { statusCode: 403 });
  });
  host.setErrorHandler(async (err: Error & { statusCode?: number }, _request, reply) => reply.code(err.statusCode ?? 500).send({ host_error: err.message }));
  await host.register(createBridgePlugin(container), { prefix: '/bridge' });
  const base = await listen(host);

  const res = await call(`${base}/bridge/v1/images/tasks/task_AAAAAAAAAAAAAAAAAAAAAA`, { headers: auth(KEY_A) });
  expect(res.status).toBe(403);
  expect(res.body).toStrictEqual({ host_error: 'tenant not allowed' });
  expect(logger.lines.filter((l) => l.msg === 'unhandled error')).toStrictEqual([]);
  // Past the host's hook, the bridge answers as usual.
  const ok = await call(`${base}/bridge/v1/images/tasks/task_AAAAAAAAAAAAAAAAAAAAAA`, { headers: { ...auth(KEY_A), 'x-tenant': 'acme' } });
  expect(ok.status).toBe(404);
  expect((ok.body as { code: string }).code).toBe('task_not_found');
});

it("one host mounts the bridge twice: each registration keeps its own per-request state, and the host's routes get none of it", async () => {
  const host = Fastify();
  host.get('/host', async () => ({ ok: true }));
  await host.register(createBridgePlugin(container), { prefix: '/a' });
  await host.register(createBridgePlugin(container), { prefix: '/b' });
  const base = await listen(host);
  for (const prefix of ['/a', '/b']) {
    const res = await fetch(`${base}${prefix}/v1/images/tasks/task_AAAAAAAAAAAAAAAAAAAAAA`, { headers: { ...auth(KEY_A), 'x-request-id': `req-${prefix.slice(1)}` } });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toBe(`req-${prefix.slice(1)}`);
    expect(((await res.json()) as { code: string }).code).toBe('task_not_found');
  }
  const own = await fetch(`${base}/host`);
  expect(await own.json()).toStrictEqual({ ok: true });
  expect(own.headers.get('x-request-id')).toBeNull();
});

it('probes and metrics under the prefix can be moved or turned off', async () => {
  const host = Fastify();
  await host.register(createBridgePlugin(container), { prefix: '/bridge', healthzPath: '/live', readyzPath: false, metricsPath: false });
  const base = await listen(host);
  expect((await call(`${base}/bridge/live`)).body).toStrictEqual({ status: 'ok' });
  for (const path of ['/bridge/healthz', '/bridge/readyz', '/bridge/metrics']) {
    const res = await call(`${base}${path}`);
    expect(res.status).toBe(404);
    expect((res.body as { code: string }).code).toBe('route_not_found');
  }
});

it('follows fastify-plugin conventions: a name, the fastify major it supports, encapsulation, cleanup in onClose when asked', async () => {
  const plugin = createBridgePlugin(container);
  expect((plugin as unknown as Record<symbol, unknown>)[Symbol.for('plugin-meta')]).toMatchObject({ name: 'image-task-bridge', fastify: '5.x' });
  const host = Fastify();
  const store = container.resolve<TaskStore>(TASK_STORE);
  const closed = jest.spyOn(store, 'close');
  await host.register(plugin, { prefix: '/bridge', closeContainer: true });
  await host.ready();
  expect(host.hasPlugin('image-task-bridge')).toBe(true);
  // Encapsulated: the bridge's JSON parser and error handler stay inside its prefix.
  expect(host.hasContentTypeParser('text/plain')).toBe(true);
  expect(closed).not.toHaveBeenCalled();
  await host.close();
  expect(closed).toHaveBeenCalledTimes(1);
});
