/**
 * Graceful shutdown: close() stops accepting new connections but lets an in-flight submit finish.
 */
import nock from 'nock';
import { auth, HUB, hubConfig, KEY_A, postJson, start } from './gateway-support';

afterEach(() => nock.cleanAll());

it('an in-flight submit completes with 201 while the gateway closes; afterwards nothing is accepted', async () => {
  const gw = await start(hubConfig());
  let reachedHub!: () => void;
  const hubReached = new Promise<void>((resolve) => (reachedHub = resolve));
  const scope = nock(HUB)
    .post('/hub/v1/tasks')
    .delay(300)
    .reply(201, () => {
      reachedHub();
      return { task_id: 'hub-slow', status: 'queued', ready: false };
    });
  const inFlight = postJson(`${gw.url}/v1/images/tasks`, { model: 'NanoBanana', prompt: 'a cube' }, auth(KEY_A));
  // Close only once the request is inside the bridge (the hub has it).
  await hubReached;
  const closing = gw.close();
  const res = await inFlight;
  expect(res.status).toBe(201);
  expect((res.body as { status: string }).status).toBe('queued');
  await closing;
  scope.done();
  await expect(fetch(`${gw.url}/healthz`)).rejects.toThrow();
});
