/**
 * Upstream failure classes that need their own gateway: a hub that times out (504) and a hub that refuses
 * connections (503). Both over real sockets.
 */
import { createServer } from 'node:net';
import nock from 'nock';
import { errorEnvelopeSchema } from '../../src/platform/task';
import { UPSTREAM_CLIENT_OPTIONS } from '../../src/di/tokens';
import { auth, HUB, HUB_KEY, hubConfig, KEY_A, postJson, start } from './gateway-support';

const NANO = { model: 'NanoBanana2-0.5K', prompt: 'A small red cube', aspect_ratio: '1:1' };

afterEach(() => nock.cleanAll());

it('a hub that does not answer in time -> 504 upstream_timeout', async () => {
  const gw = await start(hubConfig(), { register: (c) => c.register(UPSTREAM_CLIENT_OPTIONS, { useValue: { submitTimeoutMs: 100 } }) });
  try {
    const scope = nock(HUB).post('/hub/v1/tasks').delay(2000).reply(201, { task_id: 'late', status: 'queued', ready: false });
    const r = await postJson(`${gw.url}/v1/images/tasks`, NANO, auth(KEY_A));
    expect(r.status).toBe(504);
    expect(errorEnvelopeSchema.parse(r.body).code).toBe('upstream_timeout');
    expect(r.text).not.toContain(HUB_KEY);
    scope.done();
  } finally {
    await gw.close();
  }
});

it('a hub that refuses connections -> 503 upstream_unavailable', async () => {
  // A port that was free a moment ago: nothing listens there.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const gw = await start(hubConfig({ HUB_BASE_URL: `http://127.0.0.1:${port}` }), {
    register: (c) => c.register(UPSTREAM_CLIENT_OPTIONS, { useValue: { retry: { baseDelayMs: 1, maxDelayMs: 2 } } }),
  });
  try {
    const r = await postJson(`${gw.url}/v1/images/tasks`, NANO, auth(KEY_A));
    expect(r.status).toBe(503);
    expect(errorEnvelopeSchema.parse(r.body).code).toBe('upstream_unavailable');
    expect(r.text).not.toContain(HUB_KEY);
  } finally {
    await gw.close();
  }
});
